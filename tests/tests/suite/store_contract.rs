//! ONE contract for every store: each check runs against the in-memory store
//! and against DynamoDB on moto. The memory store must behave like DynamoDB.

use std::sync::Arc;

use shared::adapters::{DynamoStore, MemoryStore};
use shared::domain::{EmailAddress, OneTimeToken, RateCap, SessionId, TokenHash, Username};
use shared::ports::{
    CreateUserError, SessionRecord, TokenPurpose, TokenRecord, UserRecord, UserStore,
};

type Store = Arc<dyn UserStore>;
const NOW: i64 = 1_800_000_000;

/// A username as the store reads it back.
fn name(raw: &str) -> Username {
    Username::from_stored(raw.into())
}

fn sid(id: &str) -> SessionId {
    SessionId::from_stored(id.into())
}

fn memory() -> Store {
    Arc::new(MemoryStore::new())
}

async fn dynamo() -> Option<Store> {
    tests::moto_endpoint()?;
    let sdk = shared::adapters::aws::sdk_config().await;
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        tests::unique("contract"),
    );
    store.ensure_table().await.unwrap();
    Some(Arc::new(store))
}

fn user(username: &str, email: &str) -> UserRecord {
    UserRecord {
        username: name(username),
        full_name: "Test".into(),
        email: EmailAddress::from_stored(email.into()),
        phone: None,
        contacts: Some("c".into()),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        is_email_verified: false,
        created_at: NOW,
        reset_epoch: 0,
    }
}

fn token(purpose: TokenPurpose, username_key: &str, expires_at: i64) -> (String, TokenRecord) {
    let t = OneTimeToken::generate().unwrap();
    let record = TokenRecord {
        hash: t.hash(),
        purpose,
        username: name(username_key),
        expires_at,
        epoch: 0,
    };
    (t.expose().to_owned(), record)
}

fn session(username_key: &str, sid: &str, expires_at: i64) -> SessionRecord {
    SessionRecord {
        reset_epoch: 0,
        username: name(username_key),
        sid: self::sid(sid),
        created_at: NOW,
        expires_at,
    }
}

fn cap(key: &str, window_start: i64, limit: u32) -> RateCap {
    RateCap {
        key: key.into(),
        window_start,
        limit,
        expires_at: window_start + 60,
    }
}

async fn create_user_is_all_or_nothing(store: Store) {
    let (_, t1) = token(TokenPurpose::Confirm, "admin", NOW + 100);
    store
        .create_user(&user("Admin", "a@x.io"), &t1)
        .await
        .unwrap();

    let (_, t2) = token(TokenPurpose::Confirm, "admin", NOW + 100);
    let same_name = store.create_user(&user("ADMIN", "other@x.io"), &t2).await;
    let (_, t3) = token(TokenPurpose::Confirm, "bob", NOW + 100);
    let same_email = store.create_user(&user("bob", "A@X.IO"), &t3).await;

    assert!(matches!(same_name, Err(CreateUserError::UsernameTaken)));
    assert!(matches!(same_email, Err(CreateUserError::EmailTaken)));
    // Nothing of the failed attempts was written: their email, name and tokens are free.
    assert!(store.get_user(&name("bob")).await.unwrap().is_none());
    assert!(
        store
            .get_token(&t2.hash, TokenPurpose::Confirm, NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get_token(&t3.hash, TokenPurpose::Confirm, NOW)
            .await
            .unwrap()
            .is_none()
    );
    let (_, t4) = token(TokenPurpose::Confirm, "carol", NOW + 100);
    store
        .create_user(&user("carol", "other@x.io"), &t4)
        .await
        .unwrap();
    let stored = store.get_user(&name("admin")).await.unwrap().unwrap();
    assert_eq!(stored, user("Admin", "a@x.io"));
}

async fn undoing_a_registration_frees_name_and_email(store: Store) {
    let u = user("dave", "dave@x.io");
    let (_, t) = token(TokenPurpose::Confirm, "dave", NOW + 100);
    store.create_user(&u, &t).await.unwrap();

    store.delete_unverified_user(&u, &t).await.unwrap();

    assert!(store.get_user(&name("dave")).await.unwrap().is_none());
    assert!(!store.confirm_email(&t.hash, NOW).await.unwrap());
    let (_, t2) = token(TokenPurpose::Confirm, "dave", NOW + 100);
    store.create_user(&u, &t2).await.unwrap();
    // A confirmed account is never undone.
    assert!(store.confirm_email(&t2.hash, NOW).await.unwrap());
    store.delete_unverified_user(&u, &t2).await.unwrap();
    assert!(
        store
            .get_user(&name("dave"))
            .await
            .unwrap()
            .unwrap()
            .is_email_verified
    );
}

async fn confirmation_tokens_are_single_use_and_expire(store: Store) {
    let (_, t) = token(TokenPurpose::Confirm, "erin", NOW + 100);
    store
        .create_user(&user("erin", "erin@x.io"), &t)
        .await
        .unwrap();
    let (_, late) = token(TokenPurpose::Confirm, "erin", NOW + 100);
    store.put_token(&late, None).await.unwrap();

    assert!(
        !store.confirm_email(&late.hash, NOW + 100).await.unwrap(),
        "expired"
    );
    assert!(store.confirm_email(&t.hash, NOW + 99).await.unwrap());
    assert!(
        !store.confirm_email(&t.hash, NOW + 99).await.unwrap(),
        "used"
    );
    assert!(
        !store
            .confirm_email(&TokenHash::from_link(&"A".repeat(43)).unwrap(), NOW)
            .await
            .unwrap()
    );
    assert!(
        store
            .get_user(&name("erin"))
            .await
            .unwrap()
            .unwrap()
            .is_email_verified
    );
}

async fn tokens_have_a_purpose(store: Store) {
    let (_, confirm) = token(TokenPurpose::Confirm, "fay", NOW + 100);
    store
        .create_user(&user("fay", "fay@x.io"), &confirm)
        .await
        .unwrap();
    let (_, reset) = token(TokenPurpose::Reset, "fay", NOW + 100);
    store.put_token(&reset, None).await.unwrap();

    assert!(
        store
            .get_token(&confirm.hash, TokenPurpose::Reset, NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!store.confirm_email(&reset.hash, NOW).await.unwrap());
    assert!(
        store
            .reset_password(&confirm, "h", NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .get_token(&reset.hash, TokenPurpose::Reset, NOW)
            .await
            .unwrap(),
        Some(reset.clone())
    );
    assert!(
        store
            .get_token(&reset.hash, TokenPurpose::Reset, NOW + 100)
            .await
            .unwrap()
            .is_none()
    );
}

async fn sessions_live_until_they_expire_or_are_deleted(store: Store) {
    let (_, t) = token(TokenPurpose::Confirm, "gus", NOW + 100);
    store
        .create_user(&user("gus", "gus@x.io"), &t)
        .await
        .unwrap();
    store
        .create_session(&session("gus", "s1", NOW + 10), false)
        .await
        .unwrap();
    store
        .create_session(&session("gus", "s2", NOW + 10), false)
        .await
        .unwrap();

    assert_eq!(
        store
            .session_user(&name("gus"), &sid("s1"), NOW)
            .await
            .unwrap()
            .unwrap()
            .username
            .as_str(),
        "gus"
    );
    assert!(
        store
            .session_user(&name("gus"), &sid("s1"), NOW + 10)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    assert!(
        store
            .session_user(&name("gus"), &sid("nope"), NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .session_user(&name("nobody"), &sid("s1"), NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .delete_session(&name("gus"), &sid("s1"), NOW)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_session(&name("gus"), &sid("s1"), NOW)
            .await
            .unwrap(),
        "already gone"
    );
    assert!(
        !store
            .delete_session(&name("gus"), &sid("s2"), NOW + 10)
            .await
            .unwrap(),
        "expired"
    );
}

/// One failed login as the handler counts it: read the run, claim the attempt.
async fn fail(store: &Store, username_key: &str, now: i64, expires_at: i64) -> bool {
    let (_, seen) = store.login_state(&name(username_key), now).await.unwrap();
    store
        .claim_login_attempt(&name(username_key), seen, now, expires_at)
        .await
        .unwrap()
}

async fn login_failures_count_until_cleared_or_forgotten(store: Store) {
    for i in 0..3 {
        assert!(fail(&store, "hal", NOW + i, NOW + 1000).await);
    }
    let (_, f) = store.login_state(&name("hal"), NOW + 5).await.unwrap();
    assert_eq!((f.count, f.last_at), (3, NOW + 2));
    let stale = shared::domain::LoginFailures {
        count: 2,
        last_at: NOW + 1,
    };
    assert!(
        !store
            .claim_login_attempt(&name("hal"), stale, NOW + 5, NOW + 1000)
            .await
            .unwrap(),
        "a claim from an outdated read loses"
    );
    let (_, forgotten) = store.login_state(&name("hal"), NOW + 1000).await.unwrap();
    assert_eq!(forgotten.count, 0);
    assert!(fail(&store, "hal", NOW + 1000, NOW + 2000).await);
    assert_eq!(
        store
            .login_state(&name("hal"), NOW + 1001)
            .await
            .unwrap()
            .1
            .count,
        1,
        "a new run"
    );

    store
        .create_session(&session("hal", "s", NOW + 5000), true)
        .await
        .unwrap();

    assert_eq!(
        store
            .login_state(&name("hal"), NOW + 1001)
            .await
            .unwrap()
            .1
            .count,
        0
    );
}

async fn sessions_from_before_a_reset_are_dead(store: Store) {
    let (_, t) = token(TokenPurpose::Confirm, "lee", NOW + 100);
    store
        .create_user(&user("lee", "lee@x.io"), &t)
        .await
        .unwrap();
    let (_, reset) = token(TokenPurpose::Reset, "lee", NOW + 100);
    store.put_token(&reset, None).await.unwrap();
    store
        .reset_password(&reset, "h", NOW)
        .await
        .unwrap()
        .unwrap();

    // A login that checked the old password before the reset writes its session after it.
    store
        .create_session(&session("lee", "late", NOW + 100), true)
        .await
        .unwrap();
    let current = SessionRecord {
        reset_epoch: 1,
        ..session("lee", "new", NOW + 100)
    };
    store.create_session(&current, true).await.unwrap();

    assert!(
        store
            .session_user(&name("lee"), &sid("late"), NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .session_user(&name("lee"), &sid("new"), NOW)
            .await
            .unwrap()
            .is_some()
    );
}

async fn caps_count_per_key_and_window(store: Store) {
    let results = [
        store.hit(&cap("ip#1", 0, 2)).await.unwrap(),
        store.hit(&cap("ip#1", 0, 2)).await.unwrap(),
        store.hit(&cap("ip#1", 0, 2)).await.unwrap(),
        store.hit(&cap("ip#2", 0, 2)).await.unwrap(),
        store.hit(&cap("ip#1", 60, 2)).await.unwrap(),
    ];
    assert_eq!(results, [true, true, false, true, true]);
    let (_, t1) = token(TokenPurpose::Reset, "ida", NOW + 100);
    let (_, t2) = token(TokenPurpose::Reset, "ida", NOW + 100);
    assert!(
        store
            .put_token(&t1, Some(&cap("reset#ida", 0, 1)))
            .await
            .unwrap()
    );
    assert!(
        !store
            .put_token(&t2, Some(&cap("reset#ida", 0, 1)))
            .await
            .unwrap()
    );
    assert!(
        store
            .get_token(&t2.hash, TokenPurpose::Reset, NOW)
            .await
            .unwrap()
            .is_none(),
        "nothing written"
    );
}

async fn a_reset_changes_the_password_and_ends_everything(store: Store) {
    let (_, t) = token(TokenPurpose::Confirm, "jo", NOW + 100);
    store.create_user(&user("Jo", "jo@x.io"), &t).await.unwrap();
    store
        .create_session(&session("jo", "s1", NOW + 100), false)
        .await
        .unwrap();
    store
        .create_session(&session("jo", "s2", NOW + 100), false)
        .await
        .unwrap();
    assert!(fail(&store, "jo", NOW, NOW + 100).await);
    let (_, reset) = token(TokenPurpose::Reset, "jo", NOW + 100);
    store.put_token(&reset, None).await.unwrap();

    assert!(
        store
            .reset_password(
                &TokenRecord {
                    username: name("someone-else"),
                    ..reset.clone()
                },
                "new",
                NOW
            )
            .await
            .unwrap()
            .is_none()
    );
    let updated = store
        .reset_password(&reset, "new-hash", NOW)
        .await
        .unwrap()
        .unwrap();
    let again = store.reset_password(&reset, "other", NOW).await.unwrap();

    assert_eq!(updated.password_hash, "new-hash");
    assert!(updated.is_email_verified);
    assert_eq!(updated.email.as_str(), "jo@x.io");
    assert!(again.is_none(), "single use");
    assert!(
        store
            .session_user(&name("jo"), &sid("s1"), NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .session_user(&name("jo"), &sid("s2"), NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.login_state(&name("jo"), NOW).await.unwrap().1.count,
        0
    );
    assert_eq!(
        store
            .get_user(&name("jo"))
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "new-hash"
    );
}

async fn a_completed_reset_voids_the_other_reset_links(store: Store) {
    let (_, t) = token(TokenPurpose::Confirm, "kim", NOW + 100);
    store
        .create_user(&user("kim", "kim@x.io"), &t)
        .await
        .unwrap();
    let (_, first) = token(TokenPurpose::Reset, "kim", NOW + 100);
    let (_, second) = token(TokenPurpose::Reset, "kim", NOW + 100);
    store.put_token(&first, None).await.unwrap();
    store.put_token(&second, None).await.unwrap();

    let used = store.reset_password(&first, "h1", NOW).await.unwrap();
    let stale = store.reset_password(&second, "h2", NOW).await.unwrap();
    let epoch = store
        .get_user(&name("kim"))
        .await
        .unwrap()
        .unwrap()
        .reset_epoch;
    let (_, mut fresh) = token(TokenPurpose::Reset, "kim", NOW + 100);
    fresh.epoch = epoch;
    store.put_token(&fresh, None).await.unwrap();
    let after = store.reset_password(&fresh, "h3", NOW).await.unwrap();

    assert!(used.is_some());
    assert!(stale.is_none(), "issued before the completed reset");
    assert_eq!(epoch, 1);
    assert_eq!(after.unwrap().password_hash, "h3");
}

async fn racing_writers_never_both_win(store: Store) {
    let names = (0..20).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let (_, t) = token(TokenPurpose::Confirm, "race", NOW + 100);
            store
                .create_user(&user("Race", &format!("r{i}@x.io")), &t)
                .await
                .is_ok()
        })
    });
    let emails = (0..20).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let (_, t) = token(TokenPurpose::Confirm, &format!("mail{i}"), NOW + 100);
            store
                .create_user(&user(&format!("mail{i}"), "same@x.io"), &t)
                .await
                .is_ok()
        })
    });
    let hits = (0..20).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.hit(&cap("race", 0, 5)).await.unwrap() })
    });
    let claims = (0..20).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            let seen = shared::domain::LoginFailures::default();
            store
                .claim_login_attempt(&name("claimed"), seen, NOW, NOW + 100)
                .await
                .unwrap()
        })
    });
    let (_, shared_token) = token(TokenPurpose::Confirm, "race", NOW + 100);
    store.put_token(&shared_token, None).await.unwrap();
    let consumers = (0..10).map(|_| {
        let store = store.clone();
        let hash = shared_token.hash.clone();
        tokio::spawn(async move { store.confirm_email(&hash, NOW).await.unwrap() })
    });

    let count = |v: Vec<Result<bool, tokio::task::JoinError>>| {
        v.into_iter().filter(|r| *r.as_ref().unwrap()).count()
    };
    let names: Vec<_> = names.collect();
    let emails: Vec<_> = emails.collect();
    let hits: Vec<_> = hits.collect();
    let consumers: Vec<_> = consumers.collect();
    let claims: Vec<_> = claims.collect();
    assert_eq!(count(futures(names).await), 1, "one username, one winner");
    assert_eq!(count(futures(emails).await), 1, "one email, one winner");
    assert_eq!(count(futures(hits).await), 5, "a cap of 5 admits 5");
    assert_eq!(
        count(futures(claims).await),
        1,
        "one login attempt per read"
    );
    assert!(
        count(futures(consumers).await) <= 1,
        "a token is consumed at most once"
    );
}

async fn futures<T>(
    handles: Vec<tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await);
    }
    out
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(super::memory()).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    match super::dynamo().await {
                        Some(store) => super::$name(store).await,
                        None => eprintln!("skipped: moto is not running (use scripts/test.sh)"),
                    }
                }
            )*
        }
    };
}

contract!(
    create_user_is_all_or_nothing,
    undoing_a_registration_frees_name_and_email,
    confirmation_tokens_are_single_use_and_expire,
    tokens_have_a_purpose,
    sessions_live_until_they_expire_or_are_deleted,
    login_failures_count_until_cleared_or_forgotten,
    caps_count_per_key_and_window,
    a_reset_changes_the_password_and_ends_everything,
    a_completed_reset_voids_the_other_reset_links,
    sessions_from_before_a_reset_are_dead,
    racing_writers_never_both_win,
);
