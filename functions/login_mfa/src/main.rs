//! The `login_mfa` Lambda function.

use shared::setup::lambda::{CLIENT, DEVICE, JWT, MAIL, MFA, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ JWT | DEVICE | MFA | CLIENT | MAIL }, _, _>(login_mfa::handle).await
}
