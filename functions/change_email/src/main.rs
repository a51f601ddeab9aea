//! The `change_email` Lambda function.

use shared::setup::lambda::{Needs, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run(
        Needs {
            table: true,
            mail: true,
            jwt: true,
        },
        change_email::handle,
    )
    .await
}
