//! SES on moto: what the adapter says when SES refuses the sender.

use std::sync::Arc;

use shared::adapters::SesMailer;
use tests::moto_endpoint;

/// A sender SES will not send from says so in one clear log line, the
/// first time it is refused (no SES call at each cold start checks it).
#[tokio::test]
async fn a_refused_sender_is_explained_once_in_the_log() {
    require_moto!();
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    use tracing_subscriber::prelude::*;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_filter(shared::setup::telemetry::filter("info")),
    );
    let _guard = tracing::subscriber::set_default(subscriber);
    let sdk = shared::adapters::aws::sdk_config()
        .await
        .expect("SDK configuration");
    let mailer = SesMailer::new(
        aws_sdk_sesv2::Client::new(&sdk),
        "noreply@unverified-sender.test",
        None,
    );
    let config = shared::config::Config::from_lookup(|_| None).unwrap();
    let mail = shared::domain::messages::already_registered(&config, "ada@example.com").unwrap();

    use shared::ports::Mailer;
    for _ in 0..2 {
        assert!(mailer.send(&mail).await.is_err());
    }

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<_> = log
        .lines()
        .filter(|l| l.contains("SES refused the sender"))
        .collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(
        lines[0].contains("noreply@unverified-sender.test")
            && lines[0].contains("SenderIdentity")
            && lines[0].contains("us-east-1"),
        "{log}"
    );
}
