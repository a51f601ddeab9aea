//! The local mailer: one `.eml` file per message in `OUTBOX_DIR`, and a
//! list of what was sent (and what was not, with why) for the dev server's
//! mailbox page.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use async_trait::async_trait;

use crate::domain::Email;
use crate::ports::{MailError, Mailer};

/// How many messages the mailbox list keeps (the `.eml` files stay).
const KEPT: usize = 500;

/// One message of the mailbox list.
#[derive(Debug, Clone)]
pub struct MailEntry {
    /// When it was sent (or not), in Unix milliseconds.
    pub at_millis: u128,
    /// The recipient.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The text part, links included.
    pub text: String,
    /// The `.eml` file's name, when it was written.
    pub file: Option<String>,
    /// Why it was not sent, when it was not.
    pub not_sent: Option<&'static str>,
}

/// Writes each message to `<dir>/<unix-millis>-<seq>.eml` (atomically: temp file, then rename).
#[derive(Debug)]
pub struct OutboxMailer {
    dir: PathBuf,
    seq: AtomicU64,
    list: Mutex<VecDeque<MailEntry>>,
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

impl OutboxMailer {
    /// A mailer writing into `dir`, created if missing.
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            seq: AtomicU64::new(0),
            list: Mutex::new(VecDeque::new()),
        })
    }

    /// The folder messages go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What this mailer sent or did not send since it started, newest
    /// first (at most the last 500).
    pub fn entries(&self) -> Vec<MailEntry> {
        let list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        list.iter().rev().cloned().collect()
    }

    fn record(&self, email: &Email, file: Option<String>, not_sent: Option<&'static str>) {
        let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        if list.len() == KEPT {
            list.pop_front();
        }
        list.push_back(MailEntry {
            at_millis: now_millis(),
            to: email.to.clone(),
            subject: email.subject.clone(),
            text: email.text.clone(),
            file,
            not_sent,
        });
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let name = format!(
            "{:013}-{:06}-{:08x}.eml",
            now_millis(),
            seq,
            std::process::id()
        );
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let path = self.dir.join(&name);
        let written = async {
            tokio::fs::write(&tmp, &email.raw).await?;
            tokio::fs::rename(&tmp, &path).await
        }
        .await;
        if written.is_err() {
            self.record(email, None, Some("the .eml file could not be written"));
        }
        written
            .with_context(|| format!("write outbox message into {}", self.dir.display()))
            .map_err(|cause| MailError {
                transient: true,
                cause,
            })?;
        tracing::info!(file = %path.display(), "email written to outbox");
        self.record(email, Some(name), None);
        Ok(())
    }

    fn not_sent(&self, email: &Email, reason: &'static str) {
        // Local only: the address and subject help whoever runs the dev
        // server see why a mail never came (the link is never logged).
        tracing::warn!(to = %email.to, subject = %email.subject, reason, "email not sent");
        self.record(email, None, Some(reason));
    }
}
