//! The trail a change leaves: the security activity item and the outbox
//! event a store writes with the change itself (in the same transaction),
//! and the request they are stamped with.
//!
//! Which kinds a change records is the store method's business (the method
//! is the use case: a password change always records `password_changed`
//! and `PasswordChanged`), so no caller can make a change without its
//! record. Where the change came from (the client's IP, its summarised
//! user agent) and when is the request's: the runtime adapters (the Lambda
//! runtime's loop, the dev server) set it once per request with
//! [`Trail::scope`], the way a tracing span is set, and the store reads it
//! with [`Trail::current`].

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::domain::activity::{ACTIVITY_TTL_SECS, ActivityKind, EventKind, OUTBOX_TTL_SECS};
use crate::domain::{AccountId, Username};

/// One item of an account's security activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRecord {
    /// What happened.
    pub kind: ActivityKind,
    /// Epoch seconds.
    pub at: i64,
    /// The client's address, when known.
    pub ip: Option<String>,
    /// The client's user agent, summarised ("Firefox on Linux").
    pub device: Option<String>,
    /// For a sign-in: whether it came without a valid device token of
    /// this account.
    pub new_device: Option<bool>,
    /// Epoch seconds after which it is dropped (`ACTIVITY_TTL_SECS`).
    pub expires_at: i64,
    /// Names the item and orders the account's items: 20 digits of
    /// microseconds since the epoch (strictly increasing within a process),
    /// `#`, 8 random hex digits (two processes in one microsecond). The
    /// DynamoDB sort key is `ACTIVITY#<id>`; a page's cursor is the last id.
    pub id: String,
}

/// An account event waiting in the outbox for the forwarder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    /// 32 lowercase hex digits: consumers de-duplicate by it.
    pub id: String,
    /// The detail-type.
    pub kind: EventKind,
    /// The account.
    pub account_id: AccountId,
    /// Its username's key (lowercase, as lookups use it: a link names an
    /// account by it, so every event does).
    pub username: String,
    /// Epoch seconds.
    pub at: i64,
}

impl OutboxEvent {
    /// When the outbox item expires (a day after it was written).
    pub fn expires_at(&self) -> i64 {
        self.at + OUTBOX_TTL_SECS
    }
}

/// Where a request came from and when: what its changes are stamped with.
#[derive(Debug, Clone)]
pub struct Trail {
    /// Epoch seconds (the app's clock at the start of the request).
    pub at: i64,
    /// The client's address.
    pub ip: Option<String>,
    /// The summarised user agent.
    pub device: Option<String>,
    /// How long activity items are kept.
    pub ttl_secs: i64,
}

tokio::task_local! {
    static TRAIL: Trail;
}

/// The last order handed out, so that two items of one process never tie.
static LAST_ORDER: AtomicU64 = AtomicU64::new(0);

fn wall_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// A strictly increasing order within this process, close to the wall
/// clock's microseconds (so that items of different processes order by
/// time too).
fn next_order() -> u64 {
    let now = wall_micros();
    let mut last = LAST_ORDER.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST_ORDER.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// 32 random bits (the order's tie-breaker between processes).
fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    // Without the OS's randomness the order alone still orders the items.
    let _ = getrandom::fill(&mut b);
    u32::from_be_bytes(b)
}

/// Whether `id` has the shape of an activity item's id (a cursor from a
/// client is checked with it before it reaches a store).
pub fn is_activity_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 29
        && b[..20].iter().all(u8::is_ascii_digit)
        && b[20] == b'#'
        && b[21..]
            .iter()
            .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

impl Trail {
    /// Runs `f` with this trail as the request's.
    pub async fn scope<F: Future>(self, f: F) -> F::Output {
        TRAIL.scope(self, f).await
    }

    /// The current request's trail; outside of one (a store driven
    /// directly, as the store contract tests do), the wall clock and no
    /// client.
    pub fn current() -> Self {
        TRAIL.try_with(Clone::clone).unwrap_or_else(|_| Self {
            at: i64::try_from(wall_micros() / 1_000_000).unwrap_or_default(),
            ip: None,
            device: None,
            ttl_secs: ACTIVITY_TTL_SECS,
        })
    }

    /// The activity item of `kind`, stamped with this request.
    pub fn activity(&self, kind: ActivityKind) -> ActivityRecord {
        ActivityRecord {
            kind,
            at: self.at,
            ip: self.ip.clone(),
            device: self.device.clone(),
            new_device: None,
            expires_at: self.at + self.ttl_secs,
            id: format!("{:020}#{:08x}", next_order(), random_u32()),
        }
    }

    /// The sign-in item: `known` tells whether the client came with a valid
    /// device token of this account.
    pub fn sign_in(&self, known: bool) -> ActivityRecord {
        ActivityRecord {
            new_device: Some(!known),
            ..self.activity(ActivityKind::SignIn)
        }
    }

    /// The account event of `kind` about the account `account` of
    /// `username`, with a fresh id.
    pub fn event(&self, kind: EventKind, username: &Username, account: &AccountId) -> OutboxEvent {
        // Unique within this process even without the OS's randomness
        // (the order), and across processes with it.
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&next_order().to_be_bytes());
        let _ = getrandom::fill(&mut id[8..]);
        OutboxEvent {
            id: id.iter().map(|b| format!("{b:02x}")).collect(),
            kind,
            account_id: account.clone(),
            username: username.key().to_owned(),
            at: self.at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_strictly_increase() {
        let a = next_order();
        let b = next_order();
        assert!(b > a);
        let x = Trail::current().activity(ActivityKind::SignIn);
        let y = Trail::current().activity(ActivityKind::SignIn);
        assert!(is_activity_id(&x.id) && is_activity_id(&y.id));
        assert!(y.id > x.id);
        assert!(!is_activity_id("1#2") && !is_activity_id(&x.id.to_uppercase().replace('#', "$")));
    }

    #[tokio::test]
    async fn the_scope_is_seen_inside_only() {
        let trail = Trail {
            at: 42,
            ip: Some("192.0.2.1".into()),
            device: Some("curl".into()),
            ttl_secs: 10,
        };
        let inside = trail.scope(async { Trail::current() }).await;
        assert_eq!(inside.at, 42);
        assert_eq!(inside.activity(ActivityKind::SignOut).expires_at, 52);
        assert_eq!(Trail::current().ip, None);
    }
}
