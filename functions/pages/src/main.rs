//! The `pages` Lambda function.

use shared::setup::lambda::{Needs, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run(
        Needs {
            table: false,
            mail: false,
            jwt: false,
        },
        pages::handle,
    )
    .await
}
