//! The `reset_password_request` Lambda function.

use shared::setup::lambda::{CLIENT, MAIL, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ MAIL | CLIENT }, _, _>(reset_password_request::handle).await
}
