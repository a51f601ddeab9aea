//! The mailer port. Messages are built once as MIME
//! ([`crate::domain::messages`]); each transport only delivers the bytes.

use async_trait::async_trait;

use crate::domain::Email;

/// A delivery failure; the cause is logged, never shown.
#[derive(Debug, thiserror::Error)]
#[error("mail delivery failed")]
pub struct MailError {
    /// Whether trying again later may work (503) or not (500: a rejected
    /// message, an unverified sender).
    pub transient: bool,
    /// What went wrong.
    #[source]
    pub cause: anyhow::Error,
}

/// Delivers composed messages.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message.
    async fn send(&self, email: &Email) -> Result<(), MailError>;

    /// A message the service decided not to send (`reason`: a fixed text
    /// naming the limit, never anything from the request). Logged without
    /// the address or the body; the dev server's outbox also lists it.
    fn not_sent(&self, email: &Email, reason: &'static str) {
        let _ = email;
        tracing::info!(reason, "email not sent");
    }
}

/// Why a message was not sent: the address's silent budget was used up.
pub const ADDRESS_CAP_REACHED: &str =
    "the address's mail budget (ADDRESS_MAIL_LIMIT per ADDRESS_MAIL_WINDOW_SECS) is used up";

impl From<MailError> for crate::error::ApiError {
    fn from(err: MailError) -> Self {
        if err.transient {
            Self::Unavailable(anyhow::Error::new(err))
        } else {
            Self::Internal(anyhow::Error::new(err))
        }
    }
}
