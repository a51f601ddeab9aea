//! The `passkey_remove` Lambda function.

use shared::setup::lambda::{CLIENT, JWT, MAIL, MFA, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ MAIL | JWT | MFA | CLIENT }, _, _>(passkey_remove::handle).await
}
