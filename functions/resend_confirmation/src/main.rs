//! The `resend_confirmation` Lambda function.

use shared::setup::lambda::{CLIENT, JWT, MAIL, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run::<{ MAIL | JWT | CLIENT }, _, _>(resend_confirmation::handle).await
}
