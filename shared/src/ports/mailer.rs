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
}

impl From<MailError> for crate::error::ApiError {
    fn from(err: MailError) -> Self {
        if err.transient {
            Self::Unavailable(anyhow::Error::new(err))
        } else {
            Self::Internal(anyhow::Error::new(err))
        }
    }
}
