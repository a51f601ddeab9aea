//! Device tokens, after OWASP's "Slow Down Online Guessing Attacks with
//! Device Cookies": a successful sign-in gives the client a signed token
//! naming the account; failures that come with it count against that token
//! alone, so a stranger's failures never lock out a device that has signed
//! in before.
//!
//! The token is `d1.<device id>.<account id>.<epoch>.<expires at>.<mac>`,
//! the MAC an HMAC-SHA256 under a key of its own ([`DeviceKey`]) that does
//! not rotate with the session key: rotating that must not untrust devices.
//! It is bound to the account (its id, never reused) and to the account's
//! device epoch, which a revert moves on, so a revert or a deletion voids
//! every device token of the account.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::session_token::MIN_SECRET_BYTES;
use super::{AccountId, WeakSecret};

/// Name of the cookie holding the device token (HttpOnly).
pub const DEVICE_COOKIE: &str = "device_token";
/// Header that carries the device token for clients without cookies.
pub const DEVICE_HEADER: &str = "x-device-token";
/// How long a device token is good for: one year.
pub const DEVICE_TTL_SECS: i64 = 365 * 24 * 3600;

const PREFIX: &str = "d1";
const ID_CHARS: usize = 22;

/// The key that signs device tokens (`DEVICE_SECRET`, or the secret
/// `DEVICE_SECRET_ARN` names): at least 32 bytes.
pub struct DeviceKey(SecretString);

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceKey(..)")
    }
}

/// One device: 16 random bytes, base64url. Names the device's failure run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceId(String);

impl DeviceId {
    /// The id (base64url).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An id as stored (by a pending sign-in), trusted as written.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }
}

/// What a valid device token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceClaims {
    /// The device.
    pub id: DeviceId,
    /// The account it signed in to.
    pub account_id: AccountId,
    /// That account's device epoch when it signed in.
    pub epoch: u64,
    /// Epoch seconds after which the token is void.
    pub expires_at: i64,
}

impl DeviceKey {
    /// A key from a secret of at least [`MIN_SECRET_BYTES`] bytes.
    pub fn new(secret: &SecretString) -> Result<Self, WeakSecret> {
        if secret.expose_secret().len() < MIN_SECRET_BYTES {
            return Err(WeakSecret);
        }
        Ok(Self(secret.clone()))
    }

    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        // HMAC takes keys of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose_secret().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(b"device-token:");
        mac.update(payload.as_bytes());
        mac
    }

    /// A new device token for `account` in its device `epoch`, good for
    /// [`DEVICE_TTL_SECS`] from `now`.
    pub fn issue(
        &self,
        account: &AccountId,
        epoch: u64,
        now: i64,
    ) -> Result<String, getrandom::Error> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id)?;
        let payload = format!(
            "{PREFIX}.{}.{}.{epoch}.{}",
            URL_SAFE_NO_PAD.encode(id),
            account.as_str(),
            now + DEVICE_TTL_SECS
        );
        let tag = URL_SAFE_NO_PAD.encode(self.mac(&payload).finalize().into_bytes());
        Ok(format!("{payload}.{tag}"))
    }

    /// The claims of a token this key signed that has not expired at `now`;
    /// `None` for anything else.
    pub fn verify(&self, token: &str, now: i64) -> Option<DeviceClaims> {
        if token.len() > 256 {
            return None;
        }
        let (payload, tag) = token.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(payload).verify_slice(&tag).ok()?;
        let mut parts = payload.split('.');
        let (prefix, id, account, epoch, expires_at) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if prefix != PREFIX || parts.next().is_some() || id.len() != ID_CHARS {
            return None;
        }
        let expires_at: i64 = expires_at.parse().ok()?;
        if expires_at <= now || account.is_empty() {
            return None;
        }
        Some(DeviceClaims {
            id: DeviceId(id.to_owned()),
            account_id: AccountId::from_stored(account.to_owned()),
            epoch: epoch.parse().ok()?,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> DeviceKey {
        DeviceKey::new(&SecretString::from(s.to_owned())).unwrap()
    }

    #[test]
    fn a_token_verifies_under_its_key_only_until_it_expires() {
        let k = key("device-secret-device-secret-0123456789");
        let account = AccountId::generate().unwrap();
        let token = k.issue(&account, 3, 1000).unwrap();
        let claims = k.verify(&token, 1001).unwrap();
        assert_eq!(claims.account_id, account);
        assert_eq!(claims.epoch, 3);
        assert_eq!(claims.expires_at, 1000 + DEVICE_TTL_SECS);
        assert!(k.verify(&token, 1000 + DEVICE_TTL_SECS).is_none());
        let other = key("another-device-secret-0123456789abcdef");
        assert!(other.verify(&token, 1001).is_none());
        // Every part is signed: change any character and it is refused.
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(bytes).unwrap();
            if forged != token {
                assert!(k.verify(&forged, 1001).is_none(), "{forged}");
            }
        }
        assert!(k.verify("", 0).is_none());
        assert!(k.verify("d1.a.b.c.d.e", 0).is_none());
        let fresh = k.issue(&account, 3, 1000).unwrap();
        assert_ne!(k.verify(&fresh, 1001).unwrap().id, claims.id);
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(DeviceKey::new(&SecretString::from("short".to_owned())).is_err());
    }
}
