//! Log set-up. The level an operator asks for applies to this project's own
//! crates only; every library stays at INFO. At DEBUG/TRACE libraries print
//! what must never be logged: the AWS SDK whole DynamoDB items (password
//! hashes) and raw emails (links with one-time tokens), the Lambda runtime the
//! raw event (passwords, JWTs, cookies), SigV4 the session token.

use std::str::FromStr;

use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// This project's crates besides the functions (log targets).
const OUR_OTHER_CRATES: &[&str] = &["shared", "dev_server"];

/// Every log target of this project: the only ones an operator's level
/// reaches. The functions' crates are named after them.
fn our_crates() -> impl Iterator<Item = &'static str> {
    OUR_OTHER_CRATES
        .iter()
        .copied()
        .chain(crate::http::routes::ROUTES.iter().map(|r| r.function))
        .chain(crate::http::routes::OTHER_FUNCTIONS)
}

/// A filter from a `RUST_LOG`-style spec: the most verbose level named in it
/// applies to our crates, INFO to everything else. A plain target list
/// (`Targets`), not `EnvFilter`: that one links a regex engine into every
/// function for per-field matching nothing here uses.
pub fn filter(spec: &str) -> Targets {
    let level = spec
        .split(',')
        .filter_map(|directive| {
            let level = directive.rsplit('=').next().unwrap_or(directive).trim();
            // `LevelFilter` reads "" as ERROR: an unset RUST_LOG is not that.
            (!level.is_empty())
                .then(|| LevelFilter::from_str(level).ok())
                .flatten()
        })
        .max()
        .unwrap_or(LevelFilter::INFO);
    Targets::new()
        .with_default(LevelFilter::INFO)
        .with_targets(our_crates().map(|target| (target, level)))
}

/// Lambda: level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, JSON lines when
/// `AWS_LAMBDA_LOG_FORMAT=JSON` (the template sets it).
pub fn init_lambda() {
    let spec = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_default();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let _ =
        tracing::subscriber::set_global_default(lambda_subscriber(&spec, json, std::io::stdout));
}

/// The Lambda subscriber, writing to `writer`. JSON lines carry `level` and
/// an RFC 3339 `timestamp`: Lambda's log-level filtering (the template's
/// `ApplicationLogLevel`) treats a JSON line without a valid timestamp as
/// INFO, so error lines would vanish at WARN or ERROR. Text lines have no
/// time of their own (Lambda prefixes one).
fn lambda_subscriber<W>(spec: &str, json: bool, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = filter(&spec.to_ascii_lowercase());
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(writer);
    if json {
        Box::new(tracing_subscriber::registry().with(layer.json().with_filter(filter)))
    } else {
        Box::new(tracing_subscriber::registry().with(layer.without_time().with_filter(filter)))
    }
}

/// The dev server: human-readable lines, level from `RUST_LOG` (default INFO).
pub fn init_dev() {
    let spec = std::env::var("RUST_LOG").unwrap_or_default();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_filter(filter(&spec)));
    let _ = tracing::subscriber::set_global_default(subscriber);
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

    #[test]
    fn an_unset_level_is_info_for_our_crates() {
        // An unset RUST_LOG is "": the dev server's request lines (INFO)
        // must show, as docs/CONFIGURATION.md says.
        for spec in ["", " ", ","] {
            let shown = filter(spec).to_string();
            assert!(shown.contains("dev_server=info"), "{spec:?}: {shown}");
        }
    }

    /// A writer that keeps what is logged.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn lambda_json_lines_carry_level_and_an_rfc3339_timestamp() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = lambda_subscriber("warn", true, move || writer.clone());

        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(target: "login", "dependency unavailable");
        });

        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["level"], "ERROR", "{text}");
        let ts = line["timestamp"].as_str().unwrap_or_default();
        // RFC 3339 in UTC: 2026-11-25T19:46:04.123456Z
        let b = ts.as_bytes();
        assert!(
            b.len() >= 20
                && b[4] == b'-'
                && b[7] == b'-'
                && b[10] == b'T'
                && b[13] == b':'
                && b[16] == b':'
                && ts.ends_with('Z')
                && ts[..4].parse::<u16>().is_ok_and(|y| y >= 2024),
            "timestamp {ts:?} in {text}"
        );
    }
}
