//! The production mailer: SES v2 `SendEmail` with the raw MIME message.

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};

use crate::domain::Email;
use crate::ports::{MailError, Mailer};

/// Sends through SES v2 from `MAIL_FROM`, with an optional configuration set.
#[derive(Debug)]
pub struct SesMailer {
    client: Client,
    from: String,
    configuration_set: Option<String>,
    /// Whether the sender problem was logged already (once per cold start).
    sender_logged: AtomicBool,
}

/// The SES error codes of a sender it will not send from: an address not
/// verified (nor on a verified domain), a role whose `ses:SendEmail`
/// permission names another identity, a custom MAIL FROM domain not set up.
const SENDER_REFUSED: &[&str] = &[
    "MessageRejected",
    "AccessDeniedException",
    "MailFromDomainNotVerifiedException",
];

impl SesMailer {
    /// A mailer on `client` (built once per cold start).
    pub fn new(client: Client, from: impl Into<String>, configuration_set: Option<String>) -> Self {
        Self {
            client,
            from: from.into(),
            configuration_set,
            sender_logged: AtomicBool::new(false),
        }
    }

    /// One clear line, the first time SES refuses the sender: no extra SES
    /// call at each cold start checks it beforehand.
    fn explain_refusal(&self, code: Option<&str>) {
        if code.is_some_and(|c| SENDER_REFUSED.contains(&c))
            && !self.sender_logged.swap(true, Ordering::Relaxed)
        {
            let region = self
                .client
                .config()
                .region()
                .map(ToString::to_string)
                .unwrap_or_default();
            tracing::error!(
                code,
                mail_from = %self.from,
                region,
                "SES refused the sender: MAIL_FROM must be, or be on the domain of, a verified SES identity in this region that SenderIdentity names (and, while the account is in the SES sandbox, every recipient must be verified too; see docs/DEPLOY.md)"
            );
        }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let raw = RawMessage::builder()
            .data(Blob::new(email.raw.clone()))
            .build()
            .map_err(|e| MailError {
                transient: false,
                cause: anyhow::anyhow!("build raw message: {e}"),
            })?;
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().raw(raw).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(|e| {
                self.explain_refusal(e.code());
                MailError {
                    transient: crate::adapters::aws::is_transient(&e),
                    cause: anyhow::anyhow!("SES SendEmail: {}", DisplayErrorContext(&e)),
                }
            })?;
        Ok(())
    }
}
