//! The end-to-end harness: the dev server's app started in-process on a free
//! port, a client with one method per endpoint, and the mail it sent.

#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde_json::Value;
use shared::App;
use shared::adapters::ManualClock;
use shared::config::Config;
use shared::domain::{DeviceKey, FactorKey, JwtKeys};
use shared::ports::{KeyRing, Mailer};
use tokio::sync::oneshot;

mod backend;
mod flows;
mod peer;
mod repository;
mod resp;
mod text;

use backend::Switchable;
pub use backend::{Backend, MailSource, moto_endpoint, on_moto, unique};
pub use peer::Peer;
pub use repository::{repo, template_dynamodb_actions};
pub use resp::Resp;
pub use text::{jwt_claims, links};

/// A strong password accepted by the rules.
pub const PASSWORD: &str = "S3cure-Passw0rd!";
/// Another strong password.
pub const NEW_PASSWORD: &str = "N3w-Passw0rd!x";
/// The JWT secret of test apps.
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";
/// The device-token secret of test apps.
pub const DEVICE_SECRET: &str = "test-device-secret-test-device-secret-01";
/// The service tokens' keys of the test servers: one RSA key per test
/// binary (generating one takes a tenth of a second).
pub fn service_keys() -> shared::ports::ServiceKeyRing {
    use shared::domain::service_token::{ServiceKey, ServiceKeys};
    static PEM: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let pem = PEM.get_or_init(|| ServiceKey::generate_pem().unwrap());
    shared::ports::ServiceKeyRing::fixed(ServiceKeys {
        current: ServiceKey::from_pem(pem).unwrap(),
        previous: None,
        current_since: None,
    })
}

/// The second factors' key of the test servers (`MFA_SECRET`).
pub const MFA_SECRET: &str = "test-factor-secret-test-factor-secret-01";

/// Options for a test app.
#[derive(Default)]
pub struct Options {
    env: HashMap<String, String>,
    backend: Option<Backend>,
    keys: Option<KeyRing>,
}

impl Options {
    /// Sets a configuration variable.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Runs on this backend instead of the one `TEST_STORE` names.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Signs and verifies with these keys instead of `JWT_SECRET`'s.
    pub fn keys(mut self, keys: KeyRing) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Starts the app.
    pub async fn spawn(self) -> TestApp {
        TestApp::start(self).await
    }
}

/// The running app and a client for it.
pub struct TestApp {
    /// While true, every mail the app sends fails (503).
    pub mail_down: Arc<AtomicBool>,
    refused: Arc<std::sync::Mutex<Vec<String>>>,
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// The app the server runs (for handler-level tests).
    pub app: Arc<App>,
    /// The clock the app reads; tests move it.
    pub clock: Arc<ManualClock>,
    /// Where this app's mail can be read back.
    pub mail: MailSource,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl TestApp {
    /// Starts an app with the default configuration.
    pub async fn spawn() -> Self {
        Self::options().spawn().await
    }

    /// Options for an app with a non-default configuration.
    pub fn options() -> Options {
        Options::default()
    }

    async fn start(options: Options) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut env = options.env;
        env.entry("PUBLIC_BASE_URL".into())
            .or_insert_with(|| base.clone());
        // Tests that count mail do not count the new-sign-in mail; the
        // tests of that mail turn it on.
        env.entry("NEW_SIGNIN_MAIL".into())
            .or_insert_with(|| "false".to_owned());
        let backend = match options.backend {
            Some(b) => b,
            None => Backend::from_env().await,
        };
        if let MailSource::Moto { sender, .. } = &backend.mail {
            env.entry("MAIL_FROM".into())
                .or_insert_with(|| sender.clone());
        }
        let config = Config::from_lookup(|k| env.get(k).cloned()).unwrap();
        let clock = Arc::new(ManualClock::new(1_790_000_000));
        let secret = env
            .get("JWT_SECRET")
            .cloned()
            .unwrap_or_else(|| JWT_SECRET.to_owned());
        let previous = env
            .get("JWT_PREVIOUS_SECRET")
            .cloned()
            .map(secrecy::SecretString::from);
        let keys = match options.keys {
            Some(keys) => keys,
            None => {
                KeyRing::fixed(JwtKeys::with_previous(&secret.into(), previous.as_ref()).unwrap())
            }
        };
        let device = env
            .get("DEVICE_SECRET")
            .cloned()
            .unwrap_or_else(|| DEVICE_SECRET.to_owned());
        let mail_down = Arc::new(AtomicBool::new(false));
        let refused = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mailer: Arc<dyn Mailer> = Arc::new(Switchable {
            inner: backend.mailer,
            down: mail_down.clone(),
            refused: refused.clone(),
        });
        let mut app = App::new(config, backend.store, mailer, clock.clone(), Some(keys))
            .with_device_key(DeviceKey::new(&device.into()).unwrap())
            .with_factor_key(FactorKey::new(&MFA_SECRET.to_owned().into()).unwrap())
            .with_service_keys(service_keys());
        // Behind edge protection: the secret origin header's value.
        if let Some(secret) = env.get("EDGE_ORIGIN_SECRET") {
            app = app
                .with_edge_origin(shared::domain::EdgeOrigin::new(&secret.clone().into()).unwrap());
        }
        let app = Arc::new(app);
        let (tx, rx) = oneshot::channel::<()>();
        let options = dev_server::Options {
            cors_origins: env
                .get("CORS_ORIGINS")
                .map(|v| v.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
            // A test knob, not a server setting.
            header_read_timeout: env
                .get("HEADER_READ_TIMEOUT_MS")
                .map(|ms| std::time::Duration::from_millis(ms.parse().unwrap()))
                .unwrap_or(dev_server::Options::default().header_read_timeout),
            // The dev server's mailbox page as `STORE=dynamodb` serves it.
            mailbox: (env.get("DEV_MAILBOX").map(String::as_str) == Some("ses"))
                .then_some(dev_server::DevMailbox::Ses),
        };
        tokio::spawn(dev_server::serve(listener, app.clone(), options, async {
            let _ = rx.await;
        }));
        Self {
            mail_down,
            refused,
            base,
            app,
            clock,
            mail: backend.mail,
            client: reqwest::Client::new(),
            shutdown: Some(tx),
        }
    }

    /// From now on every mail to `address` fails, as a recipient the mail
    /// service refuses would.
    pub fn fail_mail_to(&self, address: &str) {
        self.refused.lock().unwrap().push(address.to_owned());
    }

    /// A client whose requests come from `ip` (a loopback address such as
    /// `127.0.0.2`): the server counts it as a client of its own.
    pub fn peer(&self, ip: &str) -> Peer<'_> {
        let client = reqwest::Client::builder()
            .local_address(ip.parse::<std::net::IpAddr>().unwrap())
            .build()
            .unwrap();
        Peer { app: self, client }
    }

    /// Sends a request and parses the JSON envelope.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        assert_eq!(
            headers.get("content-type").map(|v| v.to_str().unwrap()),
            Some("application/json"),
            "status {status}: {text}"
        );
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("not JSON (status {status}): {text}"));
        Resp {
            status,
            headers,
            body,
        }
    }

    /// A request builder for `method path`.
    pub fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        self.client.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", self.base),
        )
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.request("GET", path)).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(self.request("POST", path).json(body)).await
    }

    /// `POST path` with a raw body.
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> Resp {
        self.send(
            self.request("POST", path)
                .header("content-type", "application/json")
                .body(body),
        )
        .await
    }

    /// `GET path` with `Authorization: Bearer token`.
    pub async fn get_bearer(&self, path: &str, token: &str) -> Resp {
        self.send(self.request("GET", path).bearer_auth(token))
            .await
    }

    /// `POST path` with a JSON body and `Authorization: Bearer token`.
    pub async fn post_bearer(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.send(self.request("POST", path).bearer_auth(token).json(body))
            .await
    }

    /// `DELETE path` with `Authorization: Bearer token`.
    pub async fn delete_bearer(&self, path: &str, token: &str) -> Resp {
        self.send(self.request("DELETE", path).bearer_auth(token))
            .await
    }

    /// `GET path` with a `Cookie` header.
    pub async fn get_cookie(&self, path: &str, cookie: &str) -> Resp {
        self.send(self.request("GET", path).header("cookie", cookie))
            .await
    }
}
