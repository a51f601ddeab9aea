//! One-time tokens (32 random bytes, only their SHA-256 stored) and session ids.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// A one-time email token: 32 random bytes, base64url. Only its hash is stored.
pub struct OneTimeToken(SecretString);

/// The SHA-256 of a text, lowercase hex.
pub(crate) fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(b & 0xf)]));
    }
    hex
}

/// The SHA-256 (hex) of a one-time token: what the store keeps and looks up.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

const TOKEN_BYTES: usize = 32;
const TOKEN_CHARS: usize = 43;

impl OneTimeToken {
    /// A fresh random token.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(Self(SecretString::from(URL_SAFE_NO_PAD.encode(bytes))))
    }

    /// The text that goes into the emailed link, and nowhere else.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The hash to store.
    pub fn hash(&self) -> TokenHash {
        TokenHash::digest(self.expose())
    }
}

impl TokenHash {
    /// The hash of a token taken from a link, or `None` when it cannot be one of ours.
    pub fn from_link(raw: &str) -> Option<Self> {
        let well_formed = raw.len() == TOKEN_CHARS
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| Self::digest(raw))
    }

    /// A hash as read back from the store.
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    fn digest(raw: &str) -> Self {
        Self(sha256_hex(raw))
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}..)", &self.0[..self.0.len().min(8)])
    }
}

/// The identifier of one login session: 16 random bytes, base64url.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionId(String);

const SID_CHARS: usize = 22;

impl SessionId {
    /// A fresh random session id.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A session id taken from a verified JWT, if well formed.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() == SID_CHARS
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(raw.to_owned()))
    }

    /// A session id read back from our own records, not checked again.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    /// A handle that names this session in a list without being it: the
    /// first 16 bytes of a SHA-256 of the id, base64url. Not a credential.
    pub fn handle(&self) -> String {
        let digest = Sha256::digest(format!("session-handle:{}", self.0).as_bytes());
        URL_SAFE_NO_PAD.encode(&digest[..16])
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The identity of one account, random and never reused: a username can be
/// registered again after its account is gone, but sessions and one-time
/// tokens name the account they were made for, so none of them ever works
/// for a later account with the same name. Empty for accounts stored
/// before accounts had ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AccountId(String);

impl AccountId {
    /// A fresh random id (16 bytes, base64url).
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// An id read back from our own records.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    /// The id (empty for a legacy account).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is an account from before accounts had ids.
    pub fn is_legacy(&self) -> bool {
        self.0.is_empty()
    }
}

impl serde::Serialize for AccountId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for AccountId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_chars_and_hash_consistently() {
        let t = OneTimeToken::generate().unwrap();
        assert_eq!(t.expose().len(), 43);
        assert_eq!(TokenHash::from_link(t.expose()), Some(t.hash()));
        assert_eq!(t.hash().as_str().len(), 64);
        assert_ne!(t.hash().as_str(), t.expose());
        let other = OneTimeToken::generate().unwrap();
        assert_ne!(t.expose(), other.expose());
    }

    #[test]
    fn rejects_malformed_link_tokens() {
        for bad in [
            "",
            "abc",
            &"a".repeat(42),
            &"a".repeat(44),
            &format!("{}=", "a".repeat(42)),
            &format!("{}/", "a".repeat(42)),
        ] {
            assert!(TokenHash::from_link(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn session_ids_round_trip() {
        let sid = SessionId::generate().unwrap();
        assert_eq!(SessionId::parse(sid.as_str()), Some(sid.clone()));
        assert!(SessionId::parse("short").is_none());
    }
}
