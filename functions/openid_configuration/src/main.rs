//! The `openid_configuration` Lambda function: no SDK at all.

use shared::setup::lambda::run_static;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let base = std::env::var("PUBLIC_BASE_URL")
        .ok()
        .map(|b| b.trim().trim_end_matches('/').to_owned())
        .filter(|b| !b.is_empty());
    run_static(move |req| openid_configuration::handle(base.clone(), req)).await
}
