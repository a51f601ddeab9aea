//! The `change_email` Lambda function.

use shared::setup::lambda::{CLIENT, JWT, MAIL, MFA, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ MAIL | JWT | CLIENT | MFA }, _, _>(change_email::handle).await
}
