//! Where a test app keeps its data and sends its mail: the memory store and
//! an outbox folder, or DynamoDB and SES on moto (`TEST_STORE=dynamodb`).

use std::sync::Arc;

use serde_json::Value;
use shared::adapters::{DynamoStore, MemoryStore, OutboxMailer, SesMailer};
use std::sync::atomic::{AtomicBool, Ordering};

use shared::ports::{MailError, Mailer, UserStore};

/// Where a test app keeps its data and sends its mail.
pub struct Backend {
    /// The store.
    pub store: Arc<dyn UserStore>,
    /// The mailer.
    pub mailer: Arc<dyn Mailer>,
    /// Where sent mail can be read.
    pub mail: MailSource,
    /// The DynamoDB table, if any.
    pub table: Option<String>,
}

/// Where sent mail can be read back.
pub enum MailSource {
    /// `.eml` files in a temporary folder.
    Outbox(tempfile::TempDir),
    /// moto's SES, filtered by this app's own sender address.
    Moto {
        /// moto's endpoint.
        endpoint: String,
        /// The unique `MAIL_FROM` of this app.
        sender: String,
    },
}

impl MailSource {
    /// Every message, oldest first.
    pub async fn messages(&self) -> Vec<String> {
        match self {
            Self::Outbox(dir) => {
                let mut files: Vec<_> = std::fs::read_dir(dir.path())
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                    .collect();
                files.sort();
                files
                    .into_iter()
                    .map(|p| std::fs::read_to_string(p).unwrap())
                    .collect()
            }
            Self::Moto { endpoint, sender } => {
                // scripts/moto_server.py serves just the mail; a plain
                // moto_server only the dump of every backend.
                let resp = reqwest::get(format!("{endpoint}/_test/ses/raw-messages"))
                    .await
                    .unwrap();
                let messages: Value = if resp.status().is_success() {
                    resp.json().await.unwrap()
                } else {
                    let data: Value = reqwest::get(format!("{endpoint}/moto-api/data.json"))
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    data["ses"]["RawMessage"].clone()
                };
                messages
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|m| m["source"].as_str() == Some(sender.as_str()))
                    .map(|m| m["raw_data"].as_str().unwrap().to_owned())
                    .collect()
            }
        }
    }
}

/// True when the tests run against DynamoDB and SES on moto (`TEST_STORE=dynamodb`).
pub fn on_moto() -> bool {
    std::env::var("TEST_STORE").is_ok_and(|s| s == "dynamodb")
}

/// The moto endpoint (`AWS_ENDPOINT_URL`), or `None` when moto is not running.
/// With `REQUIRE_MOTO=1` (set by the test script) a missing moto fails the test.
pub fn moto_endpoint() -> Option<String> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|e| !e.is_empty());
    if endpoint.is_none() && std::env::var("REQUIRE_MOTO").is_ok_and(|v| v == "1") {
        panic!("REQUIRE_MOTO=1 but AWS_ENDPOINT_URL is not set");
    }
    endpoint
}

static UNIQUE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A name no other test (in any process) uses.
pub fn unique(prefix: &str) -> String {
    let n = UNIQUE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{}-{n}-{nanos}", std::process::id())
}

static SES_READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

impl Backend {
    /// The in-memory store and an outbox in a temporary folder.
    pub fn memory() -> Self {
        let outbox = tempfile::tempdir().unwrap();
        Self {
            store: Arc::new(MemoryStore::new()),
            mailer: Arc::new(OutboxMailer::new(outbox.path()).unwrap()),
            mail: MailSource::Outbox(outbox),
            table: None,
        }
    }

    /// The backend `TEST_STORE` names (memory unless `dynamodb`).
    pub async fn from_env() -> Self {
        if on_moto() {
            Self::moto(None).await
        } else {
            Self::memory()
        }
    }

    /// A fresh table and SES on moto; `dynamodb` overrides the DynamoDB client.
    pub async fn moto(dynamodb: Option<aws_sdk_dynamodb::Client>) -> Self {
        let endpoint = moto_endpoint().expect("moto is not running (AWS_ENDPOINT_URL unset)");
        let sdk = shared::adapters::aws::sdk_config()
            .await
            .expect("SDK configuration");
        let sesv2 = aws_sdk_sesv2::Client::new(&sdk);
        SES_READY
            .get_or_init(|| async {
                // moto only sends from verified identities.
                let _ = sesv2
                    .create_email_identity()
                    .email_identity("example.com")
                    .send()
                    .await;
            })
            .await;
        let table = unique("e2e");
        let store = DynamoStore::new(
            dynamodb.unwrap_or_else(|| aws_sdk_dynamodb::Client::new(&sdk)),
            &table,
        );
        store.ensure_table().await.unwrap();
        let sender = format!("{}@example.com", unique("noreply"));
        Self {
            store: Arc::new(store),
            mailer: Arc::new(SesMailer::new(sesv2, sender.clone(), None)),
            mail: MailSource::Moto { endpoint, sender },
            table: Some(table),
        }
    }
}

/// The app's mailer, which a test can take down (SES failing): every send
/// then fails as a transient outage would.
pub(crate) struct Switchable {
    pub(crate) inner: Arc<dyn Mailer>,
    pub(crate) down: Arc<AtomicBool>,
    pub(crate) refused: Arc<std::sync::Mutex<Vec<String>>>,
}

#[async_trait::async_trait]
impl Mailer for Switchable {
    async fn send(&self, email: &shared::domain::Email) -> Result<(), MailError> {
        let refused = self.refused.lock().unwrap().contains(&email.to);
        if self.down.load(Ordering::SeqCst) || refused {
            return Err(MailError {
                transient: true,
                cause: anyhow::anyhow!("mail is down (test)"),
            });
        }
        self.inner.send(email).await
    }
}
