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

/// The secret origin header's values, kept as their SHA-256 only: the
/// current one, and while it changes the one it replaced (CloudFront sends
/// the old value until its distribution is updated).
#[derive(Clone)]
pub struct EdgeOrigin {
    digests: Vec<[u8; 32]>,
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
        Ok(Self {
            digests: vec![digest(secret)?],
        })
    }

    /// From the current secret and the one it replaced, both believed (a
    /// previous value too short to be one is left out).
    pub fn with_previous(
        secret: &SecretString,
        previous: Option<&SecretString>,
    ) -> Result<Self, WeakOriginSecret> {
        let mut edge = Self::new(secret)?;
        if let Some(Ok(previous)) = previous.map(digest) {
            edge.digests.push(previous);
        }
        Ok(edge)
    }

    /// Whether `presented` is the secret (or the one it replaced). Digests
    /// are compared, so the time the comparison takes tells nothing about
    /// the secret itself.
    pub fn verifies(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.trim().as_bytes()).into();
        self.digests.contains(&presented)
    }
}

fn digest(secret: &SecretString) -> Result<[u8; 32], WeakOriginSecret> {
    let secret = secret.expose_secret().trim();
    if secret.len() < 32 {
        return Err(WeakOriginSecret);
    }
    Ok(Sha256::digest(secret.as_bytes()).into())
}

/// The address in a `CloudFront-Viewer-Address` value: `198.51.100.10:46532`,
/// `2001:db8::1:46532` or `[2001:db8::1]:46532` (the port last).
pub fn viewer_ip(header: &str) -> Option<IpAddr> {
    // Should a viewer's own header ever be joined with CloudFront's, the
    // last value is CloudFront's.
    let value = header.rsplit(',').next().unwrap_or_default().trim();
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
        // A value the viewer sent, joined with CloudFront's: CloudFront's.
        assert_eq!(
            viewer_ip("203.0.113.66:1, 198.51.100.10:46532"),
            Some("198.51.100.10".parse().unwrap())
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
        // While the value changes, the one it replaced is believed too.
        let both = EdgeOrigin::with_previous(
            &SecretString::from("n".repeat(40)),
            Some(&SecretString::from("o".repeat(40))),
        )
        .unwrap();
        assert!(both.verifies(&"n".repeat(40)) && both.verifies(&"o".repeat(40)));
        assert!(!both.verifies(&"s".repeat(40)));
    }
}
