//! Request handling, the edge every handler stands on: reading requests,
//! authenticating callers, per-client limits, the route table, and turning
//! results into the one JSON envelope.

pub mod account;
pub mod activity;
pub mod envelope;
pub mod factors;
pub mod limits;
pub mod passkeys;
pub mod request;
pub mod routes;
pub mod service_tokens;
pub mod session;
pub mod sign_in;

pub use envelope::{Reply, error_response, guard, respond, unrouted_response};
pub use request::{
    JsonBody, MAX_BODY_BYTES, client_address, client_ip, cookie, cookie_in, own_base_url,
    path_param,
};
