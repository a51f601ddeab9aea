//! Security activity over HTTP: the trail each request stamps its changes
//! with, the page of `GET /api/security_events`, and how an item reads.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::domain::Username;
use crate::domain::activity::{DEFAULT_PAGE, EVENT_SOURCE, EXPORT_MAX_EVENTS, MAX_PAGE};
use crate::error::ApiError;
use crate::http::account::rfc3339;
use crate::http::request::client_address;
use crate::http::sign_in::device_of;
use crate::ports::{ActivityRecord, App, OutboxEvent, Trail, is_activity_id};

/// The 400 of a `limit` that is not 1 to 100.
pub const BAD_LIMIT: &str = "limit must be a whole number from 1 to 100.";
/// The 400 of a cursor this API did not hand out.
pub const BAD_CURSOR: &str = "cursor is not valid.";

/// Where `req` came from and when: what its changes are stamped with (the
/// same client address the per-client limits use, the summarised user
/// agent, the app's clock).
pub fn trail_of(app: &App, req: &lambda_http::Request) -> Trail {
    Trail {
        at: app.clock.now(),
        ip: client_address(app.edge_origin(), req),
        device: device_of(req),
        ttl_secs: app.config.activity.ttl_secs,
    }
}

/// One item as the API shows it.
pub fn event_view(a: &ActivityRecord) -> Value {
    let mut view = json!({
        "kind": a.kind.as_str(),
        "at": rfc3339(a.at),
        "ip": a.ip,
        "device": a.device,
    });
    if let Some(new_device) = a.new_device {
        view["new_device"] = json!(new_device);
    }
    view
}

/// An account event's EventBridge `detail`: its id (de-duplication), the
/// account, its username and the time; no secret, token or address.
pub fn event_detail(id: &str, account_id: &str, username: &str, at: i64) -> Value {
    json!({
        "id": id,
        "account_id": account_id,
        "username": username,
        "at": rfc3339(at),
    })
}

/// An outbox event as a rule's target receives it from EventBridge (the
/// dev server's events file).
pub fn event_envelope(e: &OutboxEvent) -> Value {
    json!({
        "source": EVENT_SOURCE,
        "detail-type": e.kind.as_str(),
        "time": rfc3339(e.at),
        "detail": event_detail(&e.id, e.account_id.as_str(), &e.username, e.at),
    })
}

/// A page request: `limit` (default 20, 1 to 100) and `cursor`.
pub fn page_request(
    limit: Option<&str>,
    cursor: Option<&str>,
) -> Result<(usize, Option<String>), ApiError> {
    let limit = match limit {
        None => DEFAULT_PAGE,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) && !v.starts_with('+') => n,
            _ => return Err(ApiError::bad_request(BAD_LIMIT)),
        },
    };
    let cursor = cursor
        .map(|c| {
            URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|id| is_activity_id(id))
                .ok_or_else(|| ApiError::bad_request(BAD_CURSOR))
        })
        .transpose()?;
    Ok((limit, cursor))
}

/// One page of `username`'s activity, newest first, and the cursor of the
/// next (`null` when there is none).
pub async fn activity_page(
    app: &App,
    username: &Username,
    now: i64,
    limit: usize,
    before: Option<&str>,
) -> Result<Value, ApiError> {
    // One more than asked for tells whether another page follows.
    let mut items = app
        .store
        .security_events(username, now, before, limit + 1)
        .await?;
    let more = items.len() > limit;
    items.truncate(limit);
    let cursor = more
        .then(|| items.last().map(|a| URL_SAFE_NO_PAD.encode(&a.id)))
        .flatten();
    Ok(json!({
        "events": items.iter().map(event_view).collect::<Vec<_>>(),
        "cursor": cursor,
    }))
}

/// `username`'s activity still kept, newest first, at most
/// [`EXPORT_MAX_EVENTS`] (the export).
pub async fn all_activity(app: &App, username: &Username, now: i64) -> Result<Value, ApiError> {
    let items = app
        .store
        .security_events(username, now, None, EXPORT_MAX_EVENTS)
        .await?;
    Ok(Value::Array(items.iter().map(event_view).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_checked() {
        assert_eq!(page_request(None, None).unwrap(), (20, None));
        assert_eq!(page_request(Some("100"), None).unwrap().0, 100);
        for bad in ["0", "101", "-1", "+5", "x", ""] {
            assert!(page_request(Some(bad), None).is_err(), "{bad}");
        }
        let id = "00000000000000000042#0000abcd";
        let cursor = URL_SAFE_NO_PAD.encode(id);
        assert_eq!(
            page_request(None, Some(&cursor)).unwrap().1.as_deref(),
            Some(id)
        );
        for bad in ["", "!!", &URL_SAFE_NO_PAD.encode("SESSION#x")] {
            assert!(page_request(None, Some(bad)).is_err(), "{bad}");
        }
    }
}
