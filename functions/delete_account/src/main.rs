//! The `delete_account` Lambda function.

use shared::setup::lambda::{CLIENT, JWT, MAIL, MFA, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ MAIL | JWT | CLIENT | MFA }, _, _>(delete_account::handle).await
}
