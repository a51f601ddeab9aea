//! The common crate of user_account: domain types, ports, adapters and HTTP glue.
//!
//! Data flows one way: event -> handler (in `functions/<name>`) -> domain ->
//! ports ([`store::UserStore`], [`mailer::Mailer`], [`clock::Clock`]) -> adapters.

pub mod app;
pub mod auth;
pub mod aws;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod hashing;
pub mod http;
pub mod lambda;
pub mod mailer;
pub mod rate;
pub mod routes;
pub mod store;
pub mod telemetry;

pub use app::App;
pub use error::ApiError;
pub use http::Reply;

/// The service name shown by `GET /` and used as the default JWT issuer/audience.
pub const SERVICE_NAME: &str = "user_account";
/// The version shown by `GET /`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
