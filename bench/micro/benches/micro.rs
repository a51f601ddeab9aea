//! In-process benchmarks (criterion):
//! - argon2id hash and verify alone, with the service's parameters, so that
//!   login's overhead above them shows in the HTTP numbers;
//! - the `profile_settings` handler, request in, response out, on the memory
//!   store: its CPU per request (JWT verify, session + user lookup, JSON).

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use lambda_http::{Body, Request};
use secrecy::SecretString;
use shared::App;
use shared::adapters::{ManualClock, MemoryStore, OutboxMailer};
use shared::config::Config;
use shared::domain::hashing::{hash_password, verify_password};
use shared::domain::{
    AccountId, EmailAddress, JwtKeys, OneTimeToken, Password, SessionId, Username,
};
use shared::ports::{Clock, KeyRing, SessionRecord, TokenPurpose, TokenRecord, UserRecord};

const PASSWORD: &str = "S3cure-Passw0rd!";

fn argon2(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let username = Username::parse("bench").unwrap();
    let pwd = Password::parse(PASSWORD, &username).unwrap();
    let hash = rt.block_on(hash_password(pwd.secret().clone())).unwrap();
    let mut group = c.benchmark_group("argon2id (m=19456 KiB, t=2, p=1)");
    group.sample_size(20);
    group.bench_function("hash", |b| {
        b.iter(|| {
            let pwd = Password::parse(PASSWORD, &username).unwrap();
            rt.block_on(hash_password(black_box(pwd.secret().clone())))
                .unwrap()
        })
    });
    group.bench_function("verify", |b| {
        b.iter(|| {
            rt.block_on(verify_password(
                SecretString::from(PASSWORD),
                Some(black_box(hash.clone())),
            ))
            .unwrap()
        })
    });
    group.finish();
}

fn profile_settings(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outbox = std::env::temp_dir().join("micro-bench-outbox");
    let config = Config::from_lookup(|_| None).unwrap();
    let clock = Arc::new(ManualClock::new(1_790_000_000));
    let keys = JwtKeys::new(&SecretString::from("b".repeat(40))).unwrap();
    let app = Arc::new(App::new(
        config,
        Arc::new(MemoryStore::new()),
        Arc::new(OutboxMailer::new(&outbox).unwrap()),
        clock.clone(),
        Some(KeyRing::fixed(keys)),
    ));
    let username = Username::parse("bench").unwrap();
    let now = clock.now();
    let sid = SessionId::generate().unwrap();
    let token = rt.block_on(async {
        let account_id = AccountId::generate().unwrap();
        let user = UserRecord {
            is_email_verified: true,
            ..UserRecord::new(
                username.clone(),
                account_id.clone(),
                "Bench".into(),
                EmailAddress::parse("bench@example.com").unwrap(),
                "unused".into(),
                now,
            )
        };
        let token = TokenRecord {
            hash: OneTimeToken::generate().unwrap().hash(),
            purpose: TokenPurpose::Confirm,
            username: username.clone(),
            account_id,
            email: user.email.clone(),
            expires_at: now + 1,
            epoch: 0,
        };
        app.store.create_user(&user, &token).await.unwrap();
        let session = SessionRecord {
            username: username.clone(),
            account_id: user.account_id.clone(),
            sid: sid.clone(),
            created_at: now,
            expires_at: now + 3600,
            reset_epoch: 0,
            remember: false,
            pwd_failures: 0,
            session_epoch: 0,
            device: None,
            amr: Vec::new(),
            known_device: false,
        };
        app.store.create_session(&session, None).await.unwrap();
        app.jwt()
            .unwrap()
            .signing(now)
            .await
            .issue(&app.config, &username, &sid, now, now + 3600)
            .unwrap()
    });
    let request = move || -> Request {
        lambda_http::http::Request::builder()
            .method("GET")
            .uri("/api/profile_settings")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::Empty)
            .unwrap()
    };
    let check = rt.block_on(profile_settings::handle(app.clone(), request()));
    assert_eq!(check.status(), 200);
    c.bench_function("profile_settings handler (memory store)", |b| {
        b.iter(|| rt.block_on(profile_settings::handle(app.clone(), black_box(request()))))
    });
}

criterion_group!(benches, argon2, profile_settings);
criterion_main!(benches);
