//! Deleted means deleted, under races (issue 20): clients doing random
//! lifecycle operations on a few usernames and shared addresses at once,
//! over real HTTP, then invariants over everything stored:
//! - every item of an account (sessions, links and their references, its
//!   own counters) belongs to the live account with that username and id:
//!   nothing of a deleted or earlier account is left;
//! - every address claim belongs to a live, verified account with that
//!   address, and every verified account holds its address's claim (so no
//!   two accounts hold one address);
//! - no answer was a 5xx other than 503.
//!
//! Seeded (`RACE_SEED`, else a fresh seed), for at most `RACE_SECS` (10)
//! seconds per store; on failure the seed and the log of every operation
//! with its answer are printed. Real concurrency cannot be replayed from
//! the seed alone; the log says what happened.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shared::adapters::MemoryStore;
use shared::domain::EmailAddress;
use tests::{Backend, PASSWORD, TestApp, links, moto_endpoint};

const USERNAMES: [&str; 4] = ["ann", "ben", "cat", "dot"];
const ADDRESSES: [&str; 3] = [
    "shared1@example.com",
    "shared2@example.com",
    "shared3@example.com",
];
const CLIENTS: u64 = 8;

/// splitmix64: a small seeded generator (no dependency for a test).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

/// What the clients share: the sessions they hold and the links mailed.
#[derive(Default)]
struct Shared {
    tokens: Vec<(String, String)>,
    links: Vec<String>,
    log: Vec<String>,
}

async fn client(app: Arc<TestApp>, shared: Arc<Mutex<Shared>>, seed: u64, until: Instant) {
    let mut rng = Rng(seed);
    while Instant::now() < until {
        let user = *rng.pick(&USERNAMES).unwrap();
        let address = *rng.pick(&ADDRESSES).unwrap();
        let (token, link) = {
            let s = shared.lock().unwrap();
            let mine: Vec<_> = s.tokens.iter().filter(|(u, _)| u == user).collect();
            let token = rng.pick(&mine).map(|(_, t)| t.clone());
            (token, rng.pick(&s.links).cloned())
        };
        let bearer = |method: &str, path: &str, body: Option<Value>| {
            let mut req = app.request(method, path);
            if let Some(t) = &token {
                req = req.bearer_auth(t);
            }
            if let Some(b) = body {
                req = req.json(&b);
            }
            req
        };
        let op = rng.below(16);
        let (what, req) = match op {
            0 | 1 => (
                format!("register {user} {address}"),
                app.request("POST", "/api/registration").json(&json!({
                    "username": user, "full_name": "Racer", "email": address,
                    "phone": null, "contacts": null, "pwd": PASSWORD,
                })),
            ),
            2..=4 => (
                format!("login {user}"),
                app.request("POST", "/api/login")
                    .json(&json!({"username": user, "pwd": PASSWORD})),
            ),
            5 | 6 => {
                let Some(link) = link else { continue };
                let path = link.replacen("/reset_password/", "/api/reset_password/", 1);
                let path = path
                    .replacen("/confirm_email/", "/api/confirm_email/", 1)
                    .replacen("/revert_email/", "/api/revert_email/", 1);
                if path.contains("/api/reset_password/") {
                    (
                        format!("reset link {}", &path[..path.len().min(40)]),
                        app.request("POST", &path)
                            .json(&json!({"new_pwd": PASSWORD})),
                    )
                } else {
                    (
                        format!("link {}", &path[..path.len().min(40)]),
                        app.request("GET", &path),
                    )
                }
            }
            7..=9 => (
                format!("reset request {user}"),
                app.request("POST", "/api/reset_password_request")
                    .json(&json!({"username": user})),
            ),
            10 => (
                format!("change_email {user} -> {address}"),
                bearer(
                    "POST",
                    "/api/change_email",
                    Some(json!({"pwd": PASSWORD, "new_email": address})),
                ),
            ),
            11 | 12 => (
                format!("delete {user}"),
                bearer(
                    "POST",
                    "/api/delete_account",
                    Some(json!({"pwd": PASSWORD})),
                ),
            ),
            13 => (
                format!("logout_all {user}"),
                bearer("POST", "/api/logout_all", Some(json!({}))),
            ),
            14 => (
                format!("resend {user}"),
                bearer("POST", "/api/resend_confirmation", Some(json!({}))),
            ),
            _ => (
                format!("profile {user}"),
                bearer(
                    "POST",
                    "/api/profile_settings",
                    Some(json!({"full_name": "Racer Two"})),
                ),
            ),
        };
        let resp = app.send(req).await;
        let mut s = shared.lock().unwrap();
        s.log
            .push(format!("[{seed:x}] {what}: {} {}", resp.status, resp.msg()));
        if what.starts_with("login") && resp.status == 200 {
            s.tokens.push((user.to_owned(), resp.token()));
        }
        assert!(
            resp.status < 500 || resp.status == 503,
            "{what} answered {}: {:?}",
            resp.status,
            resp.body
        );
    }
}

/// Every emailed link, refreshed while the clients run.
async fn mail_reader(app: Arc<TestApp>, shared: Arc<Mutex<Shared>>, until: Instant) {
    while Instant::now() < until {
        let mut found = BTreeSet::new();
        for mail in app.all_emails().await {
            for link in links(&mail) {
                if let Some(path) = link.strip_prefix(&app.base) {
                    found.insert(path.to_owned());
                }
            }
        }
        shared.lock().unwrap().links = found.into_iter().collect();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One account as stored.
#[derive(Debug)]
struct Account {
    account_id: String,
    email_key: String,
    verified: bool,
}

/// What the invariants are checked over, from either store.
#[derive(Debug, Default)]
struct World {
    accounts: HashMap<String, Account>,
    /// (what, username key, account id): sessions, links, link references.
    owned: Vec<(String, String, String)>,
    /// (email key, username key, account id).
    claims: Vec<(String, String, String)>,
    /// (counter, username key) of the per-user counters.
    counters: Vec<(String, String)>,
}

fn violations(world: &World) -> Vec<String> {
    let mut out = Vec::new();
    for (what, user, account) in &world.owned {
        match world.accounts.get(user) {
            Some(a) if &a.account_id == account => {}
            _ => out.push(format!("{what} of {user} ({account}): no such account")),
        }
    }
    for (email, user, account) in &world.claims {
        match world.accounts.get(user) {
            Some(a) if &a.account_id == account && a.verified && &a.email_key == email => {}
            other => out.push(format!("claim of {email} by {user} ({account}): {other:?}")),
        }
    }
    for (user, a) in &world.accounts {
        let holds = world
            .claims
            .iter()
            .any(|(e, u, id)| e == &a.email_key && u == user && id == &a.account_id);
        if a.verified && !holds {
            out.push(format!(
                "{user} is verified without holding {}",
                a.email_key
            ));
        }
    }
    for (counter, user) in &world.counters {
        if !world.accounts.contains_key(user) {
            out.push(format!("counter {counter} of a deleted {user}"));
        }
    }
    out
}

fn email_key(raw: &str) -> String {
    EmailAddress::from_stored(raw.to_owned()).key().to_owned()
}

/// The per-user counter scopes (`<scope>#<username key>...`).
fn user_counter(name: &str) -> Option<(String, String)> {
    let (scope, rest) = name.split_once('#')?;
    shared::ports::USER_COUNTER_SCOPES
        .contains(&scope)
        .then(|| {
            let user = rest.split('#').next().unwrap_or_default().to_owned();
            (name.to_owned(), user)
        })
}

fn memory_world(store: &MemoryStore) -> World {
    let c = store.contents().unwrap();
    let mut world = World::default();
    for u in c.users {
        world.accounts.insert(
            u.username.key().to_owned(),
            Account {
                account_id: u.account_id.as_str().to_owned(),
                email_key: u.email.key().to_owned(),
                verified: u.is_email_verified,
            },
        );
    }
    for s in c.sessions {
        let owner = s.username.key().to_owned();
        world
            .owned
            .push(("session".into(), owner, s.account_id.as_str().to_owned()));
    }
    for t in c.tokens {
        let owner = t.username.key().to_owned();
        world.owned.push((
            format!("{:?} link", t.purpose),
            owner,
            t.account_id.as_str().to_owned(),
        ));
    }
    for (email, user, account) in c.claims {
        world
            .claims
            .push((email, user, account.as_str().to_owned()));
    }
    world.counters = c.counters.iter().filter_map(|n| user_counter(n)).collect();
    world
}

async fn dynamo_world(table: &str) -> World {
    let sdk = shared::adapters::aws::sdk_config().await.unwrap();
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let text = |item: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>, name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let mut world = World::default();
    let mut pages = client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        let item = item.unwrap();
        let (pk, sk) = (text(&item, "pk"), text(&item, "sk"));
        if let Some(user) = pk.strip_prefix("USER#") {
            let account = text(&item, "account_id");
            if sk == "PROFILE" {
                world.accounts.insert(
                    user.to_owned(),
                    Account {
                        account_id: account,
                        email_key: email_key(&text(&item, "email")),
                        verified: item
                            .get("is_email_verified")
                            .and_then(|v| v.as_bool().ok())
                            .copied()
                            .unwrap_or(false),
                    },
                );
            } else {
                world.owned.push((sk, user.to_owned(), account));
            }
        } else if pk.starts_with("TOKEN#") {
            world.owned.push((
                pk.clone(),
                text(&item, "username_key"),
                text(&item, "account_id"),
            ));
        } else if let Some(email) = pk.strip_prefix("EMAIL#") {
            world.claims.push((
                email.to_owned(),
                text(&item, "username_key"),
                text(&item, "account_id"),
            ));
        } else if let Some(counter) = pk.strip_prefix("RATE#") {
            world.counters.extend(user_counter(counter));
        }
    }
    world
}

async fn race(backend: Backend, world: impl AsyncFnOnce() -> World) {
    let seed = std::env::var("RACE_SEED")
        .ok()
        .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let secs = std::env::var("RACE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let app = Arc::new(
        TestApp::options()
            .backend(backend)
            .env("IP_LIMITS", "off")
            .env("ADDRESS_MAIL_LIMIT", "100000")
            .env("RESET_EMAIL_USER_CEILING", "100000")
            .env("RESET_EMAIL_LIMIT", "100000")
            .spawn()
            .await,
    );
    let shared = Arc::new(Mutex::new(Shared::default()));
    let until = Instant::now() + Duration::from_secs(secs);
    let reader = tokio::spawn(mail_reader(app.clone(), shared.clone(), until));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            tokio::spawn(client(
                app.clone(),
                shared.clone(),
                seed.wrapping_add(i),
                until,
            ))
        })
        .collect();
    let mut failed = Vec::new();
    for c in clients {
        if let Err(e) = c.await {
            failed.push(format!("a client failed: {e}"));
        }
    }
    reader.await.unwrap();
    failed.extend(violations(&world().await));
    let log = std::mem::take(&mut shared.lock().unwrap().log);
    assert!(
        failed.is_empty(),
        "seed {seed:x} (RACE_SEED={seed:x} to rerun): {failed:#?}\noperations:\n{}",
        log.join("\n")
    );
    assert!(log.len() > 50, "only {} operations ran", log.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_race_on_the_memory_store_leaves_only_live_accounts_data() {
    let store = Arc::new(MemoryStore::new());
    let mut backend = Backend::memory();
    backend.store = store.clone();
    race(backend, async || memory_world(&store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_race_on_dynamodb_leaves_only_live_accounts_data() {
    if moto_endpoint().is_none() {
        eprintln!("skipped: moto is not running (use scripts/test.sh)");
        return;
    }
    let backend = Backend::moto(None).await;
    let table = backend.table.clone().unwrap();
    race(backend, async || dynamo_world(&table).await).await;
}
