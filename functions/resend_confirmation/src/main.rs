//! The `resend_confirmation` Lambda function.

use shared::setup::lambda::{JWT, MAIL, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ MAIL | JWT }, _, _>(resend_confirmation::handle).await
}
