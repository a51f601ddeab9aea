//! The signed-in account's store operations: password change, address
//! change and revert, resent links, the partition read, account deletion.

use shared::domain::{EmailAddress, SessionId};
use shared::ports::{Confirmation, PendingEmail, TokenPurpose, TokenRecord, WriteOutcome};

use super::{NOW, Store, cap, confirmed, fail, name, session, sid, token, user};

pub(super) async fn changing_the_password_keeps_only_the_callers_session(store: Store) {
    let before = confirmed(&store, "pam").await;
    store
        .create_session(&session("pam", "s2", NOW + 100), None)
        .await
        .unwrap();
    assert!(fail(&store, "pam", NOW, NOW + 100).await);

    let changed = store
        .change_password(&before, "h2", &sid("s1"))
        .await
        .unwrap();
    let stale = store
        .change_password(&before, "h3", &sid("s1"))
        .await
        .unwrap();

    assert!(changed);
    assert!(!stale, "the epoch moved on");
    let kept = store
        .session_user(&name("pam"), &sid("s1"), NOW)
        .await
        .unwrap();
    assert_eq!(kept.map(|u| u.password_hash), Some("h2".to_owned()));
    assert!(
        store
            .session_user(&name("pam"), &sid("s2"), NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .login_state(&name("pam"), None, NOW)
            .await
            .unwrap()
            .failures
            .count,
        0
    );
    // Without the caller's session, nothing changes.
    let now = store.get_user(&name("pam")).await.unwrap().unwrap();
    assert!(
        !store
            .change_password(&now, "h4", &sid("gone"))
            .await
            .unwrap()
    );
}

pub(super) async fn an_address_change_moves_the_claim_and_a_revert_brings_it_back(store: Store) {
    let before = confirmed(&store, "ray").await;
    let new = EmailAddress::parse("ray@new.io").unwrap();
    let (_, change) = token(TokenPurpose::ChangeEmail, "ray", NOW + 100);
    let change = TokenRecord {
        email: new.clone(),
        ..change
    };
    let (_, revert) = token(TokenPurpose::RevertEmail, "ray", NOW + 100);
    let revert = TokenRecord { epoch: 1, ..revert };
    let pending = PendingEmail {
        email: new.clone(),
        expires_at: NOW + 100,
    };
    let caps = [cap("resend#ray", 0, 5)];

    let asked = store
        .request_email_change(&before, &pending, &change, Some(&revert), &caps)
        .await
        .unwrap();
    let stale = store
        .request_email_change(&before, &pending, &change, None, &caps)
        .await
        .unwrap();

    assert_eq!(asked, WriteOutcome::Done);
    assert_eq!(stale, WriteOutcome::Stale, "the change counter moved on");
    let old = EmailAddress::parse("ray@x.io").unwrap();
    assert_eq!(store.address_holder(&old).await.unwrap(), Some(name("ray")));
    assert_eq!(
        store.confirm_email(&change.hash, NOW).await.unwrap(),
        Confirmation::Confirmed
    );
    let moved = store.get_user(&name("ray")).await.unwrap().unwrap();
    assert_eq!(moved.email.as_str(), "ray@new.io");
    assert!(moved.is_email_verified && moved.pending_email.is_none());
    assert_eq!(store.address_holder(&new).await.unwrap(), Some(name("ray")));
    assert_eq!(store.address_holder(&old).await.unwrap(), None, "released");

    assert_eq!(
        super::revert(&store, &revert, NOW).await.0,
        Confirmation::Confirmed
    );
    let back = store.get_user(&name("ray")).await.unwrap().unwrap();
    assert_eq!(back.email.as_str(), "ray@x.io");
    assert_eq!(store.address_holder(&old).await.unwrap(), Some(name("ray")));
    assert_eq!(store.address_holder(&new).await.unwrap(), None);
    assert!(
        store
            .session_user(&name("ray"), &sid("s1"), NOW)
            .await
            .unwrap()
            .is_none(),
        "every session ended"
    );
    assert_eq!(
        super::revert(&store, &revert, NOW).await.0,
        Confirmation::NotFound,
        "single use"
    );
}

pub(super) async fn a_resent_link_voids_the_earlier_ones(store: Store) {
    let (_, first) = token(TokenPurpose::Confirm, "sue", NOW + 100);
    let u = user("sue", "sue@x.io");
    store.create_user(&u, &first).await.unwrap();
    let (_, second) = token(TokenPurpose::Confirm, "sue", NOW + 100);
    let second = TokenRecord { epoch: 1, ..second };

    assert_eq!(
        store.resend_confirmation(&u, &second, &[]).await.unwrap(),
        WriteOutcome::Done
    );
    assert_eq!(
        store.confirm_email(&first.hash, NOW).await.unwrap(),
        Confirmation::NotFound
    );
    assert_eq!(
        store.confirm_email(&second.hash, NOW).await.unwrap(),
        Confirmation::Confirmed
    );
    let (_, third) = token(TokenPurpose::Confirm, "sue", NOW + 100);
    let third = TokenRecord { epoch: 2, ..third };
    let now = store.get_user(&name("sue")).await.unwrap().unwrap();
    assert_eq!(
        store.resend_confirmation(&now, &third, &[]).await.unwrap(),
        WriteOutcome::Stale,
        "already confirmed"
    );
}

pub(super) async fn deleting_an_account_leaves_nothing_of_it(store: Store) {
    let u = confirmed(&store, "tim").await;
    let other = confirmed(&store, "una").await;
    store
        .create_session(&session("tim", "s2", NOW + 100), None)
        .await
        .unwrap();
    let (_, reset) = token(TokenPurpose::Reset, "tim", NOW + 100);
    assert_eq!(
        store
            .put_token(&reset, &[cap("reset#tim", 0, 1)])
            .await
            .unwrap(),
        WriteOutcome::Done
    );
    assert!(fail(&store, "tim", NOW, NOW + 100).await);
    let data = store.account_data(&name("tim")).await.unwrap().unwrap();
    assert_eq!(data.sessions.len(), 2);
    assert_eq!(
        data.tokens.len(),
        1,
        "the reset link (the confirmation was used)"
    );

    store
        .delete_account(&data, &SessionId::from_stored("s1".into()))
        .await
        .unwrap();

    assert!(store.account_data(&name("tim")).await.unwrap().is_none());
    assert!(store.get_user(&name("tim")).await.unwrap().is_none());
    let address = EmailAddress::parse("tim@x.io").unwrap();
    assert_eq!(store.address_holder(&address).await.unwrap(), None);
    assert!(
        store
            .get_token(&reset.hash, TokenPurpose::Reset, NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .login_state(&name("tim"), None, NOW)
            .await
            .unwrap()
            .failures
            .count,
        0
    );
    assert!(
        store.hit(&cap("reset#tim", 0, 1)).await.unwrap(),
        "the per-user counter went with the account"
    );
    // The other account is untouched.
    assert_eq!(store.get_user(&name("una")).await.unwrap(), Some(other));
    let theirs = EmailAddress::parse("una@x.io").unwrap();
    assert_eq!(
        store.address_holder(&theirs).await.unwrap(),
        Some(name("una"))
    );
    assert!(u.is_email_verified);
}
