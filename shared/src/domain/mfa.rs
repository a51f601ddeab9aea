//! The second factor: TOTP (RFC 6238: SHA-1, 6 digits, 30 s, one step of
//! skew either way) with recovery codes, and how both are kept at rest.
//!
//! A TOTP secret is stored sealed with XChaCha20-Poly1305 and a recovery
//! code as an HMAC-SHA256, both under keys derived (HKDF-SHA256) from a
//! secret that is not in the table ([`FactorKey`]: `MFA_SECRET_ARN`, or
//! `MFA_SECRET` locally), so a dump of the table yields no usable secret and
//! no code to brute-force offline. A sealed secret is bound to its account
//! (the account id is the AEAD's associated data): it cannot be moved to
//! another account's row.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use super::session_token::MIN_SECRET_BYTES;
use super::{AccountId, Username, WeakSecret};

/// Seconds per TOTP step.
pub const TOTP_STEP_SECS: u64 = 30;
/// Recovery codes per set.
pub const RECOVERY_CODES: usize = 10;
/// How long a sign-in waits for its second factor.
pub const MFA_TOKEN_TTL_SECS: i64 = 300;
/// Wrong codes a pending sign-in survives; the next one ends it.
pub const MFA_MAX_FAILURES: u32 = 5;
/// The methods a pending sign-in accepts, as the 401 names them.
pub const MFA_METHODS: [&str; 2] = ["totp", "recovery_code"];

/// Recovery codes are 12 characters of this 32-letter alphabet (60 bits;
/// no `l`, `o`, `0` or `1` to misread), shown as `xxxx-xxxx-xxxx`.
const CODE_ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
const CODE_CHARS: usize = 12;
const SEALED_PREFIX: &str = "v1.";
const SECRET_BYTES: usize = 20;

/// The keys of the factors at rest, derived from one secret.
pub struct FactorKey {
    aead: XChaCha20Poly1305,
    mac: [u8; 32],
}

impl fmt::Debug for FactorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FactorKey(..)")
    }
}

/// A stored factor could not be opened: the key is not the one that
/// sealed it, or the value was changed. Never shown to clients (500).
#[derive(Debug, thiserror::Error)]
#[error("a sealed factor does not open with this key")]
pub struct SealError;

impl FactorKey {
    /// Derives the keys from `secret` (at least 32 bytes).
    pub fn new(secret: &SecretString) -> Result<Self, WeakSecret> {
        let ikm = secret.expose_secret().as_bytes();
        if ikm.len() < MIN_SECRET_BYTES {
            return Err(WeakSecret);
        }
        let hk = Hkdf::<Sha256>::new(Some(b"user_account factors"), ikm);
        let mut enc = [0u8; 32];
        let mut mac = [0u8; 32];
        hk.expand(b"totp secret sealing v1", &mut enc)
            .map_err(|_| WeakSecret)?;
        hk.expand(b"recovery code hashing v1", &mut mac)
            .map_err(|_| WeakSecret)?;
        Ok(Self {
            aead: XChaCha20Poly1305::new(&enc.into()),
            mac,
        })
    }

    /// `secret` sealed for `account`: `v1.<base64url(nonce || ciphertext)>`.
    pub fn seal(&self, account: &AccountId, secret: &TotpSecret) -> Result<String, SealError> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|_| SealError)?;
        let sealed = self
            .aead
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &secret.0,
                    aad: aad(account).as_bytes(),
                },
            )
            .map_err(|_| SealError)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// The secret [`Self::seal`] sealed for `account`.
    pub fn open(&self, account: &AccountId, sealed: &str) -> Result<TotpSecret, SealError> {
        let raw = sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .filter(|b| b.len() > 24)
            .ok_or(SealError)?;
        let (nonce, ciphertext) = raw.split_at(24);
        let secret = self
            .aead
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: aad(account).as_bytes(),
                },
            )
            .map_err(|_| SealError)?;
        Ok(TotpSecret(secret))
    }

    /// The stored form of a recovery code of `account`: hex HMAC-SHA256.
    pub fn code_hash(&self, account: &AccountId, code: &RecoveryCode) -> String {
        #[allow(clippy::expect_used)] // HMAC takes a key of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac).expect("any key length");
        mac.update(aad(account).as_bytes());
        mac.update(b"\0");
        mac.update(code.0.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

impl FactorKey {
    /// The account's WebAuthn user handle: opaque (not the username), the
    /// same for every passkey of the account, never reused by another
    /// account (the account id is not; an account from before ids, which
    /// all share the empty one, is told apart by its username), and
    /// derived, so nothing stores it.
    pub fn user_handle(&self, account: &AccountId, username: &Username) -> [u8; 16] {
        #[allow(clippy::expect_used)] // HMAC takes a key of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac).expect("any key length");
        mac.update(b"user_account webauthn user handle\0");
        mac.update(account.as_str().as_bytes());
        if account.is_legacy() {
            mac.update(b"\0legacy\0");
            mac.update(username.key().as_bytes());
        }
        let digest = mac.finalize().into_bytes();
        let mut handle = [0u8; 16];
        handle.copy_from_slice(&digest[..16]);
        handle
    }
}

fn aad(account: &AccountId) -> String {
    format!("user_account totp {}", account.as_str())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A TOTP secret in the clear (only ever in memory).
pub struct TotpSecret(Vec<u8>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    /// 160 random bits (RFC 4226's recommended length).
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = vec![0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    fn totp(&self, issuer: &str, username: &Username) -> Totp {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(TOTP_STEP_SECS)
            .with_secret(Secret::from(self.0.clone()))
            .with_issuer(Some(issuer))
            .with_account_name(username.as_str())
            // Checked by `enrolment`'s test and the issuer's check in
            // Config: a 160-bit secret, 6 digits, no ':' in the names.
            .build_noncompliant()
    }

    /// The key as an authenticator app takes it typed: RFC 4648 base32.
    pub fn base32(&self) -> String {
        Secret::from(self.0.clone()).to_base32()
    }

    /// The `otpauth://totp/...` URI an authenticator app scans.
    pub fn otpauth_uri(&self, issuer: &str, username: &Username) -> Option<String> {
        self.totp(issuer, username).to_url().ok()
    }

    /// The step of `code` (one step of skew either way) at `now`, or
    /// `None` when it is not this secret's code around then.
    pub fn step_of(&self, code: &str, now: i64) -> Option<u64> {
        let now = u64::try_from(now).ok()?;
        // The issuer and name do not change the codes.
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(TOTP_STEP_SECS)
            .with_secret(Secret::from(self.0.clone()))
            .build_noncompliant();
        totp.check(code, now)
    }
}

/// A code as a user typed it: a TOTP code or a recovery code.
#[derive(Clone, PartialEq, Eq)]
pub enum FactorCode {
    /// Six digits.
    Totp(String),
    /// A recovery code, normalised.
    Recovery(RecoveryCode),
    /// Neither: always wrong (and counted as a wrong code).
    Junk,
}

impl fmt::Debug for FactorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Totp(_) => "FactorCode::Totp(..)",
            Self::Recovery(_) => "FactorCode::Recovery(..)",
            Self::Junk => "FactorCode::Junk",
        })
    }
}

impl FactorCode {
    /// Reads a typed code: spaces and dashes are ignored, and case.
    pub fn parse(raw: &str) -> Self {
        let clean: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_lowercase)
            .collect();
        if clean.len() == 6 && clean.bytes().all(|b| b.is_ascii_digit()) {
            Self::Totp(clean)
        } else if clean.len() == CODE_CHARS && clean.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
            Self::Recovery(RecoveryCode(clean))
        } else {
            Self::Junk
        }
    }
}

/// A recovery code, normalised (12 lowercase characters, no dashes).
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(..)")
    }
}

impl RecoveryCode {
    /// A fresh code: 60 random bits.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; CODE_CHARS];
        getrandom::fill(&mut bytes)?;
        // 256 is a multiple of 32: masking keeps every letter equally likely.
        Ok(Self(
            bytes
                .iter()
                .map(|b| char::from(CODE_ALPHABET[usize::from(b & 31)]))
                .collect(),
        ))
    }

    /// As shown to the user: `xxxx-xxxx-xxxx`.
    pub fn display(&self) -> String {
        format!("{}-{}-{}", &self.0[..4], &self.0[4..8], &self.0[8..])
    }
}

/// The raw token of a sign-in waiting for its second factor:
/// `<username key>~<32 random bytes, base64url>`. The username names the
/// partition its record is in; only the hash of the whole token is stored.
pub struct MfaToken(SecretString);

impl fmt::Debug for MfaToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MfaToken(..)")
    }
}

impl MfaToken {
    /// A fresh token for a sign-in of `username`.
    pub fn generate(username: &Username) -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(Self(SecretString::from(format!(
            "{}~{}",
            username.key(),
            URL_SAFE_NO_PAD.encode(bytes)
        ))))
    }

    /// The token as the client gets it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The username and the stored hash of a presented token; `None` for
    /// anything that is not one.
    pub fn parse(raw: &str) -> Option<(Username, String)> {
        let (name, random) = raw.rsplit_once('~')?;
        let random_ok = random.len() == 43
            && random
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !random_ok {
            return None;
        }
        let username = Username::parse(name).ok()?;
        (username.key() == name).then(|| (username, Self::hash_of(raw)))
    }

    /// The hash of this token (what is stored).
    pub fn hash(&self) -> String {
        Self::hash_of(self.expose())
    }

    fn hash_of(raw: &str) -> String {
        hex(&Sha256::digest(raw.as_bytes()))
    }
}

/// The QR code of `uri` as an SVG document: black modules on white, with a
/// quiet zone, no script and no style (the pages' CSP allows neither).
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(uri, qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> FactorKey {
        FactorKey::new(&SecretString::from("k".repeat(32))).unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_account_and_key() {
        let secret = TotpSecret::generate().unwrap();
        let a = AccountId::generate().unwrap();
        let b = AccountId::generate().unwrap();
        let sealed = key().seal(&a, &secret).unwrap();
        assert!(!sealed.contains(&secret.base32()));
        assert_eq!(key().open(&a, &sealed).unwrap().0, secret.0);
        assert!(key().open(&b, &sealed).is_err());
        let other = FactorKey::new(&SecretString::from("x".repeat(32))).unwrap();
        assert!(other.open(&a, &sealed).is_err());
        assert!(FactorKey::new(&SecretString::from("short")).is_err());
    }

    #[test]
    fn codes_parse_as_typed() {
        assert!(matches!(FactorCode::parse(" 123 456 "), FactorCode::Totp(c) if c == "123456"));
        let code = RecoveryCode::generate().unwrap();
        assert_eq!(
            FactorCode::parse(&code.display().to_uppercase()),
            FactorCode::Recovery(code.clone())
        );
        assert_eq!(FactorCode::parse("12345"), FactorCode::Junk);
        assert_eq!(FactorCode::parse("abcd-efgh-ijk0"), FactorCode::Junk);
        let a = AccountId::generate().unwrap();
        assert_ne!(
            key().code_hash(&a, &code),
            key().code_hash(&AccountId::generate().unwrap(), &code)
        );
    }

    #[test]
    fn mfa_tokens_name_their_user() {
        let user = Username::parse("Some.User").unwrap();
        let token = MfaToken::generate(&user).unwrap();
        let (parsed, hash) = MfaToken::parse(token.expose()).unwrap();
        assert_eq!(parsed.key(), user.key());
        assert_eq!(hash, token.hash());
        assert!(MfaToken::parse("some.user~short").is_none());
        assert!(MfaToken::parse(&token.expose().replace("some.user", "Some.User")).is_none());
    }

    #[test]
    fn the_uri_and_qr_code_are_built() {
        let secret = TotpSecret::generate().unwrap();
        let user = Username::parse("alice").unwrap();
        let uri = secret.otpauth_uri("user_account", &user).unwrap();
        assert!(
            uri.starts_with("otpauth://totp/user_account:alice?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={}", secret.base32())));
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.contains("<svg") && !svg.contains("<script") && !svg.contains("style"));
    }
}
