//! Email addresses: syntax checked by a maintained crate, length, and the
//! one case-folding rule for uniqueness.

use std::fmt;

use email_address::Options;

/// An email address with valid syntax, at most 254 characters, that our mail
/// library can also address. Unique case-insensitively.
/// Two addresses are equal when they are one mailbox (their keys are).
#[derive(Clone)]
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
    ///
    /// Only addresses the mail path can deliver are accepted: the local part
    /// is plain ASCII (no quoted strings, no UTF-8: SES refuses those), and an
    /// internationalised domain is kept in its ASCII (punycode) form, the one
    /// mail is sent to.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        if raw.chars().count() > 254 {
            return Err(EmailError::TooLong);
        }
        email_address::EmailAddress::parse_with_options(raw, OPTIONS)
            .map_err(|_| EmailError::Syntax)?;
        let (local, domain) = raw.rsplit_once('@').ok_or(EmailError::Syntax)?;
        let plain_local = !local.is_empty()
            && local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b));
        if !plain_local {
            return Err(EmailError::Syntax);
        }
        let address = if domain.is_ascii() {
            raw.to_owned()
        } else {
            let ascii = idna::domain_to_ascii(domain).map_err(|_| EmailError::Syntax)?;
            format!("{local}@{ascii}")
        };
        if address.len() > 254 {
            return Err(EmailError::TooLong);
        }
        // The address must also be one lettre can put in a To: header.
        address
            .parse::<lettre::Address>()
            .map_err(|_| EmailError::Syntax)?;
        Ok(Self::from_stored(address))
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

/// The one rule that makes one mailbox one key: the ASCII local part
/// lowercased, and the domain in its canonical ASCII form (UTS 46: case,
/// Unicode compatibility forms and punycode), so `Kim@Example.COM`,
/// `kim@example.com` and a domain typed in full-width letters are one key.
fn key_of(raw: &str) -> String {
    match raw.rsplit_once('@') {
        Some((local, domain)) => {
            let domain = idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_lowercase());
            format!("{}@{domain}", local.to_ascii_lowercase())
        }
        None => raw.to_lowercase(),
    }
}

impl EmailAddress {
    /// The SHA-256 of the mailbox the address delivers to, for mail
    /// budgets (never for identity: account keys stay [`EmailAddress::key`]).
    /// A `+tag` is dropped from the local part on every domain, and on
    /// gmail.com and googlemail.com (one mailbox) dots do not count either,
    /// so that `v.i.c.t.i.m+1@gmail.com` and `victim@googlemail.com` draw on
    /// one budget.
    pub fn mailbox_digest(&self) -> String {
        super::token::sha256_hex(&mailbox_of(&self.key))
    }
}

/// The mailbox a key delivers to (see [`EmailAddress::mailbox_digest`]).
fn mailbox_of(key: &str) -> String {
    let Some((local, domain)) = key.rsplit_once('@') else {
        return key.to_owned();
    };
    let local = local.split_once('+').map_or(local, |(base, _)| base);
    match domain {
        "gmail.com" | "googlemail.com" => format!("{}@gmail.com", local.replace('.', "")),
        _ => format!("{local}@{domain}"),
    }
}

impl PartialEq for EmailAddress {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for EmailAddress {}

impl std::hash::Hash for EmailAddress {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
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
            "dmitriyz@example.com",
            "A.B+tag@Example.COM",
            "x_y@sub.domain.org",
        ] {
            let e = EmailAddress::parse(ok).unwrap();
            assert_eq!(e.as_str(), ok);
            assert_eq!(e.key(), ok.to_lowercase());
        }
    }

    #[test]
    fn only_addresses_the_mail_path_can_deliver_are_accepted() {
        for bad in [
            "\"a b\"@example.com",
            "\"ab\"@example.com",
            "jos\u{e9}@example.com",
            "\u{212A}im@x.com",
            "\u{444}@example.com",
        ] {
            assert_eq!(EmailAddress::parse(bad), Err(EmailError::Syntax), "{bad:?}");
        }
        let idn = EmailAddress::parse("kim@b\u{fc}cher.example").unwrap();
        assert_eq!(idn.as_str(), "kim@xn--bcher-kva.example");
    }

    #[test]
    fn one_mailbox_has_one_key() {
        let key = |a: &str| EmailAddress::parse(a).unwrap().key().to_owned();
        assert_eq!(key("Kim@Example.COM"), "kim@example.com");
        assert_eq!(key("kim@\u{ff45}xample.com"), "kim@example.com");
        assert_eq!(
            key("kim@B\u{dc}CHER.example"),
            key("kim@xn--bcher-kva.example")
        );
        assert_ne!(key("kim@x.com"), key("kin@x.com"));
    }

    #[test]
    fn one_mailbox_has_one_budget_whatever_its_spelling() {
        let mailbox = |a: &str| EmailAddress::parse(a).unwrap().mailbox_digest();
        let victim = mailbox("victim@example.com");
        assert_eq!(mailbox("Victim+1@Example.com"), victim);
        assert_eq!(mailbox("victim+a+b@example.com"), victim);
        assert_ne!(mailbox("v.ictim@example.com"), victim);
        let gmail = mailbox("victim@gmail.com");
        for same in [
            "v.i.c.t.i.m@gmail.com",
            "Vic.Tim+x@GMAIL.com",
            "victim@googlemail.com",
            "vic.tim+y@googlemail.com",
        ] {
            assert_eq!(mailbox(same), gmail, "{same}");
        }
        assert_ne!(mailbox("victim2@gmail.com"), gmail);
        // Identity is untouched: these are different accounts' addresses.
        let key = |a: &str| EmailAddress::parse(a).unwrap().key().to_owned();
        assert_ne!(key("v.ictim@gmail.com"), key("victim@gmail.com"));
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
