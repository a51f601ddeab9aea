//! argon2id password hashing (OWASP: m=19456 KiB, t=2, p=1), run off the async threads.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::error::ApiError;

/// OWASP's argon2id parameters.
pub const M_COST_KIB: u32 = 19_456;
/// Iterations.
pub const T_COST: u32 = 2;
/// Parallelism.
pub const P_COST: u32 = 1;

/// A hash of a random password with the same parameters, verified when the
/// user does not exist so that the answer takes as long as for a real user.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$gZiV/M1gPGsO4k4fCAz9tA$bQ1sX8kb2c0aAnVZtYu4iLmKWNX3pFvG0Bph1NbpmWY";

/// At most this many hashes run at once (two per core): each takes 19 MiB
/// and a core for tens of milliseconds, so a burst of logins queues here
/// instead of exhausting memory.
fn permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        tokio::sync::Semaphore::new(cores * 2)
    })
}

/// Runs one argon2 computation on a blocking thread, within the permit limit.
async fn run_bounded<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let _permit = permits().acquire().await.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)?
}

fn argon2() -> Result<Argon2<'static>, ApiError> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("argon2 params: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a new password into a PHC string, on a blocking thread.
pub async fn hash_password(password: SecretString) -> Result<String, ApiError> {
    run_bounded(move || {
        argon2()?
            .hash_password(password.expose_secret().as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| ApiError::internal(anyhow::anyhow!("argon2 hash: {e}")))
    })
    .await
}

/// Checks a password against a stored PHC string (or the dummy hash when there
/// is no user, which never matches), on a blocking thread.
pub async fn verify_password(
    password: SecretString,
    phc: Option<String>,
) -> Result<bool, ApiError> {
    let exists = phc.is_some();
    run_bounded(move || {
        let phc = phc.as_deref().unwrap_or(DUMMY_HASH);
        let ok = <Argon2<'_> as PasswordVerifier<str>>::verify_password(
            &argon2()?,
            password.expose_secret().as_bytes(),
            phc,
        )
        .is_ok();
        Ok(ok && exists)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_phc_with_owasp_params_and_verify() {
        let phc = hash_password(SecretString::from("S3cure-Passw0rd!"))
            .await
            .unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!phc.contains("S3cure"));
        assert!(
            verify_password(SecretString::from("S3cure-Passw0rd!"), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password(SecretString::from("wrong-password"), Some(phc))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn dummy_hash_has_the_same_cost_and_never_matches() {
        assert!(DUMMY_HASH.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(argon2::PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(
            !verify_password(SecretString::from("anything"), None)
                .await
                .unwrap()
        );
    }
}
