//! The `passkey_login_finish` Lambda function.

use shared::setup::lambda::{CLIENT, DEVICE, JWT, MAIL, MFA, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ JWT | DEVICE | MFA | CLIENT | MAIL }, _, _>(passkey_login_finish::handle).await
}
