//! Usernames: syntax, the reserved list, and the one case-folding rule that
//! makes `Admin` and `admin` the same account.

use std::fmt;

/// A username as registered: 3-32 characters of `A-Z a-z 0-9 _ - .`, starting
/// with a letter or digit, not reserved. Unique case-insensitively.
/// Two usernames are equal when their keys are (`Admin` == `admin`).
#[derive(Clone)]
pub struct Username {
    display: String,
    key: String,
}

/// Why a username is refused (the client sees only "username is not allowed.").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Bad length, characters or first character.
    #[error("bad syntax")]
    Syntax,
    /// On the reserved list.
    #[error("reserved")]
    Reserved,
}

/// Names that would let an account impersonate the service or its operators.
/// `admin` is deliberately absent: it is the seed's own example.
const RESERVED: &[&str] = &[
    "root",
    "api",
    "system",
    "support",
    "postmaster",
    "abuse",
    "noreply",
    "no-reply",
    "no_reply",
    "hostmaster",
    "webmaster",
    "mailer-daemon",
    "security",
    "user_account",
];

impl Username {
    /// Parses a username as typed by the user.
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let len = raw.chars().count();
        let first_ok = raw
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let chars_ok = raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !(3..=32).contains(&len) || !first_ok || !chars_ok {
            return Err(UsernameError::Syntax);
        }
        let key = key_of(raw);
        if RESERVED.contains(&key.as_str()) {
            return Err(UsernameError::Reserved);
        }
        Ok(Self {
            display: raw.to_owned(),
            key,
        })
    }

    /// A username read back from our own records (the store, a token
    /// record): valid when written, so not checked again.
    pub fn from_stored(raw: String) -> Self {
        Self {
            key: key_of(&raw),
            display: raw,
        }
    }

    /// The username as first written (`Admin`).
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The case-insensitive identity (`admin`): the storage key and JWT subject.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The one case-folding rule for usernames: ASCII only (usernames are ASCII).
fn key_of(raw: &str) -> String {
    raw.to_ascii_lowercase()
}

impl PartialEq for Username {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Username {}

impl std::hash::Hash for Username {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl serde::Serialize for Username {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.display)
    }
}

impl<'de> serde::Deserialize<'de> for Username {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::from_stored)
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Username").field(&self.display).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names_and_keeps_their_case() {
        for ok in [
            "Admin",
            "admin",
            "abc",
            "a.b-c_d",
            "9lives",
            &"x".repeat(32),
        ] {
            let u = Username::parse(ok).unwrap();
            assert_eq!(u.as_str(), ok);
            assert_eq!(u.key(), ok.to_ascii_lowercase());
        }
    }

    #[test]
    fn rejects_bad_syntax() {
        for bad in [
            "",
            "ab",
            &"x".repeat(33),
            "_abc",
            ".abc",
            "-abc",
            "ab c",
            "ab@c",
            "abç",
            "ab\u{0}c",
            "ab/c",
        ] {
            assert_eq!(Username::parse(bad), Err(UsernameError::Syntax), "{bad:?}");
        }
    }

    #[test]
    fn rejects_reserved_names_in_any_case() {
        for bad in [
            "root",
            "ROOT",
            "Api",
            "system",
            "support",
            "postmaster",
            "abuse",
            "noreply",
        ] {
            assert_eq!(Username::parse(bad), Err(UsernameError::Reserved), "{bad}");
        }
    }
}
