//! Reading a request: the JSON body with typed field accessors, path
//! parameters, cookies and the client address as API Gateway saw it.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::{Map, Value};

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

/// The URL this request reached the API on, `https://<domainName>` (plus
/// `/<stage>` for a stage other than `$default`), as API Gateway's request
/// context names it: the execute-api host or the custom domain the request
/// arrived on (API Gateway routes by it, so a client's `Host` header can
/// only name a domain of this API). The base of emailed links when
/// `PUBLIC_BASE_URL` is not set; `None` outside API Gateway or for a name
/// that is not a plain host name.
pub fn own_base_url(req: &Request) -> Option<String> {
    let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
        return None;
    };
    let domain = ctx.domain_name.as_deref()?.to_ascii_lowercase();
    let host_name = domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !host_name {
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
