//! `POST /api/registration`: creates an unverified account and emails a confirmation link.
//!
//! An address is only claimed when its owner confirms it, so registration
//! never asks whether an address is taken: every free username gets an
//! account. When another account has already confirmed the address, that
//! address gets a notice instead of a link, and the client sees exactly what
//! a new registration sees, then and afterwards (login, a repeated
//! registration): nothing leaks, and an unconfirmed account holds no address.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::domain::hashing::{hash_password, verify_password};
use shared::domain::messages;
use shared::domain::{
    AccountId, Contacts, EmailAddress, FullName, OneTimeToken, Password, Phone, SessionId, Username,
};
use shared::http::limits::{
    IpAction, address_mail_cap, check_lockout, limit_client_mail, limit_ip, send_within_address_cap,
};
use shared::http::{JsonBody, own_base_url, respond};
use shared::ports::{
    ADDRESS_CAP_REACHED, CreateUserError, FailureRun, TokenPurpose, TokenRecord, UserRecord,
    WriteOutcome,
};
use shared::{ApiError, App, Reply};

const CHECK_EMAIL: &str = "Check your email...";

/// How long a registration retried with the same address and password is
/// taken for the same request (its first answer lost after the write).
const RETRY_WINDOW_SECS: i64 = 300;

/// Handles `POST /api/registration`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(register(&app, &req).await)
}

fn field_error(field: &str, err: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("{field} {err}"))
}

/// A registration as the rules accept it: past this point every field is valid.
struct Registration {
    username: Username,
    full_name: FullName,
    email: EmailAddress,
    phone: Option<Phone>,
    contacts: Option<Contacts>,
    pwd: Password,
}

impl TryFrom<JsonBody> for Registration {
    type Error = ApiError;

    /// The first bad field, in the contract's order, gets its 400.
    fn try_from(body: JsonBody) -> Result<Self, ApiError> {
        let username = Username::parse(body.str("username")?)
            .map_err(|_| ApiError::bad_request("username is not allowed."))?;
        let full_name =
            FullName::parse(body.str("full_name")?).map_err(|e| field_error("full_name", e))?;
        let email = EmailAddress::parse(body.str("email")?).map_err(|e| field_error("email", e))?;
        let phone = body
            .opt_str("phone")?
            .map(Phone::parse)
            .transpose()
            .map_err(|e| field_error("phone", e))?;
        let contacts = body
            .opt_str("contacts")?
            .map(Contacts::parse)
            .transpose()
            .map_err(|e| field_error("contacts", e))?;
        let pwd =
            Password::parse(body.str("pwd")?, &username).map_err(|e| field_error("pwd", e))?;
        Ok(Self {
            username,
            full_name,
            email,
            phone,
            contacts,
            pwd,
        })
    }
}

async fn register(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let body = JsonBody::parse(req)?;
    limit_ip(app, req, IpAction::Registration).await?;
    limit_client_mail(app, req).await?;
    let Registration {
        username,
        full_name,
        email,
        phone,
        contacts,
        pwd,
    } = Registration::try_from(body)?;

    // Hash before looking at uniqueness so every outcome costs the same.
    let password_hash = hash_password(pwd.secret().clone()).await?;
    let now = app.clock.now();
    let token = OneTimeToken::generate()?;
    let account_id = AccountId::generate()?;
    let user = UserRecord {
        phone: phone.map(Phone::into_inner),
        contacts: contacts.map(Contacts::into_inner),
        ..UserRecord::new(
            username.clone(),
            account_id.clone(),
            full_name.into_inner(),
            email.clone(),
            password_hash,
            now,
        )
    };
    let confirm = TokenRecord {
        hash: token.hash(),
        purpose: TokenPurpose::Confirm,
        username,
        account_id,
        email: email.clone(),
        expires_at: now + app.config.confirm_token_ttl_secs,
        epoch: 0,
    };

    // Every message is built before anything is written: a message that
    // cannot be built must not leave an account behind (a retry would 409).
    let link = app
        .config
        .links(own_base_url(req).as_deref())
        .confirm(token.expose())?;
    let confirmation = messages::confirmation(&app.config, user.email.as_str(), &link)?;
    let notice = messages::already_registered(&app.config, email.as_str())?;
    // Another account proved this mailbox first: its owner is told, and this
    // account's link is never sent (it could not claim the address anyway).
    let holder = app.store.address_holder_hint(&email).await?;
    let mail = if holder.is_some_and(|h| h != user.username) {
        notice
    } else {
        confirmation
    };
    let cap = address_mail_cap(app, &email, now);

    match app.store.create_user(&user, &confirm).await {
        Ok(()) => {
            // Past the cap the account is made and answered the same, but
            // nothing is sent: the address's owner is not flooded.
            if let Err(err) = send_within_address_cap(app, &cap, &mail).await {
                // Leave nothing behind that would block a retry.
                if let Err(undo) = app.store.delete_unverified_user(&user, &confirm).await {
                    tracing::error!(error = format!("{undo:#}"), "could not undo registration");
                }
                return Err(err);
            }
        }
        Err(CreateUserError::UsernameTaken) => {
            let taken = || ApiError::Conflict("username is already taken.");
            // A client retrying this very registration after a 5xx whose
            // write had in fact been applied (its answer lost, or its undo
            // failed) finds its own fresh, unconfirmed account: same address,
            // same password. It gets the answer it asked for and its mail.
            let run = FailureRun::Username(user.username.clone());
            let state = app.store.login_state(&user.username, None, now).await?;
            let candidate = state.user.filter(|e| {
                !e.is_email_verified
                    && e.email.as_str() == user.email.as_str()
                    && (0..=RETRY_WINDOW_SECS).contains(&(now - e.created_at))
            });
            // Every repeat of a taken username is a failed login attempt of
            // this client, whatever the address: under the username's
            // lockout, counted before one argon2 verification (against the
            // candidate's hash, or the dummy). Same time, same side effects
            // whether the address matches or not, so the lockout counter
            // cannot tell whether a guessed address is the account's.
            let attempt = SessionId::generate()?;
            let claimed = if check_lockout(app, state.failures, now).is_ok() {
                let forget_at = now + app.config.login_failure_ttl_secs;
                app.store
                    .claim_login_attempt(&run, state.failures, now, forget_at, &attempt)
                    .await?
            } else {
                false
            };
            let phc = candidate
                .as_ref()
                .filter(|_| claimed)
                .and_then(UserRecord::password_phc);
            let same_password = verify_password(pwd.secret().clone(), phc).await?;
            let (Some(existing), true) = (candidate, same_password) else {
                return Err(taken());
            };
            app.store.forget_login_failures(&run).await?;
            let resend = TokenRecord {
                account_id: existing.account_id,
                epoch: existing.confirm_epoch,
                ..confirm
            };
            match app.store.put_token(&resend, &[cap]).await? {
                WriteOutcome::Done => app.mailer.send(&mail).await?,
                // Past the address's budget: answered the same, nothing sent.
                WriteOutcome::Capped => app.mailer.not_sent(&mail, ADDRESS_CAP_REACHED),
                // Deleted since it was read: not this client's account.
                WriteOutcome::Stale => return Err(taken()),
            }
        }
        Err(CreateUserError::Store(err)) => return Err(err.into()),
    }
    Ok(Reply::msg(CHECK_EMAIL))
}
