//! One error type for every handler, mapped to a status and the JSON envelope in one place.

use std::borrow::Cow;

use lambda_http::http::StatusCode;

/// Everything a handler can answer besides success. Each variant names its status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: a bad body or field; the message is shown to the client as is.
    #[error("{0}")]
    BadRequest(Cow<'static, str>),
    /// 401: not authenticated; the message is shown as is.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 401 `"second factor required"`: the password was right and the
    /// account has TOTP on; `data` names the pending sign-in.
    #[error("second factor required")]
    SecondFactorRequired {
        /// The raw `mfa_token` for `POST /api/login/mfa` (redacted in `Debug`).
        mfa_token: secrecy::SecretString,
        /// When the account has passkeys: `{ceremony, publicKey}` to answer
        /// with one of them instead of a code.
        passkey: Option<serde_json::Value>,
    },
    /// 403: behind edge protection, a request that did not come through
    /// CloudFront (no secret origin header) to a function holding the
    /// origin secret.
    #[error("forbidden")]
    Forbidden,
    /// 404: no such path.
    #[error("not found")]
    NotFound,
    /// 404 with a message of its own (a thing the route names is not there).
    #[error("{0}")]
    Missing(&'static str),
    /// 405: the path exists with other methods (listed in `Allow`).
    #[error("method not allowed")]
    MethodNotAllowed {
        /// Value of the `Allow` header.
        allow: String,
    },
    /// 409: a uniqueness conflict the client may see.
    #[error("{0}")]
    Conflict(&'static str),
    /// 413: the body is over the limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// 414: the request line is over the limit.
    #[error("request URI too long")]
    UriTooLong,
    /// 431: the request's headers are too many or too large.
    #[error("request headers too large")]
    HeadersTooLarge,
    /// 415: a body that is not declared as `application/json`.
    #[error("Content-Type must be application/json.")]
    UnsupportedMediaType,
    /// 429: a limit was hit; retry after the given number of seconds.
    #[error("{msg}")]
    TooManyRequests {
        /// Client-facing message.
        msg: &'static str,
        /// Seconds until a retry can succeed (`Retry-After`).
        retry_after: i64,
    },
    /// 503: a dependency (store, mail) is unavailable; the cause is logged, not shown.
    #[error("service temporarily unavailable, try again later")]
    Unavailable(#[source] anyhow::Error),
    /// 500: a bug or an impossible state; the cause is logged, not shown.
    #[error("internal server error")]
    Internal(#[source] anyhow::Error),
}

/// Seconds a client should wait after a 503.
pub const UNAVAILABLE_RETRY_AFTER: i64 = 1;

impl ApiError {
    /// A 400 with a fixed message.
    pub fn bad_request(msg: impl Into<Cow<'static, str>>) -> Self {
        Self::BadRequest(msg.into())
    }

    /// A 500 from any error.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) | Self::SecondFactorRequired { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound | Self::Missing(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::UriTooLong => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<getrandom::Error> for ApiError {
    fn from(err: getrandom::Error) -> Self {
        Self::Internal(anyhow::anyhow!("random source failed: {err}"))
    }
}
