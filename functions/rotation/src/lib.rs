//! Secrets Manager's rotation of the signing key (`JwtSecret`), and of the
//! service tokens' key pair (`ServiceKey`, the secret `SERVICE_KEY_ARN`
//! names: a new RSA-2048 PKCS#8 PEM each time, whose JWKS publishes the
//! current and previous keys), the four steps of its rotation protocol:
//!
//! 1. `createSecret`: a new random key (48 bytes, base64url) as the version
//!    `ClientRequestToken` names, staged `AWSPENDING` (again a no-op if a
//!    retry finds it there);
//! 2. `setSecret`: nothing: the key lives in the secret alone;
//! 3. `testSecret`: the pending value must be a key the functions accept;
//! 4. `finishSecret`: `AWSCURRENT` moves to the new version; Secrets Manager
//!    then labels the old one `AWSPREVIOUS`.
//!
//! Nobody is logged out: the new key signs, the previous one still verifies
//! what it signed, and warm functions read the keys again within 5 minutes
//! or at the first token that names the new key. A second rotation retires
//! the first key, so rotations must be further apart than the longest
//! session (`REMEMBER_TTL_SECS`, 30 days): the template's schedule refuses
//! anything shorter.

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use serde::Deserialize;
use shared::domain::JwtKeys;
use shared::domain::service_token::ServiceKey;

const CURRENT: &str = "AWSCURRENT";
const PENDING: &str = "AWSPENDING";

/// What Secrets Manager sends the rotation function.
#[derive(Debug, Deserialize)]
pub struct RotationEvent {
    /// The secret (ARN or name).
    #[serde(rename = "SecretId")]
    pub secret_id: String,
    /// The version this rotation creates.
    #[serde(rename = "ClientRequestToken")]
    pub token: String,
    /// `createSecret`, `setSecret`, `testSecret` or `finishSecret`.
    #[serde(rename = "Step")]
    pub step: String,
}

/// One step of a rotation; an error fails the invocation, and Secrets
/// Manager retries the rotation later (the secret stays as it was).
/// `service_key` is the ARN of the service tokens' secret (`SERVICE_KEY_ARN`),
/// whose values are RSA key pairs.
pub async fn rotate(
    client: &Client,
    event: &RotationEvent,
    service_key: Option<&str>,
) -> anyhow::Result<()> {
    let id = event.secret_id.as_str();
    let token = event.token.as_str();
    let described = client
        .describe_secret()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("describe the secret: {}", DisplayErrorContext(&e)))?;
    // Secrets Manager's RotateSecret stages the version `AWSPENDING` before
    // it calls createSecret; a version not there yet is created by it.
    let stages = described
        .version_ids_to_stages()
        .and_then(|versions| versions.get(token));
    match stages {
        Some(stages) if stages.iter().any(|s| s == CURRENT) => {
            // Already done (a retried finishSecret, say).
            tracing::info!(
                step = event.step,
                "rotation: this version is current already"
            );
            return Ok(());
        }
        Some(stages) if !stages.iter().any(|s| s == PENDING) => {
            anyhow::bail!("version {token} is not pending rotation");
        }
        None if event.step != "createSecret" => {
            anyhow::bail!("the secret has no version {token}");
        }
        _ => {}
    }
    let kind = if service_key.is_some_and(|arn| arn == id || Some(arn) == described.arn()) {
        Kind::ServiceKey
    } else {
        Kind::SessionKey
    };
    match event.step.as_str() {
        "createSecret" => create(client, id, token, kind).await,
        "setSecret" => Ok(()),
        "testSecret" => test(client, id, token, kind).await,
        "finishSecret" => finish(client, id, token, &described).await,
        other => anyhow::bail!("unknown rotation step {other:?}"),
    }
}

/// Which secret a rotation is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The session tokens' HS256 key: random bytes.
    SessionKey,
    /// The service tokens' RS256 key pair: a PKCS#8 PEM.
    ServiceKey,
}

/// A value of `stage` (and `version`, if given); `None` when there is none.
async fn value(
    client: &Client,
    id: &str,
    version: Option<&str>,
    stage: &str,
) -> anyhow::Result<Option<String>> {
    let out = client
        .get_secret_value()
        .secret_id(id)
        .set_version_id(version.map(str::to_owned))
        .version_stage(stage)
        .send()
        .await;
    match out {
        Ok(out) => Ok(out.secret_string),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(err) => Err(anyhow::anyhow!(
            "read the secret ({stage}): {}",
            DisplayErrorContext(&err)
        )),
    }
}

async fn create(client: &Client, id: &str, token: &str, kind: Kind) -> anyhow::Result<()> {
    // There is a current key to rotate away from.
    value(client, id, None, CURRENT)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the secret has no current value"))?;
    if value(client, id, Some(token), PENDING).await?.is_some() {
        return Ok(());
    }
    let value = match kind {
        Kind::SessionKey => {
            let mut bytes = [0u8; 48];
            getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random source: {e}"))?;
            URL_SAFE_NO_PAD.encode(bytes)
        }
        Kind::ServiceKey => ServiceKey::generate_pem()?,
    };
    client
        .put_secret_value()
        .secret_id(id)
        .client_request_token(token)
        .secret_string(value)
        .version_stages(PENDING)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("store the new key: {}", DisplayErrorContext(&e)))?;
    tracing::info!("rotation: new key created (pending)");
    Ok(())
}

async fn test(client: &Client, id: &str, token: &str, kind: Kind) -> anyhow::Result<()> {
    let pending = value(client, id, Some(token), PENDING)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no pending value to test"))?;
    let usable = match kind {
        Kind::SessionKey => JwtKeys::new(&SecretString::from(pending)).is_ok(),
        Kind::ServiceKey => ServiceKey::from_pem(&pending).is_ok(),
    };
    anyhow::ensure!(usable, "the pending value is not a usable signing key");
    Ok(())
}

async fn finish(
    client: &Client,
    id: &str,
    token: &str,
    described: &aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput,
) -> anyhow::Result<()> {
    let current = described
        .version_ids_to_stages()
        .into_iter()
        .flatten()
        .find(|(_, stages)| stages.iter().any(|s| s == CURRENT))
        .map(|(version, _)| version.clone());
    client
        .update_secret_version_stage()
        .secret_id(id)
        .version_stage(CURRENT)
        .move_to_version_id(token)
        .set_remove_from_version_id(current)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("make the new key current: {}", DisplayErrorContext(&e)))?;
    // Nothing is pending any more (Secrets Manager accepts either state;
    // this one never reads as a rotation still in progress).
    client
        .update_secret_version_stage()
        .secret_id(id)
        .version_stage(PENDING)
        .remove_from_version_id(token)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("clear the pending label: {}", DisplayErrorContext(&e)))?;
    tracing::info!("rotation: the new key is current; the old one verifies as AWSPREVIOUS");
    Ok(())
}
