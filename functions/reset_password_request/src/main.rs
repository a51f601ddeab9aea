//! The `reset_password_request` Lambda function.

use shared::setup::lambda::{MAIL, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<MAIL, _, _>(reset_password_request::handle).await
}
