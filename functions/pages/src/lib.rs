//! The pages behind the links in our emails, and the account page:
//! `GET /confirm_email/{token}`, `GET /revert_email/{token}`,
//! `GET /reset_password/{token}`, `GET /account`, and their style sheet and
//! scripts under `GET /assets/{file}`.
//!
//! Plain HTML, one CSS file and small vanilla scripts, compiled into the
//! binary. A page never acts by itself: opening a link (or a mail scanner
//! prefetching it) only shows a button; pressing it calls the API
//! (`GET /api/confirm_email/{token}`, ...), so the one-time token is spent
//! only by the person who pressed it. Pages answer with a strict CSP (scripts,
//! styles and API calls from this origin only, no inline script, no framing,
//! forms never submit by themselves), `Referrer-Policy: no-referrer` (tokens
//! are in the path) and `no-store`. The page routes ignore the token: they
//! never echo it, the page's script reads it from its own address.
//!
//! Every URL in a page is relative (`../assets/`, `../api/`), so the pages
//! work under a custom domain's base path as well as at the root.

use std::sync::LazyLock;

use lambda_http::http::HeaderMap;
use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use sha2::{Digest, Sha256};
use shared::error::ApiError;
use shared::http::{error_response, path_param};

/// The policy of every page: nothing but this origin's own style sheet,
/// scripts and API; no inline script or style, no plugins, no framing, no
/// `<base>`, and no form submission (the scripts send forms as JSON, so a
/// form can never put a password in a URL, even with scripts off).
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; form-action 'none'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The route key of the assets route.
const ASSET_ROUTE: &str = "GET /assets/{file}";

/// A file under `/assets/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: [Asset; 8] = [
    Asset {
        name: "pages.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../assets/pages.css"),
    },
    Asset {
        name: "common.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/common.js"),
    },
    Asset {
        name: "words.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/words.js"),
    },
    Asset {
        name: "passkeys.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/passkeys.js"),
    },
    Asset {
        name: "link.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/link.js"),
    },
    Asset {
        name: "reset.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/reset.js"),
    },
    Asset {
        name: "account.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/account.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_str!("../assets/favicon.svg"),
    },
];

/// What every page's `<head>` starts with (`{{head}}` in a page): the
/// meta tags, the icon, the style sheet and the shared script.
const HEAD: &str = include_str!("../assets/head.html");

/// A page: its route key, the way from its path back to the root, its HTML.
struct Page {
    route: &'static str,
    root: &'static str,
    html: &'static str,
}

const PAGES: [Page; 4] = [
    Page {
        route: "GET /confirm_email/{token}",
        root: "../",
        html: include_str!("../assets/confirm_email.html"),
    },
    Page {
        route: "GET /revert_email/{token}",
        root: "../",
        html: include_str!("../assets/revert_email.html"),
    },
    Page {
        route: "GET /reset_password/{token}",
        root: "../",
        html: include_str!("../assets/reset_password.html"),
    },
    Page {
        route: "GET /account",
        root: "",
        html: include_str!("../assets/account.html"),
    },
];

/// Each asset's version: the start of the SHA-256 of its content, in hex.
static VERSIONS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let digest = Sha256::digest(asset.body.as_bytes());
            digest[..6].iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect()
});

/// The pages with `{{root}}` and `{{<asset>}}` filled in. An asset's URL
/// carries its version, so assets can be cached for good while a page (never
/// cached) always names the version it was built with.
static RENDERED: LazyLock<Vec<(&'static str, String)>> = LazyLock::new(|| {
    PAGES
        .iter()
        .map(|page| {
            let mut html = page
                .html
                .replace("{{head}}", HEAD.trim_end())
                .replace("{{root}}", page.root);
            for (asset, version) in ASSETS.iter().zip(VERSIONS.iter()) {
                let url = format!("{}assets/{}?v={version}", page.root, asset.name);
                html = html.replace(&format!("{{{{{}}}}}", asset.name), &url);
            }
            (page.route, html)
        })
        .collect()
});

/// Handles the page routes and `GET /assets/{file}`.
pub async fn handle(req: Request) -> Response<Body> {
    let route = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.clone(),
        _ => None,
    };
    match route.as_deref() {
        Some(ASSET_ROUTE) => {
            let file = path_param(&req, "file");
            match ASSETS.iter().position(|a| Some(a.name) == file.as_deref()) {
                Some(i) => {
                    // Cached for good only under the version it is: a
                    // request naming another one (a page of an older or
                    // newer deployment) gets the file uncached.
                    let asked = req
                        .uri()
                        .query()
                        .unwrap_or_default()
                        .split('&')
                        .find_map(|pair| pair.strip_prefix("v="));
                    asset_response(&ASSETS[i], asked == Some(VERSIONS[i].as_str()))
                }
                None => error_response(&ApiError::NotFound),
            }
        }
        Some(route) => match RENDERED.iter().find(|(r, _)| *r == route) {
            Some((_, html)) => page_response(html),
            None => error_response(&ApiError::NotFound),
        },
        None => error_response(&ApiError::NotFound),
    }
}

fn page_response(html: &str) -> Response<Body> {
    let mut resp = Response::new(Body::Text(html.to_owned()));
    let headers = resp.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(PAGE_CSP),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    // Browsers ignore it over plain HTTP (the dev server); in AWS the pages
    // are HTTPS only, and stay so.
    headers.insert(
        "strict-transport-security",
        HeaderValue::from_static("max-age=31536000"),
    );
    common_headers(headers);
    resp
}

fn asset_response(asset: &Asset, this_version: bool) -> Response<Body> {
    let mut resp = Response::new(Body::Text(asset.body.to_owned()));
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static(if this_version {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    common_headers(headers);
    resp
}

fn common_headers(headers: &mut HeaderMap) {
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
}
