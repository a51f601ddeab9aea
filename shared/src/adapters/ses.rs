//! The production mailer: SES v2 `SendEmail` with the raw MIME message.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::DisplayErrorContext;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};

use crate::domain::Email;
use crate::ports::{MailError, Mailer};

/// Sends through SES v2 from `MAIL_FROM`, with an optional configuration set.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    from: String,
    configuration_set: Option<String>,
}

impl SesMailer {
    /// A mailer on `client` (built once per cold start).
    pub fn new(client: Client, from: impl Into<String>, configuration_set: Option<String>) -> Self {
        Self {
            client,
            from: from.into(),
            configuration_set,
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
            .map_err(|e| MailError {
                transient: crate::adapters::aws::is_transient(&e),
                cause: anyhow::anyhow!("SES SendEmail: {}", DisplayErrorContext(&e)),
            })?;
        Ok(())
    }
}
