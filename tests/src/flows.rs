//! The harness's account flows: registering, signing in, resets, changes
//! of address, and reading back the mail they sent.

use serde_json::{Value, json};
use shared::domain::hashing::hash_password;
use shared::domain::{AccountId, EmailAddress, OneTimeToken, Password, Username};
use shared::ports::{Clock, Confirmation, TokenPurpose, TokenRecord, UserRecord};
use tokio::sync::OnceCell;

use crate::{PASSWORD, Resp, TestApp, links};

impl TestApp {
    /// `POST /api/registration` with the given fields.
    pub async fn register_body(&self, body: &Value) -> Resp {
        self.post("/api/registration", body).await
    }

    /// `POST /api/registration` with a full name and no phone or contacts.
    pub async fn register(&self, username: &str, email: &str, pwd: &str) -> Resp {
        self.register_body(&json!({
            "username": username,
            "full_name": "Test User",
            "email": email,
            "phone": null,
            "contacts": null,
            "pwd": pwd,
        }))
        .await
    }

    /// A confirmed account with password [`PASSWORD`], written straight into
    /// the store: for tests where registration is not what is tested (no
    /// request, no email, one argon2 hash per test process).
    pub async fn given_user(&self, username: &str, email: &str) {
        self.stored_user(username, email, true).await;
    }

    /// An account with password [`PASSWORD`] written straight into the
    /// store, as a registration's write would leave it (`verified: false`)
    /// or confirmed.
    pub async fn stored_user(&self, username: &str, email: &str, verified: bool) {
        static HASH: OnceCell<String> = OnceCell::const_new();
        let username = Username::parse(username).unwrap();
        let password_hash = HASH
            .get_or_init(|| async {
                let pwd = Password::parse(PASSWORD, &username).unwrap();
                hash_password(pwd.secret().clone()).await.unwrap()
            })
            .await
            .clone();
        let now = self.clock.now();
        let account_id = AccountId::generate().unwrap();
        let user = UserRecord::new(
            username.clone(),
            account_id.clone(),
            "Test User".into(),
            EmailAddress::parse(email).unwrap(),
            password_hash,
            now,
        );
        // The store writes an account with its confirmation token; nobody
        // has this one but us, and a confirmed account used it (which is
        // what claims the address).
        let token = TokenRecord {
            hash: OneTimeToken::generate().unwrap().hash(),
            purpose: TokenPurpose::Confirm,
            username,
            account_id,
            email: user.email.clone(),
            expires_at: now + 1,
            epoch: 0,
        };
        self.app.store.create_user(&user, &token).await.unwrap();
        if verified {
            let confirmed = self
                .app
                .store
                .confirm_email(&token.hash, now)
                .await
                .unwrap();
            assert_eq!(confirmed, Confirmation::Confirmed, "{email} is taken");
        }
    }

    /// Registers and confirms through the emailed link.
    pub async fn register_confirmed(&self, username: &str, email: &str) {
        self.register(username, email, PASSWORD)
            .await
            .expect(200, "Check your email...");
        let link = self.link_to(email, "/api/confirm_email/").await;
        self.get(&self.path_of(&link))
            .await
            .expect(200, "Your email has been confirmed.");
    }

    /// `POST /api/login`.
    pub async fn login(&self, username: &str, pwd: &str, remember: bool) -> Resp {
        self.post(
            "/api/login",
            &json!({ "username": username, "pwd": pwd, "remember": remember }),
        )
        .await
    }

    /// Logs in and returns the JWT.
    pub async fn token(&self, username: &str, pwd: &str) -> String {
        let resp = self.login(username, pwd, false).await;
        resp.expect(200, "success");
        resp.token()
    }

    /// `POST /api/reset_password_request`.
    pub async fn request_reset(&self, username: &str) -> Resp {
        self.post(
            "/api/reset_password_request",
            &json!({ "username": username }),
        )
        .await
    }

    /// `POST /api/change_email` with [`PASSWORD`].
    pub async fn change_email(&self, token: &str, new_email: &str) -> Resp {
        self.post_bearer(
            "/api/change_email",
            token,
            &json!({ "pwd": PASSWORD, "new_email": new_email }),
        )
        .await
    }

    /// `POST /api/reset_password/{token}`.
    pub async fn reset_password(&self, token: &str, new_pwd: &str) -> Resp {
        self.post(
            &format!("/api/reset_password/{token}"),
            &json!({ "new_pwd": new_pwd }),
        )
        .await
    }

    /// Every raw message sent to `address`, oldest first.
    pub async fn emails_to(&self, address: &str) -> Vec<String> {
        let to = format!("To: {address}");
        self.all_emails()
            .await
            .into_iter()
            .filter(|raw| raw.lines().any(|l| l.eq_ignore_ascii_case(&to)))
            .collect()
    }

    /// Every message this app sent, oldest first.
    pub async fn all_emails(&self) -> Vec<String> {
        self.mail.messages().await
    }

    /// The first link containing `marker` in the latest message to `address`.
    pub async fn link_to(&self, address: &str, marker: &str) -> String {
        // Emails link to the pages (`/confirm_email/<token>`); a page's
        // button calls the API with the same token. Asked for an API marker,
        // this finds the page link and answers the API link it leads to.
        let (page_marker, api) = match marker.strip_prefix("/api") {
            Some(page) => (page, true),
            None => (marker, false),
        };
        let mails = self.emails_to(address).await;
        let latest = mails
            .last()
            .unwrap_or_else(|| panic!("no email to {address}"));
        let link = links(latest)
            .into_iter()
            .find(|l| l.contains(page_marker))
            .unwrap_or_else(|| panic!("no link with {page_marker} in {latest}"));
        if !api {
            return link;
        }
        let token = self
            .path_of(&link)
            .strip_prefix(page_marker)
            .unwrap_or_else(|| panic!("{link} is not the {page_marker} page"))
            .to_owned();
        format!("{}{marker}{token}", self.base)
    }

    /// The token at the end of the latest reset link sent to `address`.
    pub async fn reset_token_for(&self, address: &str) -> String {
        let link = self.link_to(address, "/reset_password/").await;
        link.rsplit('/').next().unwrap().to_owned()
    }

    /// The path part of a link to this server.
    #[track_caller]
    pub fn path_of(&self, link: &str) -> String {
        link.strip_prefix(&self.base)
            .unwrap_or_else(|| panic!("{link} is not under {}", self.base))
            .to_owned()
    }
}
