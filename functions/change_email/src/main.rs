//! The `change_email` Lambda function.

use shared::setup::lambda::{CLIENT, JWT, MAIL, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ MAIL | JWT | CLIENT }, _, _>(change_email::handle).await
}
