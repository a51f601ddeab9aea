//! The Lambda authorizer a team attaches to its own HTTP API routes
//! (request authorizer, payload 2.0, simple responses; docs/INTEGRATION.md).
//!
//! It reads the bearer token, or the session cookie (then, for a method
//! other than GET/HEAD/OPTIONS, the CSRF header must match as on our own
//! routes), checks the signature, the claims and the key the token names,
//! then the session record (one DynamoDB read: a logged-out, reset or
//! deleted session is refused at once), and answers
//! `{"isAuthorized": true, "context": {"account_id": ..., "username": ..., "email_verified": ...}}`. A request it
//! refuses gets `{"isAuthorized": false}`: API Gateway answers 403 and the
//! request never reaches the team's backend. An outage (the store or the
//! keys failing) is not a refusal: the function fails, API Gateway answers
//! 500 and caches nothing, so a blip never locks a user out for the cache's
//! TTL.

use std::sync::Arc;

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use serde::Serialize;
use serde_json::json;
use shared::http::cookie_in;
use shared::http::session::{ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER, Credentials};
use shared::ports::UserRecord;
use shared::{ApiError, App};

/// The simple response format of HTTP API authorizers.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SimpleResponse {
    /// Whether API Gateway lets the request through.
    pub is_authorized: bool,
    /// What the backend finds in `requestContext.authorizer.lambda`.
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub context: serde_json::Value,
}

impl SimpleResponse {
    fn deny() -> Self {
        Self {
            is_authorized: false,
            context: serde_json::Value::Null,
        }
    }
}

/// The authorizer could not decide (the store or the keys failed): the
/// function fails, so API Gateway answers 500 and caches nothing. A denial
/// would be cached for the token for the cache's TTL, and a blip would lock
/// its user out for that long.
#[derive(Debug)]
pub struct Undecided;

impl std::fmt::Display for Undecided {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the authorizer could not decide")
    }
}

impl std::error::Error for Undecided {}

impl From<Undecided> for lambda_http::lambda_runtime::Diagnostic {
    fn from(err: Undecided) -> Self {
        Self {
            error_type: "Undecided".to_owned(),
            error_message: err.to_string(),
        }
    }
}

/// Decides one request: allowed (with the context) or denied, or
/// [`Undecided`] on an outage (logged, without the token). Never panics
/// into the runtime.
pub async fn authorize(
    app: Arc<App>,
    event: ApiGatewayV2CustomAuthorizerV2Request,
) -> Result<SimpleResponse, Undecided> {
    let route = event.route_key.clone().unwrap_or_default();
    let decided = tokio::spawn(async move { caller(&app, &event).await }).await;
    match decided {
        Ok(Ok(user)) => Ok(SimpleResponse {
            is_authorized: true,
            // Whether the address is verified, so that a backend can refuse
            // what needs a proven mailbox without a call of its own.
            // `account_id` is never reused: other services key data by it
            // (left out only for an account stored before accounts had ids).
            context: {
                let mut context = json!({
                    "username": user.username.as_str(),
                    "email_verified": user.is_email_verified,
                });
                if !user.account_id.is_legacy() {
                    context["account_id"] = json!(user.account_id.as_str());
                }
                context
            },
        }),
        Ok(Err(ApiError::Unavailable(cause) | ApiError::Internal(cause))) => {
            tracing::error!(
                error = format!("{cause:#}"),
                route,
                "authorizer: could not decide, failing (API Gateway answers 500, caches nothing)"
            );
            Err(Undecided)
        }
        Ok(Err(_)) => Ok(SimpleResponse::deny()),
        Err(join) => {
            tracing::error!(error = %join, route, "authorizer: task failed");
            Err(Undecided)
        }
    }
}

async fn caller(
    app: &App,
    event: &ApiGatewayV2CustomAuthorizerV2Request,
) -> Result<UserRecord, ApiError> {
    let header = |name: &str| event.headers.get(name).and_then(|v| v.to_str().ok());
    // An Authorization header that is not text is refused, never passed
    // over for the cookie (as on our own routes).
    if event
        .headers
        .get("authorization")
        .is_some_and(|v| v.to_str().is_err())
    {
        return Err(ApiError::Unauthorized("authentication required"));
    }
    // Payload 2.0 lists cookies apart; a `Cookie` header is read too.
    let cookie_values = || {
        event.cookies.iter().map(String::as_str).chain(
            event
                .headers
                .get_all("cookie")
                .iter()
                .filter_map(|v| v.to_str().ok()),
        )
    };
    let method = event.request_context.http.method.as_str();
    let credentials = Credentials {
        authorization: header("authorization"),
        access_cookie: cookie_in(cookie_values(), ACCESS_COOKIE),
        csrf_cookie: cookie_in(cookie_values(), CSRF_COOKIE),
        csrf_header: header(CSRF_HEADER),
        safe_method: matches!(method, "GET" | "HEAD" | "OPTIONS"),
    };
    let now = app.clock.now();
    let caller = credentials.verify(app.jwt()?, &app.config, now).await?;
    let user = app
        .store
        .session_user(&caller.username, &caller.sid, now)
        .await?
        .ok_or(ApiError::Unauthorized("authentication required"))?;
    Ok(user)
}
