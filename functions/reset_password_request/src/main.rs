//! The `reset_password_request` Lambda function.

use shared::setup::lambda::{Needs, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run(
        Needs {
            table: true,
            mail: true,
            jwt: false,
        },
        reset_password_request::handle,
    )
    .await
}
