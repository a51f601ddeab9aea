//! The `change_password` Lambda function.

use shared::setup::lambda::{CLIENT, DEVICE, JWT, MAIL, MFA, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ MAIL | JWT | DEVICE | CLIENT | MFA }, _, _>(change_password::handle).await
}
