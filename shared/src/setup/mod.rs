//! Set-up: what runs once per cold start (or per dev server) before any
//! request - logging, and assembling the [`crate::ports::App`] from the
//! environment with the AWS adapters.

pub mod lambda;
pub mod telemetry;
