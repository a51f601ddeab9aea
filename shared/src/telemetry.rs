//! Log set-up. The level an operator asks for applies to this project's own
//! crates only; every library stays at INFO. At DEBUG/TRACE libraries print
//! what must never be logged: the AWS SDK whole DynamoDB items (password
//! hashes) and raw emails (links with one-time tokens), the Lambda runtime the
//! raw event (passwords, JWTs, cookies), SigV4 the session token.

use std::str::FromStr;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// This project's crates (log targets): the only ones an operator's level reaches.
const OUR_CRATES: &[&str] = &[
    "shared",
    "index",
    "login",
    "registration",
    "reset_password_request",
    "profile_settings",
    "confirm_email",
    "reset_password",
    "logout",
    "dev_server",
];

/// A filter from a `RUST_LOG`-style spec: the most verbose level named in it
/// applies to our crates, INFO to everything else.
pub fn filter(spec: &str) -> EnvFilter {
    let level = spec
        .split(',')
        .filter_map(|directive| {
            let level = directive.rsplit('=').next().unwrap_or(directive).trim();
            LevelFilter::from_str(level).ok()
        })
        .max()
        .unwrap_or(LevelFilter::INFO);
    let mut filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .parse_lossy("");
    for target in OUR_CRATES {
        if let Ok(directive) = format!("{target}={level}").parse() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libraries_stay_at_info_whatever_is_asked() {
        for spec in [
            "trace",
            "aws_smithy_runtime=trace",
            "lambda_runtime=trace,debug",
            "",
        ] {
            let shown = filter(spec).to_string();
            assert!(!shown.contains("aws_smithy_runtime"), "{spec}: {shown}");
            assert!(!shown.contains("lambda_runtime"), "{spec}: {shown}");
            assert!(shown.contains("info"), "{spec}: {shown}");
        }
        assert!(filter("debug").to_string().contains("login=debug"));
    }
}
