//! The `login` Lambda function.

use shared::setup::lambda::{CLIENT, DEVICE, JWT, MAIL, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ JWT | DEVICE | CLIENT | MAIL }, _, _>(login::handle).await
}
