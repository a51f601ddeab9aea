//! The `registration` Lambda function.

use shared::setup::lambda::{CLIENT, MAIL, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ MAIL | CLIENT }, _, _>(registration::handle).await
}
