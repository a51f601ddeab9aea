//! Log set-up. Whatever level an operator asks for, libraries that print
//! request and response bodies at DEBUG/TRACE stay at INFO: the AWS SDK would
//! otherwise log whole DynamoDB items (password hashes) and raw emails (links
//! with one-time tokens).

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// Targets capped at INFO.
const BODY_LOGGERS: &[&str] = &[
    "aws_config",
    "aws_runtime",
    "aws_sdk_dynamodb",
    "aws_sdk_secretsmanager",
    "aws_sdk_sesv2",
    "aws_smithy_http",
    "aws_smithy_http_client",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_types",
    "h2",
    "hyper",
    "hyper_util",
    "reqwest",
    "rustls",
];

/// A filter from a `RUST_LOG`-style spec (default INFO), with the body loggers capped.
pub fn filter(spec: &str) -> EnvFilter {
    let mut filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .parse_lossy(spec);
    for target in BODY_LOGGERS {
        if let Ok(directive) = format!("{target}=info").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Lambda: level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, JSON lines when
/// `AWS_LAMBDA_LOG_FORMAT=JSON` (the template sets it), no timestamps (Lambda adds them).
pub fn init_lambda() {
    let spec = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_default();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(&spec.to_ascii_lowercase()))
        .with_ansi(false)
        .without_time();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// The dev server: human-readable lines, level from `RUST_LOG` (default INFO).
pub fn init_dev() {
    let spec = std::env::var("RUST_LOG").unwrap_or_default();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(&spec))
        .try_init();
}
