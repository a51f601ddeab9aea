//! The `registration` Lambda function.

use shared::setup::lambda::{MAIL, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<MAIL, _, _>(registration::handle).await
}
