//! The `revert_email` Lambda function.

use shared::setup::lambda::{MAIL, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<MAIL, _, _>(revert_email::handle).await
}
