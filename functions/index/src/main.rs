//! The `index` Lambda function.

use shared::setup::lambda::run_static;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run_static(index::handle).await
}
