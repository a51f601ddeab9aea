//! The pages (`/confirm_email/{token}`, `/revert_email/{token}`,
//! `/reset_password/{token}`, `/account`) and their assets, seen by a plain
//! HTTP client: what they are served with, that they carry no inline script,
//! and that opening a link's page (what a mail scanner does) spends nothing.
//! What the pages do in a browser is tested in Chromium (browser-tests/).

use reqwest::header::HeaderMap;
use serde_json::json;
use tests::{PASSWORD, TestApp};

const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; form-action 'none'; base-uri 'none'; \
     frame-ancestors 'none'";

/// `GET path` as a browser would: status, headers, body as text.
async fn fetch(app: &TestApp, path: &str) -> (u16, HeaderMap, String) {
    let resp = app
        .request("GET", path)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

/// The `src`/`href` values of a page's tags (`attr="..."`).
fn attribute_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

const PAGES: [&str; 4] = [
    "/confirm_email/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "/revert_email/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "/reset_password/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "/account",
];

#[tokio::test]
async fn pages_are_html_with_a_strict_policy_and_no_inline_script() {
    let app = TestApp::spawn().await;
    for path in PAGES {
        let (status, headers, html) = fetch(&app, path).await;

        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&headers, "content-security-policy"), PAGE_CSP);
        assert_eq!(header(&headers, "referrer-policy"), "no-referrer");
        assert_eq!(header(&headers, "cache-control"), "no-store");
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
        assert_eq!(header(&headers, "x-frame-options"), "DENY");
        assert_eq!(
            header(&headers, "strict-transport-security"),
            "max-age=31536000"
        );
        assert!(html.starts_with("<!doctype html>"), "{path}");
        // Every script is a file of this origin with an empty body: the
        // CSP would refuse an inline one, so none may be needed.
        let scripts: Vec<&str> = html.split("<script").skip(1).collect();
        assert!(scripts.len() >= 2, "{path}");
        for script in scripts {
            let (tag, rest) = script.split_once('>').unwrap();
            assert!(tag.contains(" src=\""), "{path}: <script{tag}>");
            assert!(rest.starts_with("</script>"), "{path}: inline script");
        }
        // Nor inline handlers, inline styles or script URLs.
        let lower = html.to_ascii_lowercase();
        for bad in [
            " onclick=",
            " onload=",
            " onsubmit=",
            " style=",
            "javascript:",
            "<style",
        ] {
            assert!(!lower.contains(bad), "{path}: {bad}");
        }
        // A page never echoes the token of its link.
        assert!(!html.contains("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        // Forms never submit by themselves (and the CSP forbids it anyway).
        assert!(!lower.contains(" action="), "{path}");
    }
}

#[tokio::test]
async fn every_file_a_page_names_is_served_from_this_origin() {
    let app = TestApp::spawn().await;
    for path in PAGES {
        let (_, _, html) = fetch(&app, path).await;
        let page_url = reqwest::Url::parse(&format!("{}{path}", app.base)).unwrap();
        let mut named: Vec<&str> = attribute_values(&html, "src");
        named.extend(attribute_values(&html, "href"));
        assert!(named.len() >= 4, "{path}: {named:?}");
        // The scripts call the API relative to the page too.
        let api_base = html
            .split("<meta name=\"api-base\" content=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{path}: no api-base"));
        assert_eq!(page_url.join(api_base).unwrap().path(), "/api/", "{path}");
        named.push(api_base);
        for reference in named {
            // Relative, so that the pages work under a base path too.
            assert!(
                !reference.contains("//") && !reference.starts_with('/'),
                "{path}: {reference}"
            );
            if reference.ends_with("api/") {
                continue;
            }
            let url = page_url.join(reference).unwrap();
            if url.path() == "/account" {
                continue;
            }
            let path_and_query = &url.as_str()[url.origin().ascii_serialization().len()..];
            let resp = app.request("GET", path_and_query).send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 200, "{url}");
            let ctype = header(resp.headers(), "content-type").to_owned();
            let expected = match url.path().rsplit('.').next().unwrap() {
                "css" => "text/css; charset=utf-8",
                "js" => "text/javascript; charset=utf-8",
                "svg" => "image/svg+xml",
                other => panic!("{url}: unexpected file type {other}"),
            };
            assert_eq!(ctype, expected, "{url}");
            assert_eq!(header(resp.headers(), "x-content-type-options"), "nosniff");
            // Named by a digest of their content: cached for good.
            assert!(url.query().is_some_and(|q| q.starts_with("v=")), "{url}");
            assert_eq!(
                header(resp.headers(), "cache-control"),
                "public, max-age=31536000, immutable"
            );
            // Under any other version the file is not cached: a page of
            // another deployment must not pin it.
            let other = app
                .request("GET", &format!("{}?v=000000000000", url.path()))
                .send()
                .await
                .unwrap();
            assert_eq!(other.status().as_u16(), 200);
            assert_eq!(header(other.headers(), "cache-control"), "no-cache");
        }
    }
}

#[tokio::test]
async fn unknown_assets_and_other_methods_get_the_envelope() {
    let app = TestApp::spawn().await;
    app.get("/assets/nope.js").await.expect(404, "not found");
    app.get("/assets/").await.expect(404, "not found");
    app.get("/account/").await.expect(404, "not found");
    app.get("/confirm_email/").await.expect(404, "not found");
    let resp = app.post("/account", &json!({})).await;
    resp.expect(405, "method not allowed");
    assert_eq!(header(&resp.headers, "allow"), "GET");
}

#[tokio::test]
async fn opening_a_confirmation_page_confirms_nothing() {
    let app = TestApp::spawn().await;
    app.register("alice", "alice@example.com", PASSWORD).await;
    let page = app.link_to("alice@example.com", "/confirm_email/").await;
    assert!(page.starts_with(&format!("{}/confirm_email/", app.base)));

    // A mail scanner opens the link, twice, and HEADs it.
    for _ in 0..2 {
        let (status, _, _) = fetch(&app, &app.path_of(&page)).await;
        assert_eq!(status, 200);
    }
    let head = app
        .request("HEAD", &app.path_of(&page))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 200);
    let token = app.token("alice", PASSWORD).await;
    let profile = app.get_bearer("/api/profile_settings", &token).await;
    assert_eq!(profile.body["data"]["is_email_verified"], false);

    // The page's button: the API with the same token, still unspent.
    app.get(&format!("/api{}", app.path_of(&page)))
        .await
        .expect(200, "Your email has been confirmed.");
    let profile = app.get_bearer("/api/profile_settings", &token).await;
    assert_eq!(profile.body["data"]["is_email_verified"], true);
}

#[tokio::test]
async fn opening_a_revert_page_reverts_nothing() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@old.example").await;
    let token = app.token("alice", PASSWORD).await;
    app.post_bearer(
        "/api/change_email",
        &token,
        &json!({"pwd": PASSWORD, "new_email": "alice@new.example"}),
    )
    .await
    .expect(200, "Check your email...");
    let page = app.link_to("alice@old.example", "/revert_email/").await;
    assert!(page.starts_with(&format!("{}/revert_email/", app.base)));

    let (status, _, _) = fetch(&app, &app.path_of(&page)).await;
    assert_eq!(status, 200);

    // Opening the page ended no session and dropped no pending change.
    let export = app
        .post_bearer("/api/account_export", &token, &json!({"pwd": PASSWORD}))
        .await;
    export.expect(200, "success");
    assert_eq!(
        export.body["data"]["pending_email_change"]["email"],
        "alice@new.example"
    );
    app.get(&format!("/api{}", app.path_of(&page)))
        .await
        .expect(200, "Your email has been restored.");
    app.get_bearer("/api/profile_settings", &token)
        .await
        .expect(401, "authentication required");
}

#[tokio::test]
async fn the_reset_page_leaves_its_link_usable() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@example.com").await;
    app.request_reset("alice").await;
    let page = app.link_to("alice@example.com", "/reset_password/").await;
    assert!(page.starts_with(&format!("{}/reset_password/", app.base)));

    let (status, _, _) = fetch(&app, &app.path_of(&page)).await;
    assert_eq!(status, 200);

    app.post(
        &format!("/api{}", app.path_of(&page)),
        &json!({"new_pwd": "An0ther-Passw0rd!x"}),
    )
    .await
    .expect(200, "Your password has been reset.");
}
