//! The `login` Lambda function.

use shared::setup::lambda::{DEVICE, JWT, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ JWT | DEVICE }, _, _>(login::handle).await
}
