//! ONE contract for every store: each check runs against the in-memory store
//! and against DynamoDB on moto. The memory store must behave like DynamoDB.

mod accounts;
mod lifecycle;
mod recovery;
mod resets;
mod sessions;

use std::sync::Arc;

use shared::adapters::{DynamoStore, MemoryStore};
use shared::domain::{AccountId, EmailAddress, OneTimeToken, RateCap, SessionId, Username};
use shared::ports::{
    Confirmation, FailureRun, SessionRecord, TokenPurpose, TokenRecord, UserRecord, UserStore,
};

pub(super) type Store = Arc<dyn UserStore>;
pub(super) const NOW: i64 = 1_800_000_000;

/// A username as the store reads it back.
pub(super) fn name(raw: &str) -> Username {
    Username::from_stored(raw.into())
}

/// The account of the helpers' records for `username` (one per name: a
/// test that re-creates an account gives the new one another id).
pub(super) fn account(username: &str) -> AccountId {
    AccountId::from_stored(format!("account-of-{}", username.to_ascii_lowercase()))
}

/// A new attempt or session id.
pub(super) fn fresh_sid() -> SessionId {
    SessionId::generate().unwrap()
}

pub(super) fn sid(id: &str) -> SessionId {
    SessionId::from_stored(id.into())
}

pub(super) fn memory() -> Store {
    Arc::new(MemoryStore::new())
}

pub(super) async fn dynamo() -> Option<Store> {
    tests::moto_endpoint()?;
    let sdk = shared::adapters::aws::sdk_config()
        .await
        .expect("SDK configuration");
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        tests::unique("contract"),
    );
    store.ensure_table().await.unwrap();
    Some(Arc::new(store))
}

pub(super) fn user(username: &str, email: &str) -> UserRecord {
    UserRecord {
        contacts: Some("c".into()),
        ..UserRecord::new(
            name(username),
            account(username),
            "Test".into(),
            EmailAddress::from_stored(email.into()),
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into(),
            NOW,
        )
    }
}

pub(super) fn token(
    purpose: TokenPurpose,
    username_key: &str,
    expires_at: i64,
) -> (String, TokenRecord) {
    let t = OneTimeToken::generate().unwrap();
    let record = TokenRecord {
        hash: t.hash(),
        purpose,
        username: name(username_key),
        account_id: account(username_key),
        email: EmailAddress::from_stored(format!("{}@x.io", username_key.to_ascii_lowercase())),
        expires_at,
        epoch: 0,
    };
    (t.expose().to_owned(), record)
}

pub(super) fn session(username_key: &str, sid: &str, expires_at: i64) -> SessionRecord {
    SessionRecord {
        reset_epoch: 0,
        username: name(username_key),
        account_id: account(username_key),
        sid: self::sid(sid),
        created_at: NOW,
        expires_at,
        remember: false,
        pwd_failures: 0,
        session_epoch: 0,
        device: None,
        amr: Vec::new(),
        known_device: false,
    }
}

pub(super) fn cap(key: &str, window_start: i64, limit: u32) -> RateCap {
    RateCap {
        part: None,
        key: key.into(),
        window_start,
        limit,
        expires_at: window_start + 60,
    }
}

/// A confirmed account `username` (address `<username>@x.io`) with a
/// session `s1`.
pub(super) async fn confirmed(store: &Store, username: &str) -> shared::ports::UserRecord {
    let (_, t) = token(TokenPurpose::Confirm, username, NOW + 100);
    store
        .create_user(&user(username, &format!("{username}@x.io")), &t)
        .await
        .unwrap();
    assert_eq!(
        store.confirm_email(&t.hash, NOW).await.unwrap(),
        Confirmation::Confirmed
    );
    assert!(
        store
            .create_session(&session(username, "s1", NOW + 100), None)
            .await
            .unwrap()
    );
    store.get_user(&name(username)).await.unwrap().unwrap()
}

/// A revert as the handler makes it: the account read now, a reset link
/// for the restored address in the next reset epoch. Returns the outcome
/// and that reset link's record.
pub(super) async fn revert(
    store: &Store,
    link: &TokenRecord,
    now: i64,
) -> (Confirmation, TokenRecord) {
    let user = store.get_user(&link.username).await.unwrap().unwrap();
    let (_, reset) = token(TokenPurpose::Reset, link.username.key(), now + 3600);
    let reset = TokenRecord {
        email: link.email.clone(),
        epoch: user.reset_epoch + 1,
        account_id: user.account_id.clone(),
        ..reset
    };
    let outcome = store.revert_email(link, &user, &reset, now).await.unwrap();
    (outcome, reset)
}

/// One failed login as the handler counts it: read the run, claim the attempt.
pub(super) async fn fail(store: &Store, username_key: &str, now: i64, expires_at: i64) -> bool {
    let seen = store
        .login_state(&name(username_key), None, now)
        .await
        .unwrap()
        .failures;
    store
        .claim_login_attempt(
            &FailureRun::Username(name(username_key)),
            seen,
            now,
            expires_at,
            &fresh_sid(),
        )
        .await
        .unwrap()
}

macro_rules! contract {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$module::$name(super::memory()).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    match super::dynamo().await {
                        Some(store) => super::$module::$name(store).await,
                        None => eprintln!("skipped: moto is not running (use scripts/test.sh)"),
                    }
                }
            )*
        }
    };
}

contract!(
    accounts::create_user_is_all_or_nothing,
    accounts::an_address_belongs_to_the_first_account_that_confirms_it,
    accounts::a_link_proves_only_the_address_it_was_mailed_to,
    resets::a_reset_proves_the_mailbox_unless_another_account_holds_it,
    accounts::undoing_a_registration_frees_name_and_email,
    accounts::confirmation_tokens_are_single_use_and_expire,
    accounts::tokens_have_a_purpose,
    accounts::tokens_and_sessions_never_outlive_their_account,
    accounts::a_token_whose_account_is_gone_is_refused_and_kept,
    sessions::sessions_live_until_they_expire_or_are_deleted,
    sessions::login_failures_count_until_cleared_or_forgotten,
    sessions::caps_count_per_key_and_window,
    sessions::a_refund_gives_back_one_hit_of_its_own_window,
    sessions::the_oldest_sessions_end_beyond_the_cap,
    resets::a_reset_changes_the_password_and_ends_everything,
    resets::a_completed_reset_voids_the_other_reset_links,
    sessions::sessions_from_before_a_reset_are_dead,
    resets::racing_writers_never_both_win,
    lifecycle::changing_the_password_keeps_only_the_callers_session,
    lifecycle::an_address_change_moves_the_claim_and_a_revert_brings_it_back,
    lifecycle::a_resent_link_voids_the_earlier_ones,
    lifecycle::deleting_an_account_leaves_nothing_of_it,
    recovery::a_devices_failures_are_its_own,
    recovery::password_reentries_are_counted_on_the_session,
    recovery::a_revert_disables_the_password_and_leaves_one_reset_link,
    recovery::a_login_racing_logout_all_leaves_no_live_session,
    recovery::a_deletion_racing_a_revert_leaves_nothing_of_the_account,
    recovery::signing_out_everywhere_leaves_links_alone,
    recovery::nothing_is_written_for_a_deleted_account,
);
