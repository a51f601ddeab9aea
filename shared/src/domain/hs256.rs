//! The only JWT algorithm this service signs or accepts, HS256, as
//! `jsonwebtoken`'s crypto provider. Its built-in providers each link a whole
//! crypto stack (aws-lc, or RSA and elliptic curves from RustCrypto) into
//! every function for algorithms a session token never uses; HS256 is the
//! HMAC-SHA256 the service already links (`hmac`, `sha2`). Any other
//! algorithm is refused when its signer or verifier is asked for.

use std::sync::Once;

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::Sha256;
use signature::{Signer, Verifier};

type HmacSha256 = Hmac<Sha256>;

/// HS256 with one key: signs and verifies (in constant time).
struct Hs256(HmacSha256);

impl Hs256 {
    fn new(secret: &[u8]) -> Result<Self> {
        HmacSha256::new_from_slice(secret)
            .map(Self)
            .map_err(|_| ErrorKind::InvalidKeyFormat.into())
    }
}

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(msg);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(msg);
        mac.verify_slice(sig).map_err(signature::Error::from_source)
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    match algorithm {
        Algorithm::HS256 => Ok(Box::new(Hs256::new(key.try_get_hmac_secret()?)?)),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    }
}

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    match algorithm {
        Algorithm::HS256 => Ok(Box::new(Hs256::new(key.try_get_hmac_secret()?)?)),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    }
}

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    jwk_utils: JwkUtils::new_unimplemented(),
};

/// Makes HS256 the process's JWT provider; called before any key is used.
/// Idempotent.
pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    // An error means a provider is already installed: only ever this one,
    // since nothing else in the service installs one.
    INSTALL.call_once(|| {
        let _ = PROVIDER.install_default();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hs256_signs_and_verifies() {
        install();
        let secret = b"0123456789abcdef0123456789abcdef";
        let sig =
            jsonwebtoken::crypto::sign(b"m", &EncodingKey::from_secret(secret), Algorithm::HS256);
        let Ok(sig) = sig else {
            panic!("HS256 signs");
        };
        let key = DecodingKey::from_secret(secret);
        assert!(matches!(
            jsonwebtoken::crypto::verify(&sig, b"m", &key, Algorithm::HS256),
            Ok(true)
        ));
        assert!(matches!(
            jsonwebtoken::crypto::verify(&sig, b"n", &key, Algorithm::HS256),
            Ok(false)
        ));
        let other = DecodingKey::from_secret(b"another key, also long enough!!!");
        assert!(matches!(
            jsonwebtoken::crypto::verify(&sig, b"m", &other, Algorithm::HS256),
            Ok(false)
        ));
        for alg in [Algorithm::HS384, Algorithm::HS512] {
            assert!(
                jsonwebtoken::crypto::sign(b"m", &EncodingKey::from_secret(secret), alg).is_err()
            );
            assert!(jsonwebtoken::crypto::verify(&sig, b"m", &key, alg).is_err());
        }
    }
}
