//! The `security_events` Lambda function.

use shared::setup::lambda::{JWT, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<JWT, _, _>(security_events::handle).await
}
