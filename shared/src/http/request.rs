//! Reading a request: the JSON body with typed field accessors, path
//! parameters, cookies and the client address as API Gateway saw it.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::{Map, Value};

use crate::domain::{EdgeOrigin, ORIGIN_VERIFY_HEADER, VIEWER_ADDRESS_HEADER, viewer_ip};
use crate::error::ApiError;

/// Largest accepted request body (16 KiB); larger ones get 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// A request body that is a JSON object, with typed accessors whose errors name the field.
#[derive(Debug)]
pub struct JsonBody(Map<String, Value>);

impl JsonBody {
    /// Parses the body: 413 over [`MAX_BODY_BYTES`], 415 unless declared as
    /// `application/json`, 400 unless it is a JSON object.
    ///
    /// The media type matters for safety, not only hygiene: a cross-site HTML
    /// form can post `text/plain` (a JSON text included) without a CORS
    /// preflight, and could log a victim in as the attacker (login CSRF).
    pub fn parse(req: &Request) -> Result<Self, ApiError> {
        let bytes: &[u8] = req.body().as_ref();
        if bytes.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        if !declares_json(req) {
            return Err(ApiError::UnsupportedMediaType);
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

    /// Whether the body names this field (`null` included).
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
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

    /// A required object field (a WebAuthn credential).
    pub fn object(&self, name: &str) -> Result<&Value, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Err(ApiError::bad_request(format!("{name} is required."))),
            Some(v @ Value::Object(_)) => Ok(v),
            Some(_) => Err(ApiError::bad_request(format!("{name} must be an object."))),
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

/// Whether `Content-Type` is `application/json` (parameters such as
/// `charset` allowed, any case).
fn declares_json(req: &Request) -> bool {
    req.headers()
        .get(lambda_http::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// The client's address as API Gateway saw it (never a header a client can set).
pub fn client_ip(req: &Request) -> Option<String> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    }
}

/// This API's own URL, `https://<apiId>.execute-api.<region>.<suffix>` (plus
/// `/<stage>` for a stage other than `$default`), when the request came in
/// on it: API Gateway's request context names the domain the request
/// arrived on and the API's id, neither of which a client can choose. The
/// base of emailed links when `PUBLIC_BASE_URL` is not set. `None` outside
/// API Gateway, and on a custom domain: a wildcard custom domain would let a
/// client's `Host` header pick the subdomain a link points at, and a base
/// path mapping would be missing from the links, so a custom domain needs
/// `PUBLIC_BASE_URL` (the handler then answers 500 before writing anything).
pub fn own_base_url(req: &Request) -> Option<String> {
    let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
        return None;
    };
    let api_id = ctx
        .apiid
        .as_deref()
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))?;
    let domain = ctx.domain_name.as_deref()?.to_ascii_lowercase();
    let suffix = domain.strip_prefix(&format!("{}.execute-api.", api_id.to_ascii_lowercase()))?;
    // <region>.amazonaws.com (or another partition's suffix): host labels only.
    let plain_host = suffix.split('.').count() >= 3
        && suffix.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !plain_host {
        return None;
    }
    let stage = match ctx.stage.as_deref() {
        None | Some("" | "$default") => String::new(),
        Some(stage)
            if stage
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            format!("/{stage}")
        }
        Some(_) => return None,
    };
    Some(format!("https://{domain}{stage}"))
}

impl From<crate::config::NoBaseUrl> for ApiError {
    fn from(err: crate::config::NoBaseUrl) -> Self {
        Self::internal(anyhow::Error::new(err))
    }
}

/// The client's address: behind edge protection (`edge` set), CloudFront's
/// `CloudFront-Viewer-Address` on a request carrying the secret origin
/// header (CloudFront's source address is an edge's, shared by many
/// clients; the per-client routes refuse a request without it, see
/// [`crate::http::limits::from_the_edge`]); otherwise API Gateway's source
/// IP. Never a header a client alone can set.
pub fn client_address(edge: Option<&EdgeOrigin>, req: &Request) -> Option<String> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let through_edge =
        edge.is_some_and(|edge| header(ORIGIN_VERIFY_HEADER).is_some_and(|v| edge.verifies(v)));
    if !through_edge {
        return client_ip(req);
    }
    // Through CloudFront, the source IP is an edge's, shared by many
    // clients: never key on it. A viewer address that cannot be read (it
    // should not happen) is logged and counted as `None`.
    let viewer = header(VIEWER_ADDRESS_HEADER).and_then(viewer_ip);
    if viewer.is_none() {
        tracing::warn!("a request through CloudFront without a readable viewer address");
    }
    viewer.map(|ip| ip.to_string())
}

/// A path parameter filled by API Gateway (or the dev server, the same way).
pub fn path_param(req: &Request, name: &str) -> Option<String> {
    req.path_parameters_ref()
        .and_then(|params| params.first(name))
        .map(str::to_owned)
}

/// The value of a request cookie.
pub fn cookie(req: &Request, name: &str) -> Option<String> {
    cookie_in(
        req.headers()
            .get_all(lambda_http::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()),
        name,
    )
}

/// A cookie's value from `Cookie` header values (or API Gateway's
/// `cookies` list, one `name=value` each).
pub fn cookie_in<'a>(values: impl Iterator<Item = &'a str>, name: &str) -> Option<String> {
    values
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}
