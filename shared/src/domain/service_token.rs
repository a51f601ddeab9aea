//! Service tokens: short JWTs for one service (`aud`), signed RS256 with a
//! key pair of their own, verified by a team's services with our JWKS
//! (API Gateway's JWT authorizer accepts RSA only). Signed with aws-lc-rs
//! directly: the session tokens' verifier stays HS256-only, so neither kind
//! of token can pass for the other.

use std::fmt;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rustls_pki_types::PrivatePkcs8KeyDer;
use rustls_pki_types::pem::PemObject;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A key that cannot be used: not a PKCS#8 RSA private key of 2048 bits or
/// more.
#[derive(Debug, thiserror::Error)]
#[error("service key: {0}")]
pub struct BadServiceKey(String);

/// One RS256 signing key, with its `kid` (the RFC 7638 thumbprint of its
/// public JWK).
pub struct ServiceKey {
    pair: RsaKeyPair,
    kid: String,
    n: String,
    e: String,
}

impl fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceKey({})", self.kid)
    }
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl ServiceKey {
    /// A key from a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self, BadServiceKey> {
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem.trim().as_bytes())
            .map_err(|e| BadServiceKey(e.to_string()))?;
        let pair = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
            .map_err(|e| BadServiceKey(e.to_string()))?;
        if pair.public_modulus_len() < 256 {
            return Err(BadServiceKey("an RSA key of at least 2048 bits".into()));
        }
        let public = pair.public_key();
        let n = b64(public.modulus().big_endian_without_leading_zero());
        let e = b64(public.exponent().big_endian_without_leading_zero());
        // RFC 7638: the required members, in lexicographic order, no spaces.
        let thumbprint = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = b64(Sha256::digest(thumbprint.as_bytes()));
        Ok(Self { pair, kid, n, e })
    }

    /// A new 2048-bit key as a PKCS#8 PEM (the dev server, the rotation).
    pub fn generate_pem() -> Result<String, BadServiceKey> {
        let pair =
            RsaKeyPair::generate(KeySize::Rsa2048).map_err(|e| BadServiceKey(e.to_string()))?;
        let der =
            AsDer::<Pkcs8V1Der<'_>>::as_der(&pair).map_err(|e| BadServiceKey(e.to_string()))?;
        let body = STANDARD.encode(der.as_ref());
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        Ok(pem)
    }

    /// The key's id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "n": self.n,
            "e": self.e,
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
        })
    }

    /// `claims` signed: a compact JWS, RS256, with this key's `kid`.
    pub fn sign(&self, claims: &Value) -> Result<String, BadServiceKey> {
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": self.kid });
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .map_err(|e| BadServiceKey(e.to_string()))?;
        Ok(format!("{input}.{}", b64(signature)))
    }
}

/// How long a new key is published before it signs: API Gateway's HTTP
/// API JWT authorizer may keep a JWKS two hours, so a key made by a rotation
/// signs only once every such cache has seen it.
pub const PUBLISH_BEFORE_SIGNING_SECS: i64 = 2 * 3600;

/// The keys a deployment signs with and publishes: both are published; the
/// current one signs once it has been published long enough, the previous
/// one until then.
#[derive(Debug)]
pub struct ServiceKeys {
    /// The newest key.
    pub current: ServiceKey,
    /// The key before the last rotation, still published.
    pub previous: Option<ServiceKey>,
    /// When the current key was made (epoch seconds); `None` when unknown
    /// (a fixed key: it signs at once).
    pub current_since: Option<i64>,
}

impl ServiceKeys {
    /// The key that signs at `now`: the current one, or the previous one
    /// while the current is younger than [`PUBLISH_BEFORE_SIGNING_SECS`].
    pub fn signing(&self, now: i64) -> &ServiceKey {
        match (&self.previous, self.current_since) {
            (Some(previous), Some(since)) if now - since < PUBLISH_BEFORE_SIGNING_SECS => previous,
            _ => &self.current,
        }
    }

    /// The JWKS document.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .map(ServiceKey::jwk)
            .collect();
        json!({ "keys": keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_signs_and_publishes_its_jwk() {
        let key = ServiceKey::from_pem(&ServiceKey::generate_pem().unwrap()).unwrap();
        let token = key.sign(&json!({ "sub": "x" })).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], key.kid());
        assert_eq!(key.jwk()["kty"], "RSA");
        assert_eq!(key.jwk()["e"], "AQAB");
        assert!(ServiceKey::from_pem("not a key").is_err());
    }

    #[test]
    fn a_rotated_key_signs_only_once_it_has_been_published_two_hours() {
        let key = || ServiceKey::from_pem(&ServiceKey::generate_pem().unwrap()).unwrap();
        let keys = ServiceKeys {
            current: key(),
            previous: Some(key()),
            current_since: Some(1_000),
        };
        let previous = keys.previous.as_ref().unwrap().kid().to_owned();
        assert_eq!(keys.signing(1_000 + 3_600).kid(), previous);
        assert_eq!(keys.signing(1_000 + 7_200).kid(), keys.current.kid());
        assert_eq!(keys.jwks()["keys"].as_array().unwrap().len(), 2);
    }
}
