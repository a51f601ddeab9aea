//! The `token` Lambda function.

use shared::setup::lambda::{JWT, SERVICE, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ JWT | SERVICE }, _, _>(token::handle).await
}
