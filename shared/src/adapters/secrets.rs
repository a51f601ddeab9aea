//! The signing keys in Secrets Manager: the secret's `AWSCURRENT` version
//! signs, its `AWSPREVIOUS` version (what the last rotation replaced) only
//! verifies. `put-secret-value` (or a rotation function) moves the labels, so
//! rotating needs no change here.

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata};
use secrecy::SecretString;

use crate::domain::JwtKeys;
use crate::ports::KeySource;

/// The version label of the key that signs.
const CURRENT: &str = "AWSCURRENT";
/// The version label of the key the last rotation replaced.
const PREVIOUS: &str = "AWSPREVIOUS";

/// The keys in one secret (`JWT_SECRET_ARN`, or `DEVICE_SECRET_ARN`).
#[derive(Debug, Clone)]
pub struct SecretsManagerKeys {
    client: Client,
    secret_id: String,
}

impl SecretsManagerKeys {
    /// The keys in `secret_id` (an ARN or a name).
    pub fn new(client: Client, secret_id: String) -> Self {
        Self { client, secret_id }
    }

    /// The current key alone: what a cold start reads (one round trip).
    pub async fn load_current(&self) -> anyhow::Result<JwtKeys> {
        let current = self
            .version(CURRENT)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the JWT secret has no current value"))?;
        Ok(JwtKeys::new(&current)?)
    }

    /// The secret's current value as it is (a key that is not rotated).
    pub async fn current_value(&self) -> anyhow::Result<SecretString> {
        self.version(CURRENT)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the secret has no current value"))
    }

    /// The current value and the one the last change replaced (if any), read
    /// at once (two concurrent reads): a secret two parties must agree on while it changes
    /// (the edge origin header: CloudFront sends the old value until its
    /// distribution is updated).
    pub async fn current_and_previous(
        &self,
    ) -> anyhow::Result<(SecretString, Option<SecretString>)> {
        let (current, previous) = tokio::join!(self.version(CURRENT), self.version(PREVIOUS));
        let current = current?.ok_or_else(|| anyhow::anyhow!("the secret has no current value"))?;
        Ok((current, previous?))
    }

    /// [`Self::current_and_previous`], with when the current version was
    /// made (epoch seconds; `None` if Secrets Manager does not say).
    pub async fn current_since_and_previous(
        &self,
    ) -> anyhow::Result<(SecretString, Option<i64>, Option<SecretString>)> {
        let (current, previous) = tokio::join!(self.dated_version(CURRENT), self.version(PREVIOUS));
        let (current, since) =
            current?.ok_or_else(|| anyhow::anyhow!("the secret has no current value"))?;
        Ok((current, since, previous?))
    }

    /// One version's string, `None` when the secret has no such version.
    async fn version(&self, stage: &str) -> anyhow::Result<Option<SecretString>> {
        Ok(self.dated_version(stage).await?.map(|(v, _)| v))
    }

    /// One version's string and when it was made.
    async fn dated_version(
        &self,
        stage: &str,
    ) -> anyhow::Result<Option<(SecretString, Option<i64>)>> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .version_stage(stage)
            .send()
            .await;
        match out {
            Ok(out) => {
                let since = out.created_date.map(|d| d.secs());
                Ok(out.secret_string.map(|v| (SecretString::from(v), since)))
            }
            Err(err)
                if err.as_service_error().and_then(|e| e.code())
                    == Some("ResourceNotFoundException")
                    && stage != CURRENT =>
            {
                Ok(None)
            }
            Err(err) => Err(anyhow::anyhow!(
                "read secret ({stage}): {}",
                DisplayErrorContext(&err)
            )),
        }
    }
}

#[async_trait]
impl KeySource for SecretsManagerKeys {
    async fn load(&self) -> anyhow::Result<JwtKeys> {
        let (current, previous) = tokio::join!(self.version(CURRENT), self.version(PREVIOUS));
        let current =
            current?.ok_or_else(|| anyhow::anyhow!("the JWT secret has no current value"))?;
        // No previous version (never rotated) is fine; a failed read is a
        // failed load: the keys already held are kept.
        let previous = previous?;
        match JwtKeys::with_previous(&current, previous.as_ref()) {
            Ok(keys) => Ok(keys),
            Err(_) if previous.is_some() => Ok(JwtKeys::new(&current)?),
            Err(err) => Err(err.into()),
        }
    }
}
