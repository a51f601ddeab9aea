//! The `jwks` Lambda function.

use shared::setup::lambda::run_with_service_keys;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run_with_service_keys(jwks::handle).await
}
