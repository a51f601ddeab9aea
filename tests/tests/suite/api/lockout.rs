//! Nobody else can lock a user out (the takeover issue, item 3): device
//! tokens after OWASP's device cookies, and reset mail budgeted per client.
//! The attacker's requests come from 127.0.0.2, the owner's from 127.0.0.3:
//! the server sees two clients.

use serde_json::json;
use tests::{PASSWORD, TestApp};

const ATTACKER: &str = "127.0.0.2";
const OWNER: &str = "127.0.0.3";
const WRONG: &str = "Wr0ng-Passw0rd!";
const LOCKED: &str = "too many failed login attempts, try again later.";

fn device_token(resp: &tests::Resp) -> String {
    resp.body["data"]["device_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_login_answers_a_device_token_as_data_and_as_a_cookie() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;

    let login = app.login("alice", PASSWORD, false).await;

    login.expect(200, "success");
    let token = device_token(&login);
    let cookie = login.set_cookie("device_token");
    assert_eq!(login.cookie_value("device_token"), token);
    for part in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/api",
        "Max-Age=31536000",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    // Logout names the session, not the device: it leaves the cookie.
    let out = app.get_bearer("/api/logout", &login.token()).await;
    out.expect(200, "user logout");
    assert!(
        out.set_cookies()
            .iter()
            .all(|c| !c.starts_with("device_token=")),
        "{:?}",
        out.set_cookies()
    );
}

#[tokio::test]
async fn strangers_failed_logins_do_not_lock_out_a_device_that_signed_in_before() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let (attacker, owner) = (app.peer(ATTACKER), app.peer(OWNER));
    let device = device_token(&owner.login("alice", PASSWORD, None).await);

    for _ in 0..5 {
        attacker
            .login("alice", WRONG, None)
            .await
            .expect(401, "wrong username or password");
    }
    attacker
        .login("alice", PASSWORD, None)
        .await
        .expect(429, LOCKED);

    // The owner's device gets in, by cookie or by header; a new device
    // (no token) faces the lockout as the attacker does.
    owner
        .login("alice", PASSWORD, Some(&device))
        .await
        .expect(200, "success");
    owner
        .post_with(
            "/api/login",
            &json!({"username": "alice", "pwd": PASSWORD}),
            &[("x-device-token", &device)],
        )
        .await
        .expect(200, "success");
    owner
        .login("alice", PASSWORD, None)
        .await
        .expect(429, LOCKED);
    // The owner's success did not reset the attacker's lockout.
    attacker
        .login("alice", PASSWORD, None)
        .await
        .expect(429, LOCKED);
}

#[tokio::test]
async fn a_device_has_its_own_lockout_and_counts_for_its_account_only() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    app.stored_user("bob", "bob@example.com", true).await;
    let owner = app.peer(OWNER);
    let device = device_token(&owner.login("alice", PASSWORD, None).await);

    for _ in 0..5 {
        owner
            .login("alice", WRONG, Some(&device))
            .await
            .expect(401, "wrong username or password");
    }

    owner
        .login("alice", PASSWORD, Some(&device))
        .await
        .expect(429, LOCKED);
    // Those failures were the device's: a client without it is not locked.
    app.peer(ATTACKER)
        .login("alice", PASSWORD, None)
        .await
        .expect(200, "success");
    // Alice's device is nobody else's: for bob it is a client like any other.
    for _ in 0..5 {
        app.login("bob", WRONG, false).await;
    }
    owner
        .login("bob", PASSWORD, Some(&device))
        .await
        .expect(429, LOCKED);
    // A forged or foreign token is no token at all.
    let forged = format!("{}x", &device[..device.len() - 1]);
    owner
        .login("bob", PASSWORD, Some(&forged))
        .await
        .expect(429, LOCKED);
    let other = TestApp::options()
        .env("DEVICE_SECRET", "another-device-secret-another-device-s")
        .spawn()
        .await;
    other.given_user("alice", "alice@example.com").await;
    let elsewhere = device_token(&other.login("alice", PASSWORD, false).await);
    for _ in 0..5 {
        app.peer(ATTACKER).login("alice", WRONG, None).await;
    }
    owner
        .login("alice", PASSWORD, Some(&elsewhere))
        .await
        .expect(429, LOCKED);
}

#[tokio::test]
async fn a_device_token_is_not_held_to_the_per_ip_window() {
    let app = TestApp::options().env("IP_LIMIT_LOGIN", "2").spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let owner = app.peer(OWNER);
    let device = device_token(&owner.login("alice", PASSWORD, None).await);
    // The window keeps failed sign-ins (a success gives its count back):
    // two failures fill it.
    for _ in 0..2 {
        owner
            .login("alice", WRONG, None)
            .await
            .expect(401, "wrong username or password");
    }

    owner
        .login("alice", PASSWORD, None)
        .await
        .expect(429, "too many requests, try again later.");
    for _ in 0..3 {
        owner
            .login("alice", PASSWORD, Some(&device))
            .await
            .expect(200, "success");
    }
}

#[tokio::test]
async fn a_strangers_reset_requests_do_not_use_up_the_owners_reset_mail() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@example.com").await;
    let (attacker, owner) = (app.peer(ATTACKER), app.peer(OWNER));
    // The review's attack: ten junk registrations naming the owner's
    // address fill its budget, then three reset requests.
    for i in 0..10 {
        attacker
            .register(&format!("junk{i}"), "alice@example.com", PASSWORD)
            .await
            .expect(200, "Check your email...");
    }
    for _ in 0..3 {
        attacker
            .request_reset("alice")
            .await
            .expect(200, "Check your email...");
    }
    attacker
        .request_reset("alice")
        .await
        .expect(429, "too many reset emails for this user, try again later.");
    let before = app.emails_to("alice@example.com").await.len();

    owner
        .request_reset("alice")
        .await
        .expect(200, "Check your email...");

    assert_eq!(app.emails_to("alice@example.com").await.len(), before + 1);
    let reset = app.reset_token_for("alice@example.com").await;
    app.reset_password(&reset, "Own3r-Passw0rd!x")
        .await
        .expect(200, "Your password has been reset.");
    owner
        .login("alice", "Own3r-Passw0rd!x", None)
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn reset_mail_has_a_ceiling_per_user_over_all_clients() {
    let app = TestApp::options()
        .env("RESET_EMAIL_USER_CEILING", "4")
        .spawn()
        .await;
    app.given_user("alice", "alice@example.com").await;
    for ip in ["127.0.0.4", "127.0.0.5"] {
        for _ in 0..2 {
            app.peer(ip)
                .request_reset("alice")
                .await
                .expect(200, "Check your email...");
        }
    }

    app.peer(OWNER)
        .request_reset("alice")
        .await
        .expect(429, "too many reset emails for this user, try again later.");
    assert_eq!(app.emails_to("alice@example.com").await.len(), 4);
}

#[tokio::test]
async fn a_reset_untrusts_every_device_but_the_one_that_made_it() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@example.com").await;
    let (attacker, owner) = (app.peer(ATTACKER), app.peer(OWNER));
    // The intruder signed in while they knew the password.
    let intruders = device_token(&attacker.login("alice", PASSWORD, None).await);
    owner
        .request_reset("alice")
        .await
        .expect(200, "Check your email...");
    let reset = app.reset_token_for("alice@example.com").await;

    let done = app.reset_password(&reset, "Own3r-Passw0rd!x").await;

    done.expect(200, "Your password has been reset.");
    let owners = device_token(&done);
    assert_eq!(done.cookie_value("device_token"), owners);
    for _ in 0..5 {
        attacker.login("alice", WRONG, None).await;
    }
    attacker
        .login("alice", "Own3r-Passw0rd!x", Some(&intruders))
        .await
        .expect(429, LOCKED);
    owner
        .login("alice", "Own3r-Passw0rd!x", Some(&owners))
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn a_password_change_untrusts_every_other_device() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let (attacker, owner) = (app.peer(ATTACKER), app.peer(OWNER));
    let intruders = device_token(&attacker.login("alice", PASSWORD, None).await);
    let login = owner.login("alice", PASSWORD, None).await;

    let changed = app
        .post_bearer(
            "/api/change_password",
            &login.token(),
            &json!({"pwd": PASSWORD, "new_pwd": "Own3r-Passw0rd!x"}),
        )
        .await;

    changed.expect(200, "Your password has been changed.");
    let owners = device_token(&changed);
    for _ in 0..5 {
        attacker.login("alice", WRONG, None).await;
    }
    attacker
        .login("alice", "Own3r-Passw0rd!x", Some(&intruders))
        .await
        .expect(429, LOCKED);
    owner
        .login("alice", "Own3r-Passw0rd!x", Some(&owners))
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn sign_out_everywhere_leaves_a_reset_link_working() {
    // A stranger holding a session must not be able to stop the owner's
    // recovery by signing everyone out over and over.
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    app.request_reset("alice")
        .await
        .expect(200, "Check your email...");
    let reset = app.reset_token_for("alice@example.com").await;
    for _ in 0..3 {
        let intruder = app.token("alice", PASSWORD).await;
        app.post_bearer("/api/logout_all", &intruder, &json!({}))
            .await
            .expect(200, "user logout");
    }

    app.reset_password(&reset, "Own3r-Passw0rd!x")
        .await
        .expect(200, "Your password has been reset.");
}
