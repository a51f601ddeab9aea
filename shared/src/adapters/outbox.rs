//! The local mailer: one `.eml` file per message in `OUTBOX_DIR`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use async_trait::async_trait;

use crate::domain::Email;
use crate::ports::{MailError, Mailer};

/// Writes each message to `<dir>/<unix-millis>-<seq>.eml` (atomically: temp file, then rename).
#[derive(Debug)]
pub struct OutboxMailer {
    dir: PathBuf,
    seq: AtomicU64,
}

impl OutboxMailer {
    /// A mailer writing into `dir`, created if missing.
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            seq: AtomicU64::new(0),
        })
    }

    /// The folder messages go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let name = format!("{millis:013}-{:06}-{:08x}", seq, std::process::id());
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let path = self.dir.join(format!("{name}.eml"));
        async {
            tokio::fs::write(&tmp, &email.raw).await?;
            tokio::fs::rename(&tmp, &path).await
        }
        .await
        .with_context(|| format!("write outbox message into {}", self.dir.display()))
        .map_err(|cause| MailError {
            transient: true,
            cause,
        })?;
        tracing::info!(file = %path.display(), "email written to outbox");
        Ok(())
    }
}
