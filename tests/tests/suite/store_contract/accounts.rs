//! Accounts: registration is all or nothing, can be undone, and its
//! confirmation token is single use, expires, and has a purpose.

use shared::domain::{AccountId, EmailAddress, TokenHash};
use shared::ports::{Confirmation, CreateUserError, TokenPurpose, TokenRecord, WriteOutcome};

use super::{NOW, Store, name, session, sid, token, user};

pub(super) async fn create_user_is_all_or_nothing(store: Store) {
    let (_, t1) = token(TokenPurpose::Confirm, "admin", NOW + 100);
    store
        .create_user(&user("Admin", "admin@x.io"), &t1)
        .await
        .unwrap();

    let (_, t2) = token(TokenPurpose::Confirm, "admin", NOW + 100);
    let same_name = store.create_user(&user("ADMIN", "other@x.io"), &t2).await;

    assert!(matches!(same_name, Err(CreateUserError::UsernameTaken)));
    // Nothing of the failed attempt was written: its token is not there.
    assert!(
        store
            .get_token(&t2.hash, TokenPurpose::Confirm, NOW)
            .await
            .unwrap()
            .is_none()
    );
    // An unconfirmed address is nobody's: another account may name it.
    let (_, t3) = token(TokenPurpose::Confirm, "bob", NOW + 100);
    store
        .create_user(&user("bob", "ADMIN@X.IO"), &t3)
        .await
        .unwrap();
    let stored = store.get_user(&name("admin")).await.unwrap().unwrap();
    assert_eq!(stored, user("Admin", "admin@x.io"));
    assert!(
        store
            .address_holder(&EmailAddress::parse("admin@x.io").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

pub(super) async fn an_address_belongs_to_the_first_account_that_confirms_it(store: Store) {
    // bob and carl both name shared@x.io; neither has confirmed it.
    let shared = EmailAddress::parse("Shared@X.io").unwrap();
    let (_, tb) = token(TokenPurpose::Confirm, "bob", NOW + 100);
    let tb = TokenRecord {
        email: shared.clone(),
        ..tb
    };
    store
        .create_user(&user("bob", "Shared@X.io"), &tb)
        .await
        .unwrap();
    let (_, tc) = token(TokenPurpose::Confirm, "carl", NOW + 100);
    let tc = TokenRecord {
        email: shared.clone(),
        ..tc
    };
    store
        .create_user(&user("carl", "Shared@X.io"), &tc)
        .await
        .unwrap();

    let bob = store.confirm_email(&tb.hash, NOW).await.unwrap();
    let carl = store.confirm_email(&tc.hash, NOW).await.unwrap();

    assert_eq!(bob, Confirmation::Confirmed);
    assert_eq!(carl, Confirmation::AddressTaken);
    let holder = store
        .address_holder(&EmailAddress::parse("shared@x.io").unwrap())
        .await
        .unwrap();
    assert_eq!(holder, Some(name("bob")));
    let carl = store.get_user(&name("carl")).await.unwrap().unwrap();
    assert!(!carl.is_email_verified, "carl's account is not verified");
    assert!(
        store
            .get_token(&tc.hash, TokenPurpose::Confirm, NOW)
            .await
            .unwrap()
            .is_some(),
        "carl's link is refused, not consumed"
    );
    // Undoing carl's registration leaves bob's address to bob.
    store.delete_unverified_user(&carl, &tc).await.unwrap();
    assert!(store.get_user(&name("carl")).await.unwrap().is_none());
    assert_eq!(
        store.address_holder(&shared).await.unwrap(),
        Some(name("bob"))
    );
    // A second link of bob's own still confirms (the address is already his).
    let (_, again) = token(TokenPurpose::Confirm, "bob", NOW + 100);
    let again = TokenRecord {
        email: shared.clone(),
        ..again
    };
    assert_eq!(
        store.put_token(&again, &[]).await.unwrap(),
        WriteOutcome::Done
    );
    assert_eq!(
        store.confirm_email(&again.hash, NOW).await.unwrap(),
        Confirmation::Confirmed
    );
}

pub(super) async fn a_link_proves_only_the_address_it_was_mailed_to(store: Store) {
    // The account's address is new@x.io; this link went to old@x.io.
    let (_, t) = token(TokenPurpose::Confirm, "pat", NOW + 100);
    store
        .create_user(&user("pat", "new@x.io"), &t)
        .await
        .unwrap();

    assert_eq!(
        store.confirm_email(&t.hash, NOW).await.unwrap(),
        Confirmation::NotFound
    );
    assert!(
        !store
            .get_user(&name("pat"))
            .await
            .unwrap()
            .unwrap()
            .is_email_verified
    );
    for address in ["new@x.io", "pat@x.io"] {
        let address = EmailAddress::parse(address).unwrap();
        assert!(store.address_holder(&address).await.unwrap().is_none());
    }
}

pub(super) async fn undoing_a_registration_frees_name_and_email(store: Store) {
    let u = user("dave", "dave@x.io");
    let (_, t) = token(TokenPurpose::Confirm, "dave", NOW + 100);
    store.create_user(&u, &t).await.unwrap();

    store.delete_unverified_user(&u, &t).await.unwrap();

    assert!(store.get_user(&name("dave")).await.unwrap().is_none());
    assert!(store.confirm_email(&t.hash, NOW).await.unwrap() == Confirmation::NotFound);
    let (_, t2) = token(TokenPurpose::Confirm, "dave", NOW + 100);
    store.create_user(&u, &t2).await.unwrap();
    // A confirmed account is never undone.
    assert!(store.confirm_email(&t2.hash, NOW).await.unwrap() == Confirmation::Confirmed);
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
    store.put_token(&late, &[]).await.unwrap();

    assert!(
        store.confirm_email(&late.hash, NOW + 100).await.unwrap() == Confirmation::NotFound,
        "expired"
    );
    assert!(store.confirm_email(&t.hash, NOW + 99).await.unwrap() == Confirmation::Confirmed);
    assert!(
        store.confirm_email(&t.hash, NOW + 99).await.unwrap() == Confirmation::NotFound,
        "used"
    );
    assert!(
        store
            .confirm_email(&TokenHash::from_link(&"A".repeat(43)).unwrap(), NOW)
            .await
            .unwrap()
            == Confirmation::NotFound
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
    store.put_token(&reset, &[]).await.unwrap();

    assert!(
        store
            .get_token(&confirm.hash, TokenPurpose::Reset, NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.confirm_email(&reset.hash, NOW).await.unwrap() == Confirmation::NotFound);
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
            .create_session(&session("nia", "old", NOW + 100), None)
            .await
            .unwrap()
    );
    let (_, second) = token(TokenPurpose::Confirm, "nia", NOW + 100);
    assert_eq!(
        store.put_token(&second, &[]).await.unwrap(),
        WriteOutcome::Done
    );
    store.delete_unverified_user(&old, &first).await.unwrap();

    // Its leftovers are refused while no account has the name...
    assert!(store.confirm_email(&second.hash, NOW).await.unwrap() == Confirmation::NotFound);
    assert!(
        !store
            .create_session(&session("nia", "late", NOW + 100), None)
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
        store.confirm_email(&second.hash, NOW).await.unwrap() == Confirmation::NotFound,
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
    assert_eq!(
        store.put_token(&second, &[]).await.unwrap(),
        WriteOutcome::Done
    );
    store.delete_unverified_user(&u, &first).await.unwrap();

    assert!(store.confirm_email(&second.hash, NOW).await.unwrap() == Confirmation::NotFound);

    // Not consumed (DynamoDB's transaction leaves it): it is still there to read.
    assert!(
        store
            .get_token(&second.hash, TokenPurpose::Confirm, NOW)
            .await
            .unwrap()
            .is_some()
    );
}
