//! Security activity's settings: how long it is kept
//! (`ACTIVITY_TTL_SECS`) and the "new sign-in" mail (`NEW_SIGNIN_MAIL`,
//! `NEW_SIGNIN_MAIL_CAP`).

use super::ConfigError;
use crate::domain::activity::ACTIVITY_TTL_SECS;

/// What the security activity keeps and mails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivitySettings {
    /// `ACTIVITY_TTL_SECS` (90 days): how long an activity item is kept.
    pub ttl_secs: i64,
    /// `NEW_SIGNIN_MAIL` (on): mail the owner about a sign-in from a client
    /// without a valid device token of the account.
    pub new_signin_mail: bool,
    /// `NEW_SIGNIN_MAIL_CAP` (10): at most this many such mails per
    /// account per day; past it, sign-ins go on unannounced.
    pub new_signin_mail_cap: u32,
}

impl ActivitySettings {
    pub(super) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let number = |name: &'static str, default: i64| match get(name) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(ConfigError::new(name, "expected a positive whole number")),
            },
        };
        let new_signin_mail = match get("NEW_SIGNIN_MAIL").map(|v| v.trim().to_ascii_lowercase()) {
            None => true,
            Some(v) if matches!(v.as_str(), "on" | "true" | "1") => true,
            Some(v) if matches!(v.as_str(), "off" | "false" | "0") => false,
            Some(_) => return Err(ConfigError::new("NEW_SIGNIN_MAIL", "expected on or off")),
        };
        let cap = number("NEW_SIGNIN_MAIL_CAP", 10)?;
        Ok(Self {
            ttl_secs: number("ACTIVITY_TTL_SECS", ACTIVITY_TTL_SECS)?,
            new_signin_mail,
            new_signin_mail_cap: u32::try_from(cap)
                .map_err(|_| ConfigError::new("NEW_SIGNIN_MAIL_CAP", "too large"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_switches() {
        let none = |_: &str| None;
        let d = ActivitySettings::from_lookup(none).unwrap();
        assert_eq!(
            (d.ttl_secs, d.new_signin_mail, d.new_signin_mail_cap),
            (7_776_000, true, 10)
        );
        let off = |k: &str| (k == "NEW_SIGNIN_MAIL").then(|| "false".to_owned());
        assert!(!ActivitySettings::from_lookup(off).unwrap().new_signin_mail);
        let bad = |k: &str| (k == "ACTIVITY_TTL_SECS").then(|| "-1".to_owned());
        assert!(ActivitySettings::from_lookup(bad).is_err());
        let odd = |k: &str| (k == "NEW_SIGNIN_MAIL").then(|| "maybe".to_owned());
        assert!(ActivitySettings::from_lookup(odd).is_err());
    }
}
