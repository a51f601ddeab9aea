//! Profile fields: full name, phone and contacts, each with its length and
//! character rules.

/// Why a profile field is refused (the handler prefixes the field name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// Empty after trimming, or over the limit.
    #[error("must be {0}-{1} characters.")]
    Length(usize, usize),
    /// Contains a control character.
    #[error("must not contain control characters.")]
    Control,
}

/// A full name: 1-100 characters after trimming, no control characters. Stored trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    /// Parses a full name.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        if !(1..=100).contains(&trimmed.chars().count()) {
            return Err(FieldError::Length(1, 100));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(FieldError::Control);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An optional phone number: at most 32 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parses a phone number.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.chars().count() > 32 {
            return Err(FieldError::Length(0, 32));
        }
        if raw.chars().any(char::is_control) {
            return Err(FieldError::Control);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The phone number, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Optional free-form contacts: at most 1000 characters; line breaks and tabs
/// are allowed, other control characters are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contacts(String);

impl Contacts {
    /// Parses contacts.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.chars().count() > 1000 {
            return Err(FieldError::Length(0, 1000));
        }
        if raw
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(FieldError::Control);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The contacts, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_name_is_trimmed_and_bounded() {
        assert_eq!(
            FullName::parse("  Admin A.A. ").unwrap().as_str(),
            "Admin A.A."
        );
        assert!(FullName::parse(&"é".repeat(100)).is_ok());
        for bad in ["", "   ", &"x".repeat(101), "a\u{7}b", "a\nb"] {
            assert!(FullName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn phone_and_contacts_are_bounded() {
        assert!(Phone::parse("+7 (999) 123-45-67").is_ok());
        assert!(Phone::parse("").is_ok());
        for bad in [&"1".repeat(33), "12\n3"] {
            assert!(Phone::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Contacts::parse("tg: @me\nskype: me").is_ok());
        for bad in [&"c".repeat(1001), "a\u{0}b"] {
            assert!(Contacts::parse(bad).is_err(), "{bad:?}");
        }
    }
}
