//! The `account_export` Lambda function.

use shared::setup::lambda::{JWT, MFA, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ JWT | MFA }, _, _>(account_export::handle).await
}
