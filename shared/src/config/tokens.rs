//! The service tokens' settings (`TOKEN_TTL_SECS`, `TOKEN_AUDIENCES`), and
//! the TOTP issuer's (`MFA_ISSUER`).

use super::ConfigError;

/// The longest a service token may live.
pub const MAX_TOKEN_TTL_SECS: i64 = 3600;

/// What `POST /api/token` mints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTokenSettings {
    /// `TOKEN_TTL_SECS` (300; at most 3600).
    pub ttl_secs: i64,
    /// `TOKEN_AUDIENCES` (comma-separated): the services a token may be for.
    pub audiences: Vec<String>,
}

impl ServiceTokenSettings {
    pub(super) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let ttl_secs = match get("TOKEN_TTL_SECS") {
            None => 300,
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if n > MAX_TOKEN_TTL_SECS => {
                    return Err(ConfigError::new("TOKEN_TTL_SECS", "at most 3600 (1 hour)"));
                }
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(ConfigError::new(
                        "TOKEN_TTL_SECS",
                        "expected seconds, 1 to 3600",
                    ));
                }
            },
        };
        let audiences = get("TOKEN_AUDIENCES")
            .map(|v| {
                v.split(',')
                    .map(|a| a.trim().to_owned())
                    .filter(|a| !a.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            ttl_secs,
            audiences,
        })
    }
}

/// `MFA_ISSUER`: the issuer an authenticator app shows (default the
/// service's name); at most 64 characters, no `:`.
pub(super) fn mfa_issuer(get: impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    match get("MFA_ISSUER") {
        Some(issuer) if issuer.contains(':') || issuer.chars().count() > 64 => Err(
            ConfigError::new("MFA_ISSUER", "expected at most 64 characters, no ':'"),
        ),
        Some(issuer) => Ok(issuer),
        None => Ok(crate::SERVICE_NAME.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_lives_an_hour_at_most() {
        let with = |v: &'static str| move |k: &str| (k == "TOKEN_TTL_SECS").then(|| v.to_owned());
        assert!(ServiceTokenSettings::from_lookup(with("3601")).is_err());
        assert!(ServiceTokenSettings::from_lookup(with("0")).is_err());
        assert_eq!(
            ServiceTokenSettings::from_lookup(with("60"))
                .unwrap()
                .ttl_secs,
            60
        );
        let none = |_: &str| None;
        let defaults = ServiceTokenSettings::from_lookup(none).unwrap();
        assert_eq!((defaults.ttl_secs, defaults.audiences.len()), (300, 0));
    }
}
