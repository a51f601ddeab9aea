//! The `logout_all` Lambda function.

use shared::setup::lambda::{Needs, run};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run(
        Needs {
            table: true,
            mail: false,
            jwt: true,
        },
        logout_all::handle,
    )
    .await
}
