//! Reading what the app sent: links in mail, claims in a JWT.

use serde_json::Value;

/// Every http(s) link in a text.
pub fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("http") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
            .unwrap_or(tail.len());
        let link = &tail[..end];
        if link.starts_with("http://") || link.starts_with("https://") {
            out.push(link.to_owned());
        }
        rest = &tail[end..];
    }
    out
}

/// The claims of a JWT (not verified: the test only reads them).
pub fn jwt_claims(jwt: &str) -> (Value, Value) {
    use base64::Engine;
    let mut parts = jwt.split('.');
    let mut decode = || {
        let part = parts.next().unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap();
        serde_json::from_slice::<Value>(&bytes).unwrap()
    };
    let header = decode();
    let claims = decode();
    (header, claims)
}
