//! The `login` Lambda function.

use shared::setup::lambda::{CLIENT, DEVICE, JWT, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ JWT | DEVICE | CLIENT }, _, _>(login::handle).await
}
