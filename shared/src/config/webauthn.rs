//! The passkey settings: `WEBAUTHN_RP_ID` and `WEBAUTHN_ORIGINS`.

use super::ConfigError;

/// Where passkeys belong and may be used from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebAuthnSettings {
    /// `WEBAUTHN_RP_ID`: the domain passkeys are bound to; by default the
    /// public base URL's host (or the request's), `localhost` for an IP
    /// address (browsers refuse one as RP ID).
    pub rp_id: Option<String>,
    /// `WEBAUTHN_ORIGINS` (comma-separated): the origins allowed to answer
    /// a ceremony; by default the public base URL's origin (and
    /// `http://localhost:<port>` beside an IP address).
    pub origins: Vec<String>,
}

impl WebAuthnSettings {
    /// Reads the settings through `get`.
    pub(super) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let rp_id = get("WEBAUTHN_RP_ID").map(|v| v.trim().to_ascii_lowercase());
        if rp_id
            .as_deref()
            .is_some_and(|id| id.parse::<std::net::IpAddr>().is_ok() || id.contains('/'))
        {
            return Err(ConfigError::new(
                "WEBAUTHN_RP_ID",
                "expected a domain name (browsers refuse an IP address)",
            ));
        }
        let origins = get("WEBAUTHN_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        if let Some(bad) = origins
            .iter()
            .find(|o| !(o.starts_with("https://") || o.starts_with("http://")))
        {
            return Err(ConfigError::new(
                "WEBAUTHN_ORIGINS",
                format!("expected http(s) origins, got {bad}"),
            ));
        }
        Ok(Self { rp_id, origins })
    }

    /// The RP ID and origins for a request that reached the API on `base`
    /// (the public base URL, or the request's own): the settings, else
    /// derived from `base`.
    pub fn resolve(&self, base: Option<&str>) -> Option<(String, Vec<String>)> {
        let base = base.map(|b| b.trim_end_matches('/'));
        let (origin, host, port) = match base {
            Some(b) => {
                let (scheme, rest) = b.split_once("://")?;
                let authority = rest.split('/').next()?;
                let (host, port) = match authority.rsplit_once(':') {
                    Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, Some(p)),
                    _ => (authority, None),
                };
                (
                    Some(format!("{scheme}://{authority}")),
                    Some(host.to_owned()),
                    port,
                )
            }
            None => (None, None, None),
        };
        let host_is_ip = host.as_deref().is_some_and(|h| {
            h.trim_matches(|c| c == '[' || c == ']')
                .parse::<std::net::IpAddr>()
                .is_ok()
        });
        let rp_id = match (&self.rp_id, &host) {
            (Some(id), _) => id.clone(),
            (None, Some(_)) if host_is_ip => "localhost".to_owned(),
            (None, Some(h)) => h.to_ascii_lowercase(),
            (None, None) => return None,
        };
        let origins = if self.origins.is_empty() {
            let mut list: Vec<String> = origin.into_iter().collect();
            if host_is_ip {
                list.push(match port {
                    Some(p) => format!("http://localhost:{p}"),
                    None => "http://localhost".to_owned(),
                });
            }
            list
        } else {
            self.origins.clone()
        };
        Some((rp_id, origins))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_base_url_and_never_an_ip() {
        let none = WebAuthnSettings::default();
        assert_eq!(
            none.resolve(Some("https://id.example.com")),
            Some((
                "id.example.com".into(),
                vec!["https://id.example.com".into()]
            ))
        );
        assert_eq!(
            none.resolve(Some("http://127.0.0.1:3000")),
            Some((
                "localhost".into(),
                vec![
                    "http://127.0.0.1:3000".into(),
                    "http://localhost:3000".into()
                ]
            ))
        );
        let get = |k: &str| (k == "WEBAUTHN_RP_ID").then(|| "10.0.0.1".to_owned());
        assert!(WebAuthnSettings::from_lookup(get).is_err());
    }
}
