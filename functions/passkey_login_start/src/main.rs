//! The `passkey_login_start` Lambda function.

use shared::setup::lambda::{CLIENT, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ CLIENT }, _, _>(passkey_login_start::handle).await
}
