//! A session's `device`: a short summary of the user agent that signed in
//! ("Firefox on Windows"), so that a person can tell their sessions apart.
//! Only the summary is kept, never the header itself (it identifies a
//! browser more precisely than anyone needs, and it can be long).

/// Browser families, the first match wins: the order matters, because most
/// browsers also name the ones they descend from (`Edg/` comes with
/// `Chrome/` and `Safari/`, `Chrome/` with `Safari/`).
const BROWSERS: &[(&str, &str)] = &[
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("Edge/", "Edge"),
    ("OPR/", "Opera"),
    ("Opera", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("YaBrowser/", "Yandex Browser"),
    ("Vivaldi/", "Vivaldi"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("HeadlessChrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
];

/// Operating systems, the first match wins (iOS says "like Mac OS X",
/// Android says "Linux").
const SYSTEMS: &[(&str, &str)] = &[
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("iPod", "iOS"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
    ("X11", "Linux"),
];

/// The longest summary kept.
const MAX_LEN: usize = 40;

/// "Browser on System", the browser alone, or a program's own name
/// (`curl`, `okhttp`); `None` for an empty or unreadable header.
pub fn device_summary(user_agent: &str) -> Option<String> {
    let ua = user_agent.trim();
    let name = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(marker, _)| ua.contains(marker))
            .map(|(_, name)| *name)
    };
    let browser = name(BROWSERS).map(str::to_owned).or_else(|| {
        // Not a browser: the first product token's name (`curl/8.5.0`),
        // if it is a plain word.
        let product = ua.split(['/', ' ']).next().unwrap_or_default();
        let plain = !product.is_empty()
            && product.len() <= 24
            && product != "Mozilla"
            && product
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if plain {
            Some(product.to_owned())
        } else if ua.starts_with("Mozilla/") {
            Some("Browser".to_owned())
        } else {
            None
        }
    })?;
    let summary = match name(SYSTEMS) {
        Some(system) => format!("{browser} on {system}"),
        None => browser,
    };
    Some(summary.chars().take(MAX_LEN).collect())
}

#[cfg(test)]
mod tests {
    use super::device_summary;

    #[test]
    fn browsers_and_programs_are_summarised() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
                Some("Chrome on Linux"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                Some("Edge on Windows"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
                Some("Firefox on Windows"),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                Some("Safari on iOS"),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                Some("Safari on macOS"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                Some("Chrome on Android"),
            ),
            ("curl/8.5.0", Some("curl")),
            ("okhttp/4.12.0", Some("okhttp")),
            ("Mozilla/5.0 (compatible)", Some("Browser")),
            ("", None),
            ("   ", None),
            ("<script>alert(1)</script>", None),
        ];
        for (ua, want) in cases {
            assert_eq!(device_summary(ua).as_deref(), want, "{ua}");
        }
    }
}
