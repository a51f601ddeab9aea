//! `GET /dev/mail` and `GET /dev/mail.json`: the mail the dev server "sent",
//! newest first, and the mail it did not send with the reason. The dev
//! server's own page: no route of the API, never in a Lambda function.

use std::collections::HashMap;
use std::sync::Arc;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde_json::json;
use shared::adapters::{MailEntry, OutboxMailer};

/// Where the dev server's mail goes.
#[derive(Debug, Clone)]
pub enum DevMailbox {
    /// The memory store's outbox: listed on the page.
    Outbox(Arc<OutboxMailer>),
    /// `STORE=dynamodb`: mail goes to SES; the page says so.
    Ses,
}

/// The mailbox's paths.
pub(crate) const PAGE: &str = "/dev/mail";
const JSON: &str = "/dev/mail.json";

/// The answer for `path`, when it is one of the mailbox's.
/// `?to=<address>` keeps the mail to that address (URL-encoded as a form
/// would: a `+` in an address is `%2B`).
pub(crate) fn serve(mailbox: &DevMailbox, uri: &lambda_http::http::Uri) -> Option<Response<Body>> {
    let path = uri.path();
    if path != PAGE && path != JSON {
        return None;
    }
    let to = axum::extract::Query::<HashMap<String, String>>::try_from_uri(uri)
        .ok()
        .and_then(|q| q.0.get("to").map(|t| t.trim().to_ascii_lowercase()));
    let entries = match mailbox {
        DevMailbox::Outbox(outbox) => outbox
            .entries()
            .into_iter()
            .filter(|e| to.as_ref().is_none_or(|t| e.to.to_ascii_lowercase() == *t))
            .collect(),
        DevMailbox::Ses => Vec::new(),
    };
    let store = match mailbox {
        DevMailbox::Outbox(_) => "memory",
        DevMailbox::Ses => "dynamodb",
    };
    Some(if path == JSON {
        let mail: Vec<_> = entries.iter().map(entry_json).collect();
        respond(
            "application/json",
            json!({ "store": store, "mail": mail }).to_string(),
        )
    } else {
        respond("text/html; charset=utf-8", page(mailbox, &entries))
    })
}

fn respond(content_type: &'static str, body: String) -> Response<Body> {
    let mut resp = Response::new(Body::Text(body));
    *resp.status_mut() = StatusCode::OK;
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    resp
}

fn entry_json(e: &MailEntry) -> serde_json::Value {
    json!({
        "at": rfc3339(e.at_millis),
        "to": e.to,
        "subject": e.subject,
        "sent": e.not_sent.is_none(),
        "reason": e.not_sent,
        "links": if e.not_sent.is_none() { links(&e.text) } else { Vec::new() },
        "file": e.file,
    })
}

fn page(mailbox: &DevMailbox, entries: &[MailEntry]) -> String {
    let mut body = String::new();
    match mailbox {
        DevMailbox::Ses => body.push_str(
            "<p>This dev server runs with <code>STORE=dynamodb</code>: its mail goes to SES \
             (or to the SES stand-in that <code>AWS_ENDPOINT_URL</code> names), not to this page.</p>\n",
        ),
        DevMailbox::Outbox(outbox) => {
            body.push_str(&format!(
                "<p>The mail this dev server sent since it started, newest first (reload for new \
                 mail; each is also an <code>.eml</code> file in <code>{}</code>). Mail it did not \
                 send is shown as such, with the reason.</p>\n",
                escape(&outbox.dir().display().to_string())
            ));
            if entries.is_empty() {
                body.push_str("<p>No mail yet.</p>\n");
            }
        }
    }
    for e in entries {
        body.push_str("<article class=\"mail\">\n");
        body.push_str(&format!(
            "<h2>{}</h2>\n<p>To <strong>{}</strong>, {}</p>\n",
            escape(&e.subject),
            escape(&e.to),
            rfc3339(e.at_millis)
        ));
        match e.not_sent {
            Some(reason) => body.push_str(&format!(
                "<p class=\"not-sent\" role=\"note\">Not sent: {}.</p>\n",
                escape(reason)
            )),
            None => {
                for link in links(&e.text) {
                    let l = escape(&link);
                    body.push_str(&format!("<p><a href=\"{l}\">{l}</a></p>\n"));
                }
                body.push_str(&format!("<pre>{}</pre>\n", escape(&e.text)));
            }
        }
        body.push_str("</article>\n");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Dev mailbox - user_account</title>\
         <link rel=\"stylesheet\" href=\"/assets/pages.css\">\
         <link rel=\"icon\" href=\"/assets/favicon.svg\" type=\"image/svg+xml\"></head>\n\
         <body><main>\n<h1>Dev mailbox</h1>\n{body}</main></body></html>\n"
    )
}

/// Every http(s) link in a text.
fn links(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(str::to_owned)
        .collect()
}

fn rfc3339(millis: u128) -> String {
    let secs = i64::try_from(millis / 1000).unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
