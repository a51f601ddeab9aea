//! Lambda wiring shared by every function's `main.rs`: tracing, configuration,
//! clients and secret loaded once per cold start, then `lambda_http::run`.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use aws_config::SdkConfig;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response, service_fn};
use secrecy::SecretString;

use crate::adapters::DynamoStore;
use crate::adapters::SecretsManagerKeys;
use crate::adapters::SesMailer;
use crate::adapters::SystemClock;
use crate::config::Config;
use crate::domain::service_token::{ServiceKey, ServiceKeys};
use crate::domain::{DeviceKey, EdgeOrigin, Email, FactorKey, JwtKeys};
use crate::ports::{App, Clock, KeyRing, MailError, Mailer, ServiceKeyRing, ServiceKeySource};

/// What a function uses besides its table, as [`run`]'s `USES`: nothing else.
pub const TABLE: u8 = 0;
/// SES (`MAIL_FROM`): the function sends mail.
pub const MAIL: u8 = 1;
/// The JWT keys (`JWT_SECRET_ARN`, or `JWT_SECRET` locally): the function
/// issues or checks sessions.
pub const JWT: u8 = 2;
/// The device-token key (`DEVICE_SECRET_ARN`, or `DEVICE_SECRET` locally):
/// the function signs users in (login).
pub const DEVICE: u8 = 4;
/// The function keys limits on the client's address (per-IP windows, mail
/// budgets), or its route is one the edge's web ACL rate-limits per client
/// (a reset link's): behind edge protection it reads the secret origin
/// header's values (`EDGE_ORIGIN_SECRET_ARN`, its current and previous
/// versions; or `EDGE_ORIGIN_SECRET` in tests) to believe CloudFront's
/// viewer address, and refuses (403) every request without the header,
/// which went around CloudFront. Without either variable, nothing is read
/// and nothing refused.
pub const CLIENT: u8 = 8;
/// The second factors' key (`MFA_SECRET_ARN`, or `MFA_SECRET` locally):
/// the function seals TOTP secrets or checks codes.
pub const MFA: u8 = 16;
/// The service tokens' key pair (`SERVICE_KEY_ARN`: its current and
/// previous versions, or `SERVICE_KEY_PEM` and `SERVICE_KEY_PREVIOUS_PEM`
/// locally): the function mints service tokens or publishes the JWKS.
pub const SERVICE: u8 = 32;

/// Builds the app from the environment: configuration, the DynamoDB store,
/// and SES and the JWT keys when `USES` names them. What `USES` leaves out
/// is never built, so the function's binary does not even link it (a
/// function without [`MAIL`] holds no SES client, one without [`JWT`] no
/// Secrets Manager client).
pub async fn app_from_env<const USES: u8>(sdk: &SdkConfig) -> anyhow::Result<App> {
    let config = Config::from_env()?;
    let table = std::env::var("TABLE_NAME").unwrap_or_default();
    if table.trim().is_empty() {
        anyhow::bail!("TABLE_NAME is not set");
    }
    let mailer: Arc<dyn Mailer> = if USES & MAIL != 0 {
        if std::env::var("MAIL_FROM").map_or(true, |v| v.trim().is_empty()) {
            anyhow::bail!("MAIL_FROM is not set");
        }
        Arc::new(SesMailer::new(
            aws_sdk_sesv2::Client::new(sdk),
            config.mail_from.to_string(),
            config.ses_configuration_set.clone(),
        ))
    } else {
        Arc::new(NoMail)
    };
    // The secrets at once: a function with several waits for one round trip.
    let (jwt, device, edge, factors, service) = tokio::join!(
        async {
            if USES & JWT != 0 {
                key_ring(sdk).await.map(Some)
            } else {
                Ok(None)
            }
        },
        async {
            if USES & DEVICE != 0 {
                device_key(sdk).await.map(Some)
            } else {
                Ok(None)
            }
        },
        async {
            if USES & CLIENT != 0 {
                edge_origin(sdk).await
            } else {
                Ok(None)
            }
        },
        async {
            if USES & MFA != 0 {
                factor_key(sdk).await.map(Some)
            } else {
                Ok(None)
            }
        },
        async {
            if USES & SERVICE != 0 {
                service_keys(sdk).await.map(Some)
            } else {
                Ok(None)
            }
        }
    );
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), table);
    let app = App::new(config, Arc::new(store), mailer, Arc::new(SystemClock), jwt?);
    let app = match device? {
        Some(key) => app.with_device_key(key),
        None => app,
    };
    let app = match factors? {
        Some(key) => app.with_factor_key(key),
        None => app,
    };
    let app = match service? {
        Some(keys) => app.with_service_keys(keys),
        None => app,
    };
    Ok(match edge? {
        Some(edge) => app.with_edge_origin(edge),
        None => app,
    })
}

/// Behind edge protection, the secret origin header's values: the current
/// and previous versions of the secret `EDGE_ORIGIN_SECRET_ARN` names, else
/// `EDGE_ORIGIN_SECRET`; `None` when neither is set (no edge protection:
/// API Gateway's source IP is the client's).
async fn edge_origin(sdk: &SdkConfig) -> anyhow::Result<Option<EdgeOrigin>> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let secret = match (var("EDGE_ORIGIN_SECRET_ARN"), var("EDGE_ORIGIN_SECRET")) {
        (Some(arn), _) => SecretsManagerKeys::new(aws_sdk_secretsmanager::Client::new(sdk), arn)
            .current_and_previous()
            .await
            .context("edge origin secret")?,
        (None, Some(secret)) => (SecretString::from(secret), None),
        (None, None) => return Ok(None),
    };
    let (current, previous) = secret;
    Ok(Some(
        EdgeOrigin::with_previous(&current, previous.as_ref()).context("edge origin secret")?,
    ))
}

/// The device-token key: the secret `DEVICE_SECRET_ARN` names (its current
/// value; it is not rotated: rotating it would untrust every device), else
/// `DEVICE_SECRET`.
async fn device_key(sdk: &SdkConfig) -> anyhow::Result<DeviceKey> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let secret = match var("DEVICE_SECRET_ARN") {
        Some(arn) => SecretsManagerKeys::new(aws_sdk_secretsmanager::Client::new(sdk), arn)
            .current_value()
            .await
            .context("device secret")?,
        None => SecretString::from(
            var("DEVICE_SECRET").context("neither DEVICE_SECRET_ARN nor DEVICE_SECRET is set")?,
        ),
    };
    DeviceKey::new(&secret).context("device secret: at least 32 bytes")
}

/// The second factors' key: derived from the secret `MFA_SECRET_ARN`
/// names (its current value; never rotated: the sealed secrets and hashed
/// codes depend on it), else `MFA_SECRET`.
async fn factor_key(sdk: &SdkConfig) -> anyhow::Result<FactorKey> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let secret = match var("MFA_SECRET_ARN") {
        Some(arn) => SecretsManagerKeys::new(aws_sdk_secretsmanager::Client::new(sdk), arn)
            .current_value()
            .await
            .context("factor secret")?,
        None => SecretString::from(
            var("MFA_SECRET").context("neither MFA_SECRET_ARN nor MFA_SECRET is set")?,
        ),
    };
    FactorKey::new(&secret).context("factor secret: at least 32 bytes")
}

/// The service tokens' keys: the current and previous versions of the
/// secret `SERVICE_KEY_ARN` names (PKCS#8 PEMs; the rotation makes new
/// ones), else `SERVICE_KEY_PEM` and `SERVICE_KEY_PREVIOUS_PEM`.
async fn service_keys(sdk: &SdkConfig) -> anyhow::Result<ServiceKeyRing> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(arn) = var("SERVICE_KEY_ARN") {
        let source = Arc::new(ServiceKeySecret(SecretsManagerKeys::new(
            aws_sdk_secretsmanager::Client::new(sdk),
            arn,
        )));
        let keys = source.load().await.context("service key")?;
        return Ok(ServiceKeyRing::refreshing(keys, source, SystemClock.now()));
    }
    let (current, previous) = (
        SecretString::from(
            var("SERVICE_KEY_PEM").context("neither SERVICE_KEY_ARN nor SERVICE_KEY_PEM is set")?,
        ),
        var("SERVICE_KEY_PREVIOUS_PEM").map(SecretString::from),
    );
    Ok(ServiceKeyRing::fixed(service_keys_of(
        &current,
        previous.as_ref(),
    )?))
}

/// The service keys a secret holds: its current and previous versions.
struct ServiceKeySecret(SecretsManagerKeys);

#[async_trait::async_trait]
impl ServiceKeySource for ServiceKeySecret {
    async fn load(&self) -> anyhow::Result<ServiceKeys> {
        let (current, since, previous) = self.0.current_since_and_previous().await?;
        let mut keys = service_keys_of(&current, previous.as_ref())?;
        keys.current_since = since;
        Ok(keys)
    }
}

fn service_keys_of(
    current: &SecretString,
    previous: Option<&SecretString>,
) -> anyhow::Result<ServiceKeys> {
    use secrecy::ExposeSecret;
    Ok(ServiceKeys {
        current: ServiceKey::from_pem(current.expose_secret()).context("service key")?,
        // A previous version that is not a key (the secret's first value,
        // before its first rotation) is not published.
        previous: previous.and_then(|p| ServiceKey::from_pem(p.expose_secret()).ok()),
        current_since: None,
    })
}

/// The mailer of a function that sends no mail: never called (its routes
/// send none); a 500 rather than a silent drop if a change ever did.
struct NoMail;

#[async_trait::async_trait]
impl Mailer for NoMail {
    async fn send(&self, _email: &Email) -> Result<(), MailError> {
        Err(MailError {
            transient: false,
            cause: anyhow::anyhow!("this function is deployed without MAIL"),
        })
    }
}

/// The signing keys: from Secrets Manager when `JWT_SECRET_ARN` is set (the
/// current key read now; the previous one, and newer ones after a rotation,
/// when a token names them), else `JWT_SECRET` and `JWT_PREVIOUS_SECRET`.
async fn key_ring(sdk: &SdkConfig) -> anyhow::Result<KeyRing> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(arn) = var("JWT_SECRET_ARN") {
        let source = SecretsManagerKeys::new(aws_sdk_secretsmanager::Client::new(sdk), arn);
        let keys = source.load_current().await.context("JWT secret")?;
        let now = SystemClock.now();
        return Ok(KeyRing::refreshing(keys, Arc::new(source), now));
    }
    let Some(secret) = var("JWT_SECRET") else {
        anyhow::bail!("neither JWT_SECRET_ARN nor JWT_SECRET is set");
    };
    let previous = var("JWT_PREVIOUS_SECRET").map(SecretString::from);
    let keys = JwtKeys::with_previous(&SecretString::from(secret), previous.as_ref())
        .context("JWT_SECRET / JWT_PREVIOUS_SECRET")?;
    Ok(KeyRing::fixed(keys))
}

/// A cold start: logging, the SDK configuration, and the app with what the
/// function uses; logs how long it took.
pub async fn cold_start<const USES: u8>() -> Result<Arc<App>, lambda_http::Error> {
    crate::setup::telemetry::init_lambda();
    let started = std::time::Instant::now();
    let app = async {
        let sdk = crate::adapters::aws::sdk_config().await?;
        app_from_env::<USES>(&sdk).await
    }
    .await
    .map_err(|e| {
        tracing::error!(error = format!("{e:#}"), "cold start failed");
        e
    })?;
    tracing::info!(init_ms = started.elapsed().as_millis() as u64, "ready");
    Ok(Arc::new(app))
}

/// Runs a function on its table, with what `USES` adds ([`TABLE`] for
/// nothing more, or [`MAIL`] and [`JWT`], or both: `{ MAIL | JWT }`). `main`
/// is one call to this.
pub async fn run<const USES: u8, F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Arc<App>, Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let app = cold_start::<USES>().await?;
    serve(|req| {
        // Behind edge protection, a request that did not come through
        // CloudFront is refused before its handler is even called.
        let answer = match crate::http::limits::from_the_edge(&app, &req) {
            // Every change the handler makes is stamped with this request.
            Ok(()) => {
                Ok(crate::http::activity::trail_of(&app, &req).scope(handler(app.clone(), req)))
            }
            Err(err) => Err(crate::http::error_response(&err)),
        };
        async move {
            match answer {
                Ok(handled) => handled.await,
                Err(refused) => refused,
            }
        }
    })
    .await
}

/// Runs a function that needs only the service tokens' keys (the JWKS): no
/// table, no DynamoDB client; Secrets Manager is read at the cold start and
/// when the keys are older than five minutes.
pub async fn run_with_service_keys<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Arc<ServiceKeyRing>, Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    crate::setup::telemetry::init_lambda();
    let keys = async {
        let sdk = crate::adapters::aws::sdk_config().await?;
        service_keys(&sdk).await
    }
    .await
    .map_err(|e| {
        tracing::error!(error = format!("{e:#}"), "cold start failed");
        e
    })?;
    let keys = Arc::new(keys);
    serve(|req| handler(keys.clone(), req)).await
}

/// Runs a function that needs no table, keys or clients (the index and the
/// pages): no SDK configuration at its cold start, no SDK in its binary.
pub async fn run_static<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    crate::setup::telemetry::init_lambda();
    serve(handler).await
}

/// The Lambda loop: each request through the panic guard, one log line each.
async fn serve<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    lambda_http::run(service_fn(|req: Request| {
        // The route key ("GET /api/confirm_email/{token}"), never the raw
        // path: paths can hold one-time tokens.
        let route = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.clone(),
            _ => None,
        };
        let started = std::time::Instant::now();
        let fut = crate::http::guard(handler(req));
        async move {
            let resp = fut.await;
            tracing::info!(
                route = route.as_deref().unwrap_or("-"),
                status = resp.status().as_u16(),
                ms = started.elapsed().as_millis() as u64,
                "request"
            );
            Ok::<_, Infallible>(resp)
        }
    }))
    .await
}
