//! The common crate of user_account. A request walks one way through its
//! layers (docs/ARCHITECTURE.md says what each may import):
//!
//! event -> handler (`functions/<name>`) -> [`http`] -> [`domain`] rules ->
//! [`ports`] -> [`adapters`]; [`setup`] assembles them once per cold start.

pub mod adapters;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod ports;
pub mod setup;

#[cfg(test)]
mod properties;

pub use error::ApiError;
pub use http::Reply;
pub use ports::App;

/// The service name shown by `GET /` and used as the default JWT issuer/audience.
pub const SERVICE_NAME: &str = "user_account";
/// The version shown by `GET /`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
