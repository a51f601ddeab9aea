//! Sessions, the failed-login run and fixed-window caps.

use shared::domain::activity::ActivityKind;
use shared::ports::{FailureRun, SessionRecord, TokenPurpose, WriteOutcome};

use super::{NOW, Store, cap, fail, fresh_sid, name, session, sid, token, user};

pub(super) async fn sessions_live_until_they_expire_or_are_deleted(store: Store) {
    let (_, t) = token(TokenPurpose::Confirm, "gus", NOW + 100);
    store
        .create_user(&user("gus", "gus@x.io"), &t)
        .await
        .unwrap();
    store
        .create_session(&session("gus", "s1", NOW + 10), None)
        .await
        .unwrap();
    store
        .create_session(&session("gus", "s2", NOW + 10), None)
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
            .delete_session(&name("gus"), &sid("s1"), NOW, ActivityKind::SignOut)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_session(&name("gus"), &sid("s1"), NOW, ActivityKind::SignOut)
            .await
            .unwrap(),
        "already gone"
    );
    assert!(
        !store
            .delete_session(&name("gus"), &sid("s2"), NOW + 10, ActivityKind::SignOut)
            .await
            .unwrap(),
        "expired"
    );
}

pub(super) async fn login_failures_count_until_cleared_or_forgotten(store: Store) {
    let (_, t) = token(TokenPurpose::Confirm, "hal", NOW + 100);
    store
        .create_user(&user("hal", "hal@x.io"), &t)
        .await
        .unwrap();
    for i in 0..3 {
        assert!(fail(&store, "hal", NOW + i, NOW + 1000).await);
    }
    let f = store
        .login_state(&name("hal"), None, NOW + 5)
        .await
        .unwrap()
        .failures;
    assert_eq!((f.count, f.last_at), (3, NOW + 2));
    let stale = shared::domain::LoginFailures {
        count: 2,
        last_at: NOW + 1,
    };
    assert!(
        !store
            .claim_login_attempt(
                &FailureRun::Username(name("hal")),
                stale,
                NOW + 5,
                NOW + 1000,
                &fresh_sid()
            )
            .await
            .unwrap(),
        "a claim from an outdated read loses"
    );
    let forgotten = store
        .login_state(&name("hal"), None, NOW + 1000)
        .await
        .unwrap()
        .failures;
    assert_eq!(forgotten.count, 0);
    assert!(fail(&store, "hal", NOW + 1000, NOW + 2000).await);
    assert_eq!(
        store
            .login_state(&name("hal"), None, NOW + 1001)
            .await
            .unwrap()
            .failures
            .count,
        1,
        "a new run"
    );

    store
        .create_session(
            &session("hal", "s", NOW + 5000),
            Some(&FailureRun::Username(name("hal"))),
        )
        .await
        .unwrap();

    assert_eq!(
        store
            .login_state(&name("hal"), None, NOW + 1001)
            .await
            .unwrap()
            .failures
            .count,
        0
    );
}

pub(super) async fn sessions_from_before_a_reset_are_dead(store: Store) {
    let (_, t) = token(TokenPurpose::Confirm, "lee", NOW + 100);
    store
        .create_user(&user("lee", "lee@x.io"), &t)
        .await
        .unwrap();
    let (_, reset) = token(TokenPurpose::Reset, "lee", NOW + 100);
    store.put_token(&reset, &[]).await.unwrap();
    store
        .reset_password(&reset, "h", NOW)
        .await
        .unwrap()
        .unwrap();

    // A login that checked the old password before the reset writes its session after it.
    store
        .create_session(
            &session("lee", "late", NOW + 100),
            Some(&FailureRun::Username(name("lee"))),
        )
        .await
        .unwrap();
    let current = SessionRecord {
        reset_epoch: 1,
        ..session("lee", "new", NOW + 100)
    };
    store
        .create_session(&current, Some(&FailureRun::Username(name("lee"))))
        .await
        .unwrap();

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

pub(super) async fn caps_count_per_key_and_window(store: Store) {
    let results = [
        store.hit(&cap("ip#1", 0, 2)).await.unwrap(),
        store.hit(&cap("ip#1", 0, 2)).await.unwrap(),
        store.hit(&cap("ip#1", 0, 2)).await.unwrap(),
        store.hit(&cap("ip#2", 0, 2)).await.unwrap(),
        store.hit(&cap("ip#1", 60, 2)).await.unwrap(),
    ];
    assert_eq!(results, [true, true, false, true, true]);
    let (_, confirm) = token(TokenPurpose::Confirm, "ida", NOW + 100);
    store
        .create_user(&user("ida", "ida@x.io"), &confirm)
        .await
        .unwrap();
    let (_, t1) = token(TokenPurpose::Reset, "ida", NOW + 100);
    let (_, t2) = token(TokenPurpose::Reset, "ida", NOW + 100);
    assert_eq!(
        store
            .put_token(&t1, &[cap("reset#ida", 0, 1)])
            .await
            .unwrap(),
        WriteOutcome::Done
    );
    assert_eq!(
        store
            .put_token(&t2, &[cap("reset#ida", 0, 1)])
            .await
            .unwrap(),
        WriteOutcome::Capped
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

pub(super) async fn the_oldest_sessions_end_beyond_the_cap(store: Store) {
    store
        .create_user(
            &user("cap", "cap@x.io"),
            &token(TokenPurpose::Confirm, "cap", NOW + 100).1,
        )
        .await
        .unwrap();
    store
        .create_user(
            &user("other", "other@x.io"),
            &token(TokenPurpose::Confirm, "other", NOW + 100).1,
        )
        .await
        .unwrap();

    for (i, id) in ["s1", "s2", "s3", "s4"].into_iter().enumerate() {
        let mut s = session("cap", id, NOW + 1000);
        s.created_at = NOW + i as i64;
        store.create_session(&s, None).await.unwrap();
    }
    let other = session("other", "o1", NOW + 1000);
    store.create_session(&other, None).await.unwrap();
    let live = |id: &'static str, owner: &'static str| {
        let store = store.clone();
        async move {
            store
                .session_user(&name(owner), &sid(id), NOW)
                .await
                .unwrap()
                .is_some()
        }
    };
    // The current session is kept even when it is not the newest.
    let ended = store
        .end_sessions_beyond(&name("cap"), 2, &sid("s2"))
        .await
        .unwrap();

    assert_eq!(ended, 2);
    assert!(!live("s1", "cap").await);
    assert!(live("s2", "cap").await, "the current session stays");
    assert!(!live("s3", "cap").await);
    assert!(live("s4", "cap").await, "the newest other session stays");
    assert!(
        live("o1", "other").await,
        "another user's session is untouched"
    );
    assert_eq!(
        store
            .end_sessions_beyond(&name("cap"), 2, &sid("s2"))
            .await
            .unwrap(),
        0
    );
}

/// A refund takes back one hit of its own window only: never below zero,
/// never bringing back a window that was never counted, never another key's
/// or another window's (a sign-in that succeeds gives its count back).
pub(super) async fn a_refund_gives_back_one_hit_of_its_own_window(store: Store) {
    // Nothing counted yet: a refund creates nothing.
    store.refund(&cap("ip#9", 0, 2)).await.unwrap();
    assert!(store.hit(&cap("ip#9", 0, 2)).await.unwrap());
    assert!(store.hit(&cap("ip#9", 0, 2)).await.unwrap());
    assert!(!store.hit(&cap("ip#9", 0, 2)).await.unwrap());
    // One back: one more fits, and only one.
    store.refund(&cap("ip#9", 0, 2)).await.unwrap();
    assert!(store.hit(&cap("ip#9", 0, 2)).await.unwrap());
    assert!(!store.hit(&cap("ip#9", 0, 2)).await.unwrap());
    // Another key's or window's refund leaves this one full.
    store.refund(&cap("ip#8", 0, 2)).await.unwrap();
    store.refund(&cap("ip#9", 60, 2)).await.unwrap();
    assert!(!store.hit(&cap("ip#9", 0, 2)).await.unwrap());
    // Never below zero: three refunds of two hits leave room for two.
    for _ in 0..3 {
        store.refund(&cap("ip#9", 0, 2)).await.unwrap();
    }
    assert!(store.hit(&cap("ip#9", 0, 2)).await.unwrap());
    assert!(store.hit(&cap("ip#9", 0, 2)).await.unwrap());
    assert!(!store.hit(&cap("ip#9", 0, 2)).await.unwrap());
}
