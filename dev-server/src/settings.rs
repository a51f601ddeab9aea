//! Dev server configuration: which store and mailer, where, and the secret.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use shared::App;

use crate::DevMailbox;
use shared::config::Config;
use shared::domain::service_token::{ServiceKey, ServiceKeys};
use shared::domain::{DeviceKey, FactorKey, JwtKeys};
use shared::{adapters::SystemClock, ports::Clock, ports::KeyRing, ports::ServiceKeyRing};
use shared::{
    adapters::{DynamoStore, MemoryStore},
    ports::UserStore,
};
use shared::{
    adapters::{OutboxMailer, SesMailer},
    ports::Mailer,
};

/// What the dev server was asked to run.
pub struct Settings {
    /// `PORT` (3000).
    pub port: u16,
    /// `STORE`: `memory` (default) or `dynamodb`.
    pub store: String,
    /// `OUTBOX_DIR` (`outbox`).
    pub outbox_dir: PathBuf,
    /// `EVENTS_FILE`: where the memory store's account events go, as JSON
    /// lines (unset: the log only).
    pub events_file: Option<PathBuf>,
    /// `JWT_SECRET`; a random one is generated when unset.
    pub jwt_secret: Option<SecretString>,
    /// `JWT_PREVIOUS_SECRET`: the key a rotation replaced (verifies only).
    pub jwt_previous_secret: Option<SecretString>,
    /// `DEVICE_SECRET`: signs device tokens; a random one when unset.
    pub device_secret: Option<SecretString>,
    /// `MFA_SECRET`: the key of the second factors at rest; a random one
    /// when unset (TOTP enrolments then end with the server).
    pub mfa_secret: Option<SecretString>,
    /// `SERVICE_KEY_PEM` (and `SERVICE_KEY_PREVIOUS_PEM`): the service
    /// tokens' RS256 key; a new one each run when unset.
    pub service_key_pem: Option<SecretString>,
    /// `SERVICE_KEY_PREVIOUS_PEM`: published in the JWKS beside it.
    pub service_key_previous_pem: Option<SecretString>,
    /// `CREATE_TABLE=1`: create the DynamoDB table first if it does not exist.
    pub create_table: bool,
    /// The shared configuration (PUBLIC_BASE_URL defaults to this server).
    pub config: Config,
    /// `CORS_ORIGINS`: comma-separated browser origins allowed to call the API.
    pub cors_origins: Vec<String>,
}

impl Settings {
    /// Reads the settings through `lookup` (the environment in `main`).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let port = match get("PORT") {
            Some(p) => p
                .trim()
                .parse::<u16>()
                .context("PORT must be a port number")?,
            None => 3000,
        };
        let store = get("STORE")
            .unwrap_or_else(|| "memory".to_owned())
            .to_ascii_lowercase();
        if store != "memory" && store != "dynamodb" {
            bail!("STORE must be memory or dynamodb");
        }
        let default_base = format!("http://127.0.0.1:{port}");
        let config = Config::from_lookup(|name| {
            get(name).or_else(|| (name == "PUBLIC_BASE_URL").then(|| default_base.clone()))
        })?;
        Ok(Self {
            port,
            store,
            outbox_dir: PathBuf::from(get("OUTBOX_DIR").unwrap_or_else(|| "outbox".to_owned())),
            events_file: get("EVENTS_FILE").map(PathBuf::from),
            jwt_secret: get("JWT_SECRET").map(SecretString::from),
            jwt_previous_secret: get("JWT_PREVIOUS_SECRET").map(SecretString::from),
            device_secret: get("DEVICE_SECRET").map(SecretString::from),
            mfa_secret: get("MFA_SECRET").map(SecretString::from),
            service_key_pem: get("SERVICE_KEY_PEM").map(SecretString::from),
            service_key_previous_pem: get("SERVICE_KEY_PREVIOUS_PEM").map(SecretString::from),
            cors_origins: get("CORS_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().trim_end_matches('/').to_owned())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            create_table: matches!(get("CREATE_TABLE").as_deref(), Some("1" | "true" | "yes")),
            config,
        })
    }
}

/// What [`build_app`] made.
pub struct Built {
    /// The app the handlers run on.
    pub app: App,
    /// Lines to print at start.
    pub notes: Vec<String>,
    /// Where the mail goes, for `/dev/mail`.
    pub mailbox: DevMailbox,
    /// The memory store, whose outbox of account events the server
    /// drains (`None` on DynamoDB: the table's stream carries them).
    pub events: Option<Arc<MemoryStore>>,
}

/// Builds the app the settings describe.
pub async fn build_app(settings: Settings) -> anyhow::Result<Built> {
    let mut notes = Vec::new();
    let random = || -> anyhow::Result<SecretString> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random source: {e}"))?;
        Ok(SecretString::from(URL_SAFE_NO_PAD.encode(bytes)))
    };
    let secret = match settings.jwt_secret {
        Some(secret) => secret,
        None => {
            notes.push(
                "JWT_SECRET is not set: using a random secret, so sessions end when the server stops"
                    .to_owned(),
            );
            random()?
        }
    };
    let device_secret = match settings.device_secret {
        Some(secret) => secret,
        // Quietly: devices are trusted again at their next sign-in.
        None => random()?,
    };
    let device_key = DeviceKey::new(&device_secret).context("DEVICE_SECRET: at least 32 bytes")?;
    let mfa_secret = match settings.mfa_secret {
        Some(secret) => secret,
        None => {
            if settings.store != "memory" {
                notes.push(
                    "MFA_SECRET is not set: using a random key, so two-factor enrolments stop working when the server stops"
                        .to_owned(),
                );
            }
            random()?
        }
    };
    let factor_key = FactorKey::new(&mfa_secret).context("MFA_SECRET: at least 32 bytes")?;
    let service_keys = {
        use secrecy::ExposeSecret;
        let current = match &settings.service_key_pem {
            Some(pem) => ServiceKey::from_pem(pem.expose_secret()).context("SERVICE_KEY_PEM")?,
            None => {
                notes.push(
                    "SERVICE_KEY_PEM is not set: service tokens are signed with a new key each run"
                        .to_owned(),
                );
                ServiceKey::from_pem(&ServiceKey::generate_pem()?)?
            }
        };
        let previous = settings
            .service_key_previous_pem
            .as_ref()
            .map(|pem| ServiceKey::from_pem(pem.expose_secret()))
            .transpose()
            .context("SERVICE_KEY_PREVIOUS_PEM")?;
        ServiceKeyRing::fixed(ServiceKeys {
            current,
            previous,
            current_since: None,
        })
    };
    let keys = JwtKeys::with_previous(&secret, settings.jwt_previous_secret.as_ref())
        .context("JWT_SECRET / JWT_PREVIOUS_SECRET")?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut events = None;
    let (store, mailer, mailbox): (Arc<dyn UserStore>, Arc<dyn Mailer>, DevMailbox) =
        match settings.store.as_str() {
            "memory" => {
                let outbox = OutboxMailer::new(&settings.outbox_dir).with_context(|| {
                    format!("create OUTBOX_DIR {}", settings.outbox_dir.display())
                })?;
                let dir =
                    std::fs::canonicalize(outbox.dir()).unwrap_or_else(|_| outbox.dir().to_owned());
                notes.push("store: in-memory (data is lost when the server stops)".to_owned());
                notes.push(format!("outbox: {}", dir.display()));
                notes.push(format!(
                    "mailbox: http://127.0.0.1:{}{}",
                    settings.port,
                    crate::mailbox::PAGE
                ));
                match &settings.events_file {
                    Some(file) => notes.push(format!("account events: {}", file.display())),
                    None => notes.push("account events: the log (EVENTS_FILE unset)".to_owned()),
                }
                let outbox = Arc::new(outbox);
                let store = Arc::new(MemoryStore::new());
                events = Some(store.clone());
                (store, outbox.clone(), DevMailbox::Outbox(outbox))
            }
            _ => {
                let table = std::env::var("TABLE_NAME")
                    .ok()
                    .filter(|t| !t.trim().is_empty())
                    .context("STORE=dynamodb needs TABLE_NAME")?;
                let sdk = shared::adapters::aws::sdk_config().await?;
                let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &table);
                if settings.create_table {
                    store
                        .ensure_table()
                        .await
                        .with_context(|| format!("create table {table}"))?;
                    notes.push(format!("table {table} is ready (CREATE_TABLE=1)"));
                }
                notes.push(format!("store: DynamoDB table {table}"));
                notes.push(format!("mail: SES v2 from {}", settings.config.mail_from));
                let mailer = SesMailer::new(
                    aws_sdk_sesv2::Client::new(&sdk),
                    settings.config.mail_from.to_string(),
                    settings.config.ses_configuration_set.clone(),
                );
                (Arc::new(store), Arc::new(mailer), DevMailbox::Ses)
            }
        };
    Ok(Built {
        app: App::new(
            settings.config,
            store,
            mailer,
            clock,
            Some(KeyRing::fixed(keys)),
        )
        .with_device_key(device_key)
        .with_factor_key(factor_key)
        .with_service_keys(service_keys),
        notes,
        mailbox,
        events,
    })
}
