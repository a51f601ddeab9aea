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
use crate::domain::JwtKeys;
use crate::ports::{App, Clock, KeyRing};

/// What a function uses, so that each cold start loads only that.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// The DynamoDB table (`TABLE_NAME`).
    pub table: bool,
    /// SES (`MAIL_FROM`).
    pub mail: bool,
    /// The JWT secret (`JWT_SECRET_ARN`, or `JWT_SECRET` locally).
    pub jwt: bool,
}

/// Builds the app from the environment: configuration, SDK clients, and the
/// JWT secret read from Secrets Manager when `JWT_SECRET_ARN` is set.
pub async fn app_from_env(sdk: &SdkConfig, needs: Needs) -> anyhow::Result<App> {
    let config = Config::from_env()?;
    let table = std::env::var("TABLE_NAME").unwrap_or_default();
    if needs.table && table.trim().is_empty() {
        anyhow::bail!("TABLE_NAME is not set");
    }
    if needs.mail && std::env::var("MAIL_FROM").map_or(true, |v| v.trim().is_empty()) {
        anyhow::bail!("MAIL_FROM is not set");
    }
    let jwt = if needs.jwt {
        Some(key_ring(sdk).await?)
    } else {
        None
    };
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), table);
    let mailer = SesMailer::new(
        aws_sdk_sesv2::Client::new(sdk),
        config.mail_from.to_string(),
        config.ses_configuration_set.clone(),
    );
    Ok(App::new(
        config,
        Arc::new(store),
        Arc::new(mailer),
        Arc::new(SystemClock),
        jwt,
    ))
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
/// function needs; logs how long it took.
pub async fn cold_start(needs: Needs) -> Result<Arc<App>, lambda_http::Error> {
    crate::setup::telemetry::init_lambda();
    let started = std::time::Instant::now();
    let sdk = crate::adapters::aws::sdk_config().await;
    let app = Arc::new(app_from_env(&sdk, needs).await.map_err(|e| {
        tracing::error!(error = format!("{e:#}"), "cold start failed");
        e
    })?);
    tracing::info!(init_ms = started.elapsed().as_millis() as u64, "ready");
    Ok(app)
}

/// Runs a function: `main` is one call to this.
pub async fn run<F, Fut>(needs: Needs, handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Arc<App>, Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let app = cold_start(needs).await?;
    lambda_http::run(service_fn(|req: Request| {
        // The route key ("GET /api/confirm_email/{token}"), never the raw
        // path: paths can hold one-time tokens.
        let route = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.clone(),
            _ => None,
        };
        let started = std::time::Instant::now();
        let fut = crate::http::guard(handler(app.clone(), req));
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
