//! What the takeover issue asks of the stores: device failure runs apart
//! from the username's, password re-entries counted on the session, the
//! revert as a recovery, and two races the stores once disagreed on
//! (`logout_all` against a login, a deletion against a revert), played out
//! step by step as they interleave.

use shared::domain::activity::ActivityKind;
use shared::domain::{DeviceId, DeviceKey, EmailAddress, LoginFailures};
use shared::ports::{
    Confirmation, FailureRun, PendingEmail, SessionRecord, TokenPurpose, WriteOutcome,
};

use super::{NOW, Store, confirmed, fresh_sid, name, revert, session, sid, token};

/// A device id, as a verified device token names it.
fn device(n: u8) -> DeviceId {
    let key = DeviceKey::new(&"contract-device-key-contract-device-key".to_owned().into()).unwrap();
    let account = shared::domain::AccountId::from_stored(format!("account-{n}"));
    let token = key.issue(&account, 0, NOW).unwrap();
    key.verify(&token, NOW).unwrap().id
}

/// A change of `before`'s address to `to`, confirmed; the revert link.
async fn changed_and_confirmed(
    store: &Store,
    before: &shared::ports::UserRecord,
    to: &str,
) -> shared::ports::TokenRecord {
    let key = before.username.key().to_owned();
    let new = EmailAddress::parse(to).unwrap();
    let (_, change) = token(TokenPurpose::ChangeEmail, &key, NOW + 100);
    let change = shared::ports::TokenRecord {
        email: new.clone(),
        ..change
    };
    let (_, link) = token(TokenPurpose::RevertEmail, &key, NOW + 1000);
    let link = shared::ports::TokenRecord {
        epoch: before.email_changes + 1,
        email: before.email.clone(),
        ..link
    };
    let pending = PendingEmail {
        email: new,
        expires_at: NOW + 100,
    };
    assert_eq!(
        store
            .request_email_change(before, &pending, &change, Some(&link), &[])
            .await
            .unwrap(),
        WriteOutcome::Done
    );
    assert_eq!(
        store.confirm_email(&change.hash, NOW).await.unwrap(),
        Confirmation::Confirmed
    );
    link
}

pub(super) async fn a_devices_failures_are_its_own(store: Store) {
    let (phone, laptop) = (device(1), device(2));
    let run = FailureRun::Device(phone.clone());
    assert!(
        store
            .claim_login_attempt(&run, LoginFailures::default(), NOW, NOW + 100, &fresh_sid())
            .await
            .unwrap()
    );

    let state = store
        .login_state(&name("ada"), Some(&phone), NOW)
        .await
        .unwrap();
    let other = store
        .login_state(&name("ada"), Some(&laptop), NOW)
        .await
        .unwrap();

    assert_eq!(state.device_failures.count, 1);
    assert_eq!(state.failures.count, 0, "the username's run is untouched");
    assert_eq!(other.device_failures.count, 0);
    // A success with the device ends its run only.
    super::fail(&store, "ada", NOW, NOW + 100).await;
    confirmed(&store, "ada").await;
    let s = session("ada", "s2", NOW + 100);
    assert!(store.create_session(&s, Some(&run)).await.unwrap());
    let after = store
        .login_state(&name("ada"), Some(&phone), NOW)
        .await
        .unwrap();
    assert_eq!((after.device_failures.count, after.failures.count), (0, 1));
}

pub(super) async fn password_reentries_are_counted_on_the_session(store: Store) {
    confirmed(&store, "bea").await;
    let (user, seen) = store
        .session_user_and_failures(&name("bea"), &sid("s1"), NOW)
        .await
        .unwrap();
    assert!(user.is_some());
    assert_eq!(seen, 0);

    let first = store
        .claim_password_attempt(&name("bea"), &sid("s1"), 0, NOW)
        .await
        .unwrap();
    let rival = store
        .claim_password_attempt(&name("bea"), &sid("s1"), 0, NOW)
        .await
        .unwrap();
    let gone = store
        .claim_password_attempt(&name("bea"), &sid("nope"), 0, NOW)
        .await
        .unwrap();

    assert!(first && !rival && !gone);
    let (_, seen) = store
        .session_user_and_failures(&name("bea"), &sid("s1"), NOW)
        .await
        .unwrap();
    assert_eq!(seen, 1);
    store
        .clear_password_failures(&name("bea"), &sid("s1"))
        .await
        .unwrap();
    let (_, seen) = store
        .session_user_and_failures(&name("bea"), &sid("s1"), NOW)
        .await
        .unwrap();
    assert_eq!(seen, 0);
    // Clearing never brings an ended session back.
    assert!(
        store
            .delete_session(&name("bea"), &sid("s1"), NOW, ActivityKind::SignOut)
            .await
            .unwrap()
    );
    store
        .clear_password_failures(&name("bea"), &sid("s1"))
        .await
        .unwrap();
    assert!(
        store
            .account_data(&name("bea"))
            .await
            .unwrap()
            .unwrap()
            .sessions
            .is_empty()
    );
}

pub(super) async fn a_revert_disables_the_password_and_leaves_one_reset_link(store: Store) {
    let before = confirmed(&store, "cai").await;
    let link = changed_and_confirmed(&store, &before, "cai@new.io").await;
    let moved = store.get_user(&name("cai")).await.unwrap().unwrap();

    let (outcome, reset) = revert(&store, &link, NOW).await;

    assert_eq!(outcome, Confirmation::Confirmed);
    let back = store.get_user(&name("cai")).await.unwrap().unwrap();
    assert_eq!(back.email.as_str(), "cai@x.io");
    assert!(back.password_phc().is_none(), "the password stops working");
    assert_eq!(back.reset_epoch, moved.reset_epoch + 1);
    assert_eq!(back.device_epoch, moved.device_epoch + 1);
    assert!(back.confirm_epoch > moved.confirm_epoch);
    let stored = store
        .get_token(&reset.hash, TokenPurpose::Reset, NOW)
        .await
        .unwrap()
        .expect("the reset link is stored with the revert");
    let done = store.reset_password(&stored, "h-new", NOW).await.unwrap();
    assert_eq!(done.map(|u| u.password_hash), Some("h-new".to_owned()));
}

pub(super) async fn a_login_racing_logout_all_leaves_no_live_session(store: Store) {
    let before = confirmed(&store, "dan").await;
    // The login read the account (its epoch), then logout_all ran, then
    // the login writes its session.
    let late = SessionRecord {
        reset_epoch: before.reset_epoch,
        session_epoch: before.session_epoch,
        ..session("dan", "late", NOW + 100)
    };

    assert!(store.end_all_sessions(&before).await.unwrap());
    store.create_session(&late, None).await.unwrap();

    for s in ["s1", "late"] {
        assert!(
            store
                .session_user(&name("dan"), &sid(s), NOW)
                .await
                .unwrap()
                .is_none(),
            "{s} is live after logout_all"
        );
    }
    // A login after it works.
    let fresh = store.get_user(&name("dan")).await.unwrap().unwrap();
    let now_session = SessionRecord {
        reset_epoch: fresh.reset_epoch,
        session_epoch: fresh.session_epoch,
        ..session("dan", "new", NOW + 100)
    };
    store.create_session(&now_session, None).await.unwrap();
    assert!(
        store
            .session_user(&name("dan"), &sid("new"), NOW)
            .await
            .unwrap()
            .is_some()
    );
}

pub(super) async fn a_deletion_racing_a_revert_leaves_nothing_of_the_account(store: Store) {
    let before = confirmed(&store, "eve").await;
    let link = changed_and_confirmed(&store, &before, "eve@new.io").await;
    // The deletion read the account, then the revert ran, then the deletion.
    let read = store.account_data(&name("eve")).await.unwrap().unwrap();

    let (outcome, reset) = revert(&store, &link, NOW).await;
    assert_eq!(outcome, Confirmation::Confirmed);
    store.delete_account(&read, &sid("s1")).await.unwrap();

    assert!(
        store
            .get_token(&reset.hash, TokenPurpose::Reset, NOW)
            .await
            .unwrap()
            .is_none(),
        "the revert's reset link went with the account"
    );
    assert!(store.get_user(&name("eve")).await.unwrap().is_none());
    for address in ["eve@x.io", "eve@new.io"] {
        assert_eq!(
            store
                .address_holder(&EmailAddress::parse(address).unwrap())
                .await
                .unwrap(),
            None,
            "{address} is still claimed"
        );
    }
    assert!(store.account_data(&name("eve")).await.unwrap().is_none());
    // The address can be confirmed by a new account.
    confirmed(&store, "eve").await;
}

pub(super) async fn signing_out_everywhere_leaves_links_alone(store: Store) {
    let before = confirmed(&store, "fay").await;
    let (_, reset) = token(TokenPurpose::Reset, "fay", NOW + 100);
    assert_eq!(
        store.put_token(&reset, &[]).await.unwrap(),
        WriteOutcome::Done
    );

    assert!(store.end_all_sessions(&before).await.unwrap());

    let after = store.get_user(&name("fay")).await.unwrap().unwrap();
    assert_eq!(after.reset_epoch, before.reset_epoch);
    assert_eq!(after.device_epoch, before.device_epoch);
    assert!(
        store
            .reset_password(&reset, "h-new", NOW)
            .await
            .unwrap()
            .is_some(),
        "the reset link still works"
    );
}

pub(super) async fn nothing_is_written_for_a_deleted_account(store: Store) {
    let before = confirmed(&store, "gil").await;
    let data = store.account_data(&name("gil")).await.unwrap().unwrap();
    store.delete_account(&data, &sid("s1")).await.unwrap();
    let (_, late) = token(TokenPurpose::Reset, "gil", NOW + 100);

    // Each of these read the account before the deletion, and writes after.
    assert_eq!(
        store.put_token(&late, &[]).await.unwrap(),
        WriteOutcome::Stale
    );
    assert_eq!(
        store
            .hit_for_account(&super::cap("notice#gil", 0, 5), &before)
            .await
            .unwrap(),
        WriteOutcome::Stale
    );
    assert!(
        !store
            .create_session(&session("gil", "late", NOW + 100), None)
            .await
            .unwrap()
    );
    assert!(store.update_profile(&before).await.unwrap().is_none());
    assert!(!store.end_all_sessions(&before).await.unwrap());
    assert!(
        store
            .get_token(&late.hash, TokenPurpose::Reset, NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.account_data(&name("gil")).await.unwrap().is_none());
}
