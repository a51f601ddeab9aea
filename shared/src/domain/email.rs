//! Email addresses: syntax checked by a maintained crate, length, and the
//! one case-folding rule for uniqueness.

use std::fmt;

use email_address::Options;

/// An email address with valid syntax, at most 254 characters, that our mail
/// library can also address. Unique case-insensitively.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress {
    display: String,
    key: String,
}

/// Why an email address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Not an address, or one we cannot send to.
    #[error("is not a valid email address.")]
    Syntax,
    /// Over 254 characters.
    #[error("must be at most 254 characters.")]
    TooLong,
}

const OPTIONS: Options = Options {
    // "t@t.t" (the seed's example) has a dot in the domain; "a@localhost" does not.
    minimum_sub_domains: 2,
    allow_domain_literal: false,
    allow_display_text: false,
    allow_long_local_parts: false,
};

impl EmailAddress {
    /// Parses an address as typed (surrounding whitespace is not trimmed).
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        if raw.chars().count() > 254 {
            return Err(EmailError::TooLong);
        }
        email_address::EmailAddress::parse_with_options(raw, OPTIONS)
            .map_err(|_| EmailError::Syntax)?;
        // The address must also be one lettre can put in a To: header.
        raw.parse::<lettre::Address>()
            .map_err(|_| EmailError::Syntax)?;
        Ok(Self::from_stored(raw.to_owned()))
    }

    /// An address read back from our own records: valid when written, so
    /// not checked again.
    pub fn from_stored(raw: String) -> Self {
        Self {
            key: key_of(&raw),
            display: raw,
        }
    }

    /// The address as registered.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The case-insensitive identity used for uniqueness.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The one case-folding rule for addresses: the whole address, Unicode-aware.
fn key_of(raw: &str) -> String {
    raw.to_lowercase()
}

impl serde::Serialize for EmailAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.display)
    }
}

impl<'de> serde::Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::from_stored)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailAddress(")?;
        f.write_str(&super::mask_email(&self.display))?;
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_addresses() {
        for ok in [
            "t@t.t",
            "dmitriyz@yandex.ru",
            "A.B+tag@Example.COM",
            "x_y@sub.domain.org",
        ] {
            let e = EmailAddress::parse(ok).unwrap();
            assert_eq!(e.as_str(), ok);
            assert_eq!(e.key(), ok.to_lowercase());
        }
    }

    #[test]
    fn rejects_invalid_addresses() {
        let long = format!("{}@example.com", "a".repeat(250));
        for (bad, why) in [
            ("", EmailError::Syntax),
            ("plain", EmailError::Syntax),
            ("a@", EmailError::Syntax),
            ("@b.c", EmailError::Syntax),
            ("a@localhost", EmailError::Syntax),
            ("a b@c.d", EmailError::Syntax),
            ("Name <a@b.c>", EmailError::Syntax),
            ("a@[127.0.0.1]", EmailError::Syntax),
            (" a@b.c", EmailError::Syntax),
            ("a@b.c\r\nBcc: x@y.z", EmailError::Syntax),
            (long.as_str(), EmailError::TooLong),
        ] {
            assert_eq!(EmailAddress::parse(bad), Err(why), "{bad:?}");
        }
    }
}
