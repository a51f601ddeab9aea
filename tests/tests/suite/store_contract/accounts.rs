//! Accounts: registration is all or nothing, can be undone, and its
//! confirmation token is single use, expires, and has a purpose.

use shared::domain::{AccountId, TokenHash};
use shared::ports::{CreateUserError, TokenPurpose};

use super::{NOW, Store, name, session, sid, token, user};

pub(super) async fn create_user_is_all_or_nothing(store: Store) {
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

pub(super) async fn undoing_a_registration_frees_name_and_email(store: Store) {
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

pub(super) async fn confirmation_tokens_are_single_use_and_expire(store: Store) {
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

pub(super) async fn tokens_have_a_purpose(store: Store) {
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

pub(super) async fn tokens_and_sessions_never_outlive_their_account(store: Store) {
    // An account with a session and a second confirmation link, then removed.
    let (_, first) = token(TokenPurpose::Confirm, "nia", NOW + 100);
    let old = user("nia", "nia@x.io");
    store.create_user(&old, &first).await.unwrap();
    assert!(
        store
            .create_session(&session("nia", "old", NOW + 100), false)
            .await
            .unwrap()
    );
    let (_, second) = token(TokenPurpose::Confirm, "nia", NOW + 100);
    assert!(store.put_token(&second, None).await.unwrap());
    store.delete_unverified_user(&old, &first).await.unwrap();

    // Its leftovers are refused while no account has the name...
    assert!(!store.confirm_email(&second.hash, NOW).await.unwrap());
    assert!(
        !store
            .create_session(&session("nia", "late", NOW + 100), false)
            .await
            .unwrap(),
        "no session is written for an account that is gone"
    );

    // ...and once a new account takes the name, they still do not act on it.
    let mut new = user("nia", "nia2@x.io");
    new.account_id = AccountId::from_stored("a-later-account".into());
    let (_, fresh) = token(TokenPurpose::Confirm, "nia", NOW + 100);
    store.create_user(&new, &fresh).await.unwrap();
    assert!(
        !store.confirm_email(&second.hash, NOW).await.unwrap(),
        "an old link does not confirm the new account"
    );
    assert!(
        store
            .session_user(&name("nia"), &sid("old"), NOW)
            .await
            .unwrap()
            .is_none(),
        "an old session does not authenticate the new account"
    );
    assert!(
        !store
            .get_user(&name("nia"))
            .await
            .unwrap()
            .unwrap()
            .is_email_verified
    );
}

pub(super) async fn a_token_whose_account_is_gone_is_refused_and_kept(store: Store) {
    let (_, first) = token(TokenPurpose::Confirm, "oli", NOW + 100);
    let u = user("oli", "oli@x.io");
    store.create_user(&u, &first).await.unwrap();
    let (_, second) = token(TokenPurpose::Confirm, "oli", NOW + 100);
    assert!(store.put_token(&second, None).await.unwrap());
    store.delete_unverified_user(&u, &first).await.unwrap();

    assert!(!store.confirm_email(&second.hash, NOW).await.unwrap());

    // Not consumed (DynamoDB's transaction leaves it): it is still there to read.
    assert!(
        store
            .get_token(&second.hash, TokenPurpose::Confirm, NOW)
            .await
            .unwrap()
            .is_some()
    );
}

pub(super) async fn undoing_a_registration_leaves_another_accounts_address_guard(store: Store) {
    // bob owns the guard of shared@x.io; carl's record names that address.
    let (_, tb) = token(TokenPurpose::Confirm, "bob", NOW + 100);
    store
        .create_user(&user("bob", "shared@x.io"), &tb)
        .await
        .unwrap();
    let (_, tc) = token(TokenPurpose::Confirm, "carl", NOW + 100);
    store
        .create_user(&user("carl", "carl@x.io"), &tc)
        .await
        .unwrap();
    let carl_with_bobs_address = user("carl", "shared@x.io");

    store
        .delete_unverified_user(&carl_with_bobs_address, &tc)
        .await
        .unwrap();

    assert!(
        store.get_user(&name("carl")).await.unwrap().is_none(),
        "the account is undone"
    );
    let (_, td) = token(TokenPurpose::Confirm, "dora", NOW + 100);
    assert!(
        matches!(
            store.create_user(&user("dora", "shared@x.io"), &td).await,
            Err(CreateUserError::EmailTaken)
        ),
        "bob's address is still his"
    );
}
