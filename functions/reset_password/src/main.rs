//! The `reset_password` Lambda function.

use shared::setup::lambda::{DEVICE, MAIL, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ MAIL | DEVICE }, _, _>(reset_password::handle).await
}
