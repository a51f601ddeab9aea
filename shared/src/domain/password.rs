//! New passwords: length, not the username, not known-common (zxcvbn).

use secrecy::{ExposeSecret, SecretString};
use zxcvbn::matching::patterns::MatchPattern;

use super::Username;

/// A password that passed the rules: 8-128 characters, not the username, not a
/// known-common password. The text is a secret: no `Debug`, no `Display`.
pub struct Password(SecretString);

/// Why a new password is refused (the handler prefixes the field name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than 8 or more than 128 characters.
    #[error("must be 8-128 characters.")]
    Length,
    /// Equal to the username (ignoring case).
    #[error("must not be the username.")]
    SameAsUsername,
    /// A known-common or trivially guessable password.
    #[error("is too common.")]
    Common,
}

impl Password {
    /// Checks a new password for the account of `username`.
    pub fn parse(raw: &str, username: &Username) -> Result<Self, PasswordError> {
        let len = raw.chars().count();
        if !(8..=128).contains(&len) {
            return Err(PasswordError::Length);
        }
        // Unicode case folding on the password side catches look-alikes
        // such as the Kelvin sign for "k".
        if raw.to_lowercase() == username.key() {
            return Err(PasswordError::SameAsUsername);
        }
        if is_common(raw, username.key()) {
            return Err(PasswordError::Common);
        }
        Ok(Self(SecretString::from(raw)))
    }

    /// The secret, for hashing.
    pub fn secret(&self) -> &SecretString {
        &self.0
    }

    /// The text, for hashing only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// A password is "known-common" when zxcvbn explains all of it with a single
/// pattern (one dictionary word or leaked password, one keyboard walk, one
/// repeat, sequence or date), or rates it guessable in under a thousand tries.
fn is_common(raw: &str, username_key: &str) -> bool {
    let entropy = zxcvbn::zxcvbn(raw, &[username_key]);
    let single_pattern = match entropy.sequence() {
        [only] => !matches!(only.pattern, MatchPattern::BruteForce),
        _ => false,
    };
    single_pattern || entropy.score() == zxcvbn::Score::Zero
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_reasonable_passwords() {
        for ok in [
            "correct horse battery staple",
            "S3cure-Passw0rd!",
            "Str0ng-Pa55word",
            "tr0ub4dor&3x",
            "NewPassw0rd!42",
            "Seven quiet otters juggle 42 amber lanterns while the northern tram hums; Brisk pilots whisper 9 recipes under violet umbrellas!",
        ] {
            assert!(
                Password::parse(ok, &Username::from_stored("admin".into())).is_ok(),
                "{ok}"
            );
        }
    }

    #[test]
    fn rejects_bad_passwords() {
        for (bad, why) in [
            ("1234", PasswordError::Length),
            ("", PasswordError::Length),
            ("Sh0rt!x", PasswordError::Length),
            (&"Ab1!".repeat(33), PasswordError::Length),
            ("AdminUser", PasswordError::SameAsUsername),
            ("password", PasswordError::Common),
            ("Password", PasswordError::Common),
            ("password1", PasswordError::Common),
            ("12345678", PasswordError::Common),
            ("qwertyuiop", PasswordError::Common),
            ("aaaaaaaaaa", PasswordError::Common),
            ("abcdefghij", PasswordError::Common),
            ("iloveyou", PasswordError::Common),
            ("football", PasswordError::Common),
        ] {
            assert_eq!(
                Password::parse(bad, &Username::from_stored("adminuser".into())).err(),
                Some(why),
                "{bad:?}"
            );
        }
    }
}
