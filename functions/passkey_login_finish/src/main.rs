//! The `passkey_login_finish` Lambda function.

use shared::setup::lambda::{CLIENT, DEVICE, JWT, MFA, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ JWT | DEVICE | MFA | CLIENT }, _, _>(passkey_login_finish::handle).await
}
