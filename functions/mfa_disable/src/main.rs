//! The `mfa_disable` Lambda function.

use shared::setup::lambda::{CLIENT, JWT, MAIL, MFA, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ MAIL | JWT | MFA | CLIENT }, _, _>(mfa_disable::handle).await
}
