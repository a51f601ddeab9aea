//! Service tokens in requests: the issuer a request's tokens name, the
//! JWKS and discovery documents (plain JSON, cacheable), and the claims.

use lambda_http::http::HeaderValue;
use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use crate::domain::service_token::ServiceKeys;
use crate::http::own_base_url;
use crate::ports::{SessionRecord, UserRecord};

/// How long verifiers may keep the JWKS and discovery documents.
pub const DOCUMENT_MAX_AGE_SECS: u32 = 300;

/// The issuer of this deployment's tokens: the public base URL, else the
/// URL the request reached the API on (as the emailed links use it).
pub fn issuer(public_base_url: Option<&str>, req: &Request) -> Option<String> {
    public_base_url
        .map(str::to_owned)
        .or_else(|| own_base_url(req))
        .map(|b| b.trim_end_matches('/').to_owned())
}

/// A plain JSON document (no envelope), cacheable for minutes.
pub fn document(value: &Value) -> Response<Body> {
    let mut resp = Response::new(Body::Text(value.to_string()));
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={DOCUMENT_MAX_AGE_SECS}")) {
        headers.insert(CACHE_CONTROL, v);
    }
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// The JWKS: the current key and the previous one.
pub fn jwks(keys: &ServiceKeys) -> Response<Body> {
    document(&keys.jwks())
}

/// The discovery document: what API Gateway's JWT authorizer and JWT
/// libraries read, nothing that suggests flows we do not offer.
pub fn discovery(issuer: &str) -> Response<Body> {
    document(&json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
    }))
}

/// The claims of a token for `audience`, minted at `now` from `session`.
pub fn claims(
    issuer: &str,
    user: &UserRecord,
    session: &SessionRecord,
    audience: &str,
    jti: &str,
    now: i64,
    ttl: i64,
) -> Value {
    let sub = if user.account_id.is_legacy() {
        format!("legacy:{}", user.username.key())
    } else {
        user.account_id.as_str().to_owned()
    };
    json!({
        "iss": issuer,
        "sub": sub,
        "aud": audience,
        "iat": now,
        "exp": now + ttl,
        "jti": jti,
        "username": user.username.as_str(),
        "email_verified": user.is_email_verified,
        "amr": session.amr,
    })
}
