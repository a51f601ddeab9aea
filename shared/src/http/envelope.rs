//! Answers: the one JSON envelope, errors mapped to it, panics caught into
//! it, and the answer for requests no route serves.

use std::borrow::Cow;
use std::future::Future;

use lambda_http::http::header::{
    ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER, SET_COOKIE,
};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::Value;

use crate::error::{ApiError, UNAVAILABLE_RETRY_AFTER};
use crate::http::routes::{RouteMatch, match_route};

/// The one envelope every response body uses.
#[derive(Debug, Serialize)]
struct Envelope<'a> {
    status: &'static str,
    msg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Value>,
}

/// A successful answer: `{"status":"OK","msg":..,"data":..}` plus cookies.
#[derive(Debug)]
pub struct Reply {
    msg: Cow<'static, str>,
    data: Option<Value>,
    cookies: Vec<String>,
}

impl Reply {
    /// A success with a message only.
    pub fn msg(msg: impl Into<Cow<'static, str>>) -> Self {
        Self {
            msg: msg.into(),
            data: None,
            cookies: Vec::new(),
        }
    }

    /// Adds the `data` object.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// Adds a `Set-Cookie` header value.
    pub fn with_cookie(mut self, cookie: String) -> Self {
        self.cookies.push(cookie);
        self
    }
}

/// Turns a handler's result into the HTTP response. 5xx causes are logged here
/// (and only here) with their whole chain; the client gets a generic message.
pub fn respond(result: Result<Reply, ApiError>) -> Response<Body> {
    match result {
        Ok(reply) => {
            let mut resp = json_response(200, "OK", &reply.msg, reply.data.as_ref());
            for cookie in reply.cookies {
                if let Ok(value) = HeaderValue::from_str(&cookie) {
                    resp.headers_mut().append(SET_COOKIE, value);
                }
            }
            resp
        }
        Err(err) => error_response(&err),
    }
}

/// The envelope for an error.
pub fn error_response(err: &ApiError) -> Response<Body> {
    let status = err.status();
    match err {
        ApiError::Unavailable(cause) => {
            tracing::error!(error = format!("{cause:#}"), "dependency unavailable");
        }
        ApiError::Internal(cause) => {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        _ => {}
    }
    let data = match err {
        ApiError::SecondFactorRequired { mfa_token, passkey } => {
            let mut methods = crate::domain::MFA_METHODS.to_vec();
            let mut data = serde_json::json!({
                "mfa_token": secrecy::ExposeSecret::expose_secret(mfa_token),
            });
            if let Some(passkey) = passkey {
                methods.push("passkey");
                data["passkey"] = passkey.clone();
            }
            data["methods"] = serde_json::json!(methods);
            Some(data)
        }
        _ => None,
    };
    let mut resp = json_response(status.as_u16(), "ERR", &err.to_string(), data.as_ref());
    let headers = resp.headers_mut();
    match err {
        ApiError::MethodNotAllowed { allow } => {
            if let Ok(v) = HeaderValue::from_str(allow) {
                headers.insert(ALLOW, v);
            }
        }
        ApiError::TooManyRequests { retry_after, .. } => {
            headers.insert(RETRY_AFTER, HeaderValue::from((*retry_after).max(1)));
        }
        ApiError::Unavailable(_) => {
            headers.insert(RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_AFTER));
        }
        _ => {}
    }
    resp
}

/// The answer to a request no route serves: a CORS preflight (or any
/// `OPTIONS`) for a known path gets 204 with `Allow`, another method on a
/// known path 405, an unknown path 404. The dev server and the index
/// function (API Gateway's `$default` route, which also receives every
/// preflight) both answer with this, so they cannot drift apart. In AWS, API
/// Gateway adds the configured CORS headers to the 204.
pub fn unrouted_response(method: &str, path: &str) -> Response<Body> {
    match match_route(method, path) {
        RouteMatch::MethodNotAllowed(allow) if method == "OPTIONS" => {
            let mut resp = Response::new(Body::Empty);
            *resp.status_mut() = lambda_http::http::StatusCode::NO_CONTENT;
            let headers = resp.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&format!("{allow}, OPTIONS")) {
                headers.insert(ALLOW, v);
            }
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
            headers.insert(
                "x-content-type-options",
                HeaderValue::from_static("nosniff"),
            );
            headers.insert(
                "content-security-policy",
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            );
            resp
        }
        RouteMatch::MethodNotAllowed(allow) => {
            error_response(&ApiError::MethodNotAllowed { allow })
        }
        RouteMatch::NotFound | RouteMatch::Found(..) => error_response(&ApiError::NotFound),
    }
}

fn json_response(
    code: u16,
    status: &'static str,
    msg: &str,
    data: Option<&Value>,
) -> Response<Body> {
    let body = serde_json::to_string(&Envelope { status, msg, data })
        .unwrap_or_else(|_| r#"{"status":"ERR","msg":"internal server error"}"#.to_owned());
    let mut resp = Response::new(Body::Text(body));
    *resp.status_mut() = lambda_http::http::StatusCode::from_u16(code)
        .unwrap_or(lambda_http::http::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    // A JSON answer is never a document: nothing in it may load or be framed.
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    resp
}

/// Runs a handler future on its own task so that even a panic becomes the JSON
/// envelope (500) instead of reaching the runtime or dropping the connection.
pub async fn guard<F>(fut: F) -> Response<Body>
where
    F: Future<Output = Response<Body>> + Send + 'static,
{
    match tokio::spawn(fut).await {
        Ok(resp) => resp,
        Err(join) => error_response(&ApiError::internal(anyhow::anyhow!(
            "handler task failed: {join}"
        ))),
    }
}
