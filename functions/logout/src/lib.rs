//! `GET /api/logout` and `POST /api/logout` (authenticated): ends the
//! session and clears both cookies.
//!
//! With a cookie session both need the CSRF header, GET too (the one
//! exception to "GET needs no CSRF"): a link or an image on another site
//! must not sign anyone out. A CSRF refusal clears no cookie and ends
//! nothing. Bearer tokens are unaffected; POST needs no body.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::domain::activity::ActivityKind;
use shared::http::respond;
use shared::http::session::{NOT_AUTHENTICATED, authenticate_write, logout_cookies};
use shared::{ApiError, App, Reply};

/// Handles `GET /api/logout` and `POST /api/logout`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    let result = logout(&app, &req).await;
    // A dead session's 401 clears the cookies too: a browser holding a
    // dead session's cookies (expired, or ended by a reset) should not
    // keep them. Any other refusal (a missing CSRF header) leaves them.
    let dead_session = matches!(result, Err(ApiError::Unauthorized(NOT_AUTHENTICATED)));
    let mut resp = respond(result);
    if dead_session {
        for cookie in logout_cookies(&app.config) {
            if let Ok(value) = lambda_http::http::HeaderValue::from_str(&cookie) {
                resp.headers_mut()
                    .append(lambda_http::http::header::SET_COOKIE, value);
            }
        }
    }
    resp
}

async fn logout(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let caller = authenticate_write(app.jwt()?, &app.config, req, now).await?;
    let ended = app
        .store
        .delete_session(&caller.username, &caller.sid, now, ActivityKind::SignOut)
        .await?;
    if !ended {
        return Err(ApiError::Unauthorized(NOT_AUTHENTICATED));
    }
    let [access, csrf] = logout_cookies(&app.config);
    Ok(Reply::msg("user logout")
        .with_cookie(access)
        .with_cookie(csrf))
}
