//! The `delete_account` Lambda function.

use shared::setup::lambda::{Needs, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run(
        Needs {
            table: true,
            mail: true,
            jwt: true,
        },
        delete_account::handle,
    )
    .await
}
