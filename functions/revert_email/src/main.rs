//! The `revert_email` Lambda function.

use shared::setup::lambda::{TABLE, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<TABLE, _, _>(revert_email::handle).await
}
