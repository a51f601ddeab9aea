//! Behind edge protection (CloudFront with AWS WAF in front of the API),
//! API Gateway's source IP is a CloudFront edge address: the client's own
//! address comes in CloudFront's `CloudFront-Viewer-Address` header. A
//! client can send that header too, so it is believed only on requests that
//! also carry the secret origin header CloudFront adds (`X-Origin-Verify`).

use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The header CloudFront adds to every request it forwards, with the secret.
pub const ORIGIN_VERIFY_HEADER: &str = "x-origin-verify";
/// CloudFront's header naming the viewer's address and port.
pub const VIEWER_ADDRESS_HEADER: &str = "cloudfront-viewer-address";

/// The secret origin header's value, kept as its SHA-256 only.
#[derive(Clone)]
pub struct EdgeOrigin {
    digest: [u8; 32],
}

impl std::fmt::Debug for EdgeOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeOrigin").finish_non_exhaustive()
    }
}

/// The origin secret is too short to be one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the origin secret must be at least 32 characters")]
pub struct WeakOriginSecret;

impl EdgeOrigin {
    /// From the secret the stack generated (at least 32 characters).
    pub fn new(secret: &SecretString) -> Result<Self, WeakOriginSecret> {
        let secret = secret.expose_secret().trim();
        if secret.len() < 32 {
            return Err(WeakOriginSecret);
        }
        Ok(Self {
            digest: Sha256::digest(secret.as_bytes()).into(),
        })
    }

    /// Whether `presented` is the secret. Digests are compared, so the
    /// time the comparison takes tells nothing about the secret itself.
    pub fn verifies(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.trim().as_bytes()).into();
        presented == self.digest
    }
}

/// The address in a `CloudFront-Viewer-Address` value: `198.51.100.10:46532`,
/// `2001:db8::1:46532` or `[2001:db8::1]:46532` (the port last).
pub fn viewer_ip(header: &str) -> Option<IpAddr> {
    let value = header.trim();
    let (address, port) = value.rsplit_once(':')?;
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    address
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_viewer_address_is_read_with_its_port_dropped() {
        assert_eq!(
            viewer_ip("198.51.100.10:46532"),
            Some("198.51.100.10".parse().unwrap())
        );
        assert_eq!(
            viewer_ip("2001:db8::1:46532"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            viewer_ip("[2001:db8::1]:443"),
            Some("2001:db8::1".parse().unwrap())
        );
        for junk in [
            "",
            "198.51.100.10",
            "x:1",
            "198.51.100.10:",
            "1.2.3.4:abc",
            "evil.example:80",
        ] {
            assert_eq!(viewer_ip(junk), None, "{junk}");
        }
    }

    #[test]
    fn only_the_secret_verifies() {
        let secret = SecretString::from("s".repeat(40));
        let edge = EdgeOrigin::new(&secret).unwrap();
        assert!(edge.verifies(&"s".repeat(40)));
        assert!(!edge.verifies(&"s".repeat(39)));
        assert!(!edge.verifies(""));
        assert_eq!(
            EdgeOrigin::new(&SecretString::from("short")).unwrap_err(),
            WeakOriginSecret
        );
    }
}
