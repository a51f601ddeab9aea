//! Password resets, and racing writers.

use shared::domain::EmailAddress;
use shared::ports::{Confirmation, FailureRun, TokenPurpose, TokenRecord, WriteOutcome};

use super::{NOW, Store, cap, fail, fresh_sid, name, session, sid, token, user};

pub(super) async fn a_reset_changes_the_password_and_ends_everything(store: Store) {
    let (_, t) = token(TokenPurpose::Confirm, "jo", NOW + 100);
    store.create_user(&user("Jo", "jo@x.io"), &t).await.unwrap();
    store
        .create_session(&session("jo", "s1", NOW + 100), None)
        .await
        .unwrap();
    store
        .create_session(&session("jo", "s2", NOW + 100), None)
        .await
        .unwrap();
    assert!(fail(&store, "jo", NOW, NOW + 100).await);
    let (_, reset) = token(TokenPurpose::Reset, "jo", NOW + 100);
    store.put_token(&reset, &[]).await.unwrap();

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
        store
            .login_state(&name("jo"), None, NOW)
            .await
            .unwrap()
            .failures
            .count,
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

pub(super) async fn a_completed_reset_voids_the_other_reset_links(store: Store) {
    let (_, t) = token(TokenPurpose::Confirm, "kim", NOW + 100);
    store
        .create_user(&user("kim", "kim@x.io"), &t)
        .await
        .unwrap();
    let (_, first) = token(TokenPurpose::Reset, "kim", NOW + 100);
    let (_, second) = token(TokenPurpose::Reset, "kim", NOW + 100);
    store.put_token(&first, &[]).await.unwrap();
    store.put_token(&second, &[]).await.unwrap();

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
    store.put_token(&fresh, &[]).await.unwrap();
    let after = store.reset_password(&fresh, "h3", NOW).await.unwrap();

    assert!(used.is_some());
    assert!(stale.is_none(), "issued before the completed reset");
    assert_eq!(epoch, 1);
    assert_eq!(after.unwrap().password_hash, "h3");
}

pub(super) async fn racing_writers_never_both_win(store: Store) {
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
    // Twenty accounts name one address; their links are clicked at once.
    let mut links = Vec::new();
    for i in 0..20 {
        let (_, t) = token(TokenPurpose::Confirm, &format!("mail{i}"), NOW + 100);
        let t = TokenRecord {
            email: EmailAddress::parse("same@x.io").unwrap(),
            ..t
        };
        store
            .create_user(&user(&format!("mail{i}"), "same@x.io"), &t)
            .await
            .unwrap();
        links.push(t.hash);
    }
    let emails = links.into_iter().map(|hash| {
        let store = store.clone();
        tokio::spawn(async move {
            store.confirm_email(&hash, NOW).await.unwrap() == Confirmation::Confirmed
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
                .claim_login_attempt(
                    &FailureRun::Username(name("claimed")),
                    seen,
                    NOW,
                    NOW + 100,
                    &fresh_sid(),
                )
                .await
                .unwrap()
        })
    });
    let count = |v: Vec<Result<bool, tokio::task::JoinError>>| {
        v.into_iter().filter(|r| *r.as_ref().unwrap()).count()
    };
    let names: Vec<_> = names.collect();
    let emails: Vec<_> = emails.collect();
    let hits: Vec<_> = hits.collect();
    let claims: Vec<_> = claims.collect();
    assert_eq!(count(futures(names).await), 1, "one username, one winner");
    assert_eq!(count(futures(emails).await), 1, "one address, one owner");
    assert_eq!(count(futures(hits).await), 5, "a cap of 5 admits 5");
    assert_eq!(
        count(futures(claims).await),
        1,
        "one login attempt per read"
    );

    // One link of the winner's, clicked ten times at once.
    let winner = store.get_user(&name("race")).await.unwrap().unwrap();
    let (_, link) = token(TokenPurpose::Confirm, "race", NOW + 100);
    let link = TokenRecord {
        email: winner.email.clone(),
        ..link
    };
    assert_eq!(
        store.put_token(&link, &[]).await.unwrap(),
        WriteOutcome::Done
    );
    let consumers: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            let hash = link.hash.clone();
            tokio::spawn(async move {
                store.confirm_email(&hash, NOW).await.unwrap() == Confirmation::Confirmed
            })
        })
        .collect();
    assert_eq!(
        count(futures(consumers).await),
        1,
        "a token is consumed once"
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

pub(super) async fn a_reset_proves_the_mailbox_unless_another_account_holds_it(store: Store) {
    // quin confirmed q@x.io; rex names it too, unconfirmed; sam's own
    // address is unconfirmed and free.
    let q = EmailAddress::parse("q@x.io").unwrap();
    let (_, tq) = token(TokenPurpose::Confirm, "quin", NOW + 100);
    let tq = TokenRecord {
        email: q.clone(),
        ..tq
    };
    store
        .create_user(&user("quin", "q@x.io"), &tq)
        .await
        .unwrap();
    assert_eq!(
        store.confirm_email(&tq.hash, NOW).await.unwrap(),
        Confirmation::Confirmed
    );
    let (_, tr) = token(TokenPurpose::Confirm, "rex", NOW + 100);
    store
        .create_user(&user("rex", "q@x.io"), &tr)
        .await
        .unwrap();
    let (_, ts) = token(TokenPurpose::Confirm, "sam", NOW + 100);
    store
        .create_user(&user("sam", "sam@x.io"), &ts)
        .await
        .unwrap();
    let (_, reset_rex) = token(TokenPurpose::Reset, "rex", NOW + 100);
    let reset_rex = TokenRecord {
        email: q.clone(),
        ..reset_rex
    };
    let (_, reset_sam) = token(TokenPurpose::Reset, "sam", NOW + 100);
    for t in [&reset_rex, &reset_sam] {
        assert_eq!(store.put_token(t, &[]).await.unwrap(), WriteOutcome::Done);
    }

    let rex = store
        .reset_password(&reset_rex, "rex-hash", NOW)
        .await
        .unwrap()
        .unwrap();
    let sam = store
        .reset_password(&reset_sam, "sam-hash", NOW)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(rex.password_hash, "rex-hash", "the password is changed");
    assert_eq!(rex.reset_epoch, 1);
    assert!(!rex.is_email_verified, "quin's address stays quin's");
    assert_eq!(store.address_holder(&q).await.unwrap(), Some(name("quin")));
    assert!(
        store
            .reset_password(&reset_rex, "again", NOW)
            .await
            .unwrap()
            .is_none(),
        "single use either way"
    );
    assert_eq!(sam.password_hash, "sam-hash");
    assert!(sam.is_email_verified, "the reset proved sam's mailbox");
    assert_eq!(
        store
            .address_holder(&EmailAddress::parse("sam@x.io").unwrap())
            .await
            .unwrap(),
        Some(name("sam"))
    );
}
