//! The `passkey_register_start` Lambda function.

use shared::setup::lambda::{JWT, MFA, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ JWT | MFA }, _, _>(passkey_register_start::handle).await
}
