//! The `reset_password` Lambda function.

use shared::setup::lambda::{CLIENT, DEVICE, MAIL, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ MAIL | DEVICE | CLIENT }, _, _>(reset_password::handle).await
}
