//! The `whoami` Lambda function.

use shared::setup::lambda::{Needs, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run(
        Needs {
            table: true,
            mail: false,
            jwt: true,
        },
        whoami::handle,
    )
    .await
}
