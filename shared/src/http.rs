//! HTTP glue: the JSON envelope, request bodies, cookies and the client address.

use std::borrow::Cow;
use std::future::Future;

use lambda_http::http::header::{
    ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER, SET_COOKIE,
};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{ApiError, UNAVAILABLE_RETRY_AFTER};
use crate::routes::{RouteMatch, match_route};

/// Largest accepted request body (16 KiB); larger ones get 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

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
    let mut resp = json_response(status.as_u16(), "ERR", &err.to_string(), None);
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

/// A request body that is a JSON object, with typed accessors whose errors name the field.
#[derive(Debug)]
pub struct JsonBody(Map<String, Value>);

impl JsonBody {
    /// Parses the body: 413 over [`MAX_BODY_BYTES`], 400 unless it is a JSON object.
    pub fn parse(req: &Request) -> Result<Self, ApiError> {
        let bytes: &[u8] = req.body().as_ref();
        if bytes.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request("request body must be a JSON object."));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(ApiError::bad_request("request body must be a JSON object.")),
            Err(_) => Err(ApiError::bad_request("request body is not valid JSON.")),
        }
    }

    /// A required string field.
    pub fn str(&self, name: &str) -> Result<&str, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Err(ApiError::bad_request(format!("{name} is required."))),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(ApiError::bad_request(format!("{name} must be a string."))),
        }
    }

    /// An optional string field (`null` or absent is `None`).
    pub fn opt_str(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::bad_request(format!(
                "{name} must be a string or null."
            ))),
        }
    }

    /// An optional boolean field, `false` when absent or `null`.
    pub fn opt_bool(&self, name: &str) -> Result<bool, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(ApiError::bad_request(format!("{name} must be a boolean."))),
        }
    }
}

/// The client's address as API Gateway saw it (never a header a client can set).
pub fn client_ip(req: &Request) -> Option<String> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    }
}

/// A path parameter filled by API Gateway (or the dev server, the same way).
pub fn path_param(req: &Request, name: &str) -> Option<String> {
    req.path_parameters_ref()
        .and_then(|params| params.first(name))
        .map(str::to_owned)
}

/// The value of a request cookie.
pub fn cookie(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get_all(lambda_http::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}
