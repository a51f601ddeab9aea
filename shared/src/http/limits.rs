//! Abuse limits applied to a request: per-IP windows, the login lockout,
//! the caps on reset emails and registration notices (rules in
//! [`crate::domain::limits`], counters in the store).

use lambda_http::Request;

use crate::domain::{
    Email, EmailAddress, LoginFailures, ORIGIN_VERIFY_HEADER, RateCap, Username, client_key,
    fixed_window, lockout_secs,
};
use crate::error::ApiError;
use crate::http::client_address;
use crate::ports::{ADDRESS_CAP_REACHED, App, UserRecord, WriteOutcome};

/// The actions limited per client IP.
#[derive(Debug, Clone, Copy)]
pub enum IpAction {
    /// `POST /api/login`
    Login,
    /// `POST /api/registration`
    Registration,
    /// `POST /api/reset_password_request`
    ResetRequest,
    /// `POST /api/passkey_login/start`: a window of its own (the login
    /// limit's size), so that sign-in pages offering passkeys do not fill
    /// the window of failed sign-ins.
    PasskeyStart,
}

const TOO_MANY: &str = "too many requests, try again later.";
/// The 429 of a per-user mail budget (resent links, changes, notices).
pub const TOO_MANY_EMAILS: &str = "too many emails, try again later.";
/// The 429 of the reset-mail budgets.
pub const TOO_MANY_RESETS: &str = "too many reset emails for this user, try again later.";

/// The key the request's client is counted under (its IP; /64 for IPv6):
/// API Gateway's source IP, or behind edge protection CloudFront's viewer
/// address. Behind edge protection a request without the secret origin
/// header did not come through CloudFront (it called the origin's name
/// directly, around the web ACL): 403, so that the web ACL's per-IP rule
/// cannot be bypassed on the routes counted per client.
pub fn client_of(app: &App, req: &Request) -> Result<String, ApiError> {
    from_the_edge(app, req)?;
    Ok(client_address(app.edge_origin(), req)
        .map(|ip| client_key(&ip))
        .unwrap_or_else(|| "unknown".to_owned()))
}

/// Behind edge protection (the function holds the origin secret), 403 for
/// a request without the secret origin header: it did not come through
/// CloudFront and its web ACL. The Lambda wrapper checks it first thing for
/// every request of such a function (whatever `IP_LIMITS` says, device token
/// or not), the per-client limits again.
pub fn from_the_edge(app: &App, req: &Request) -> Result<(), ApiError> {
    from_the_edge_headers(app, req.headers())
}

/// [`from_the_edge`] on a request's headers (the dev server checks them
/// before it builds the handler's request).
pub fn from_the_edge_headers(
    app: &App,
    headers: &lambda_http::http::HeaderMap,
) -> Result<(), ApiError> {
    let Some(edge) = app.edge_origin() else {
        return Ok(());
    };
    let verified = headers
        .get(ORIGIN_VERIFY_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| edge.verifies(v));
    if verified {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// Counts this request against its client IP's window; 429 when over the
/// limit. Answers the cap it counted (`None` with `IP_LIMITS=off`), so that
/// a sign-in that succeeds can give its count back ([`refund_ip`]).
pub async fn limit_ip(
    app: &App,
    req: &Request,
    action: IpAction,
) -> Result<Option<RateCap>, ApiError> {
    let Some(limits) = &app.config.ip_limits else {
        return Ok(None);
    };
    let (scope, limit) = match action {
        IpAction::Login => ("ip-login", limits.login),
        IpAction::Registration => ("ip-registration", limits.registration),
        IpAction::ResetRequest => ("ip-reset", limits.reset),
        IpAction::PasskeyStart => ("ip-passkey-start", limits.login),
    };
    let ip = client_of(app, req)?;
    let now = app.clock.now();
    let cap = fixed_window(format!("{scope}#{ip}"), limit, limits.window_secs, now);
    take(app, &cap, TOO_MANY, now).await?;
    Ok(Some(cap))
}

/// Gives back a sign-in's count in its client's window: the window counts
/// failed sign-ins, so that many people behind one address (an office, a
/// campus, a carrier's NAT) can all sign in, while every attempt is still
/// counted while it runs (a burst cannot outrun the window). A refund that
/// fails leaves the attempt counted: logged, never an error.
pub async fn refund_ip(app: &App, counted: Option<RateCap>) {
    if let Some(cap) = counted {
        if let Err(err) = app.store.refund(&cap).await {
            tracing::warn!(error = format!("{err:#}"), "per-IP count not refunded");
        }
    }
}

/// Counts a request that sends mail against its client's hourly budget
/// (`CLIENT_MAIL_LIMIT`); 429 past it. Off with the other per-client limits.
pub async fn limit_client_mail(app: &App, req: &Request) -> Result<(), ApiError> {
    let Some(limits) = &app.config.ip_limits else {
        return Ok(());
    };
    let now = app.clock.now();
    let cap = fixed_window(
        format!("ip-mail#{}", client_of(app, req)?),
        limits.mail,
        crate::config::CLIENT_MAIL_WINDOW_SECS,
        now,
    );
    take(app, &cap, TOO_MANY, now).await
}

/// Counts one hit of `user`'s own `cap` (only while the account exists:
/// `Ok(false)` when it is gone or being deleted, nothing counted); past
/// its limit, 429 with `msg`.
pub async fn take_for(
    app: &App,
    cap: &RateCap,
    user: &UserRecord,
    msg: &'static str,
    now: i64,
) -> Result<bool, ApiError> {
    match app.store.hit_for_account(cap, user).await? {
        WriteOutcome::Done => Ok(true),
        WriteOutcome::Stale => Ok(false),
        WriteOutcome::Capped => Err(ApiError::TooManyRequests {
            msg,
            retry_after: cap.expires_at - now,
        }),
    }
}

/// Counts one hit of `cap`; past its limit, 429 with `msg`.
pub async fn take(app: &App, cap: &RateCap, msg: &'static str, now: i64) -> Result<(), ApiError> {
    if app.store.hit(cap).await? {
        Ok(())
    } else {
        Err(ApiError::TooManyRequests {
            msg,
            retry_after: cap.expires_at - now,
        })
    }
}

/// 429 when the username is locked now.
pub fn check_lockout(app: &App, failures: LoginFailures, now: i64) -> Result<(), ApiError> {
    let c = &app.config;
    let lock = lockout_secs(
        failures.count,
        c.login_max_failures,
        c.login_lockout_base_secs,
        c.login_lockout_max_secs,
    );
    let until = failures.last_at.saturating_add(lock);
    if lock > 0 && now < until {
        Err(ApiError::TooManyRequests {
            msg: "too many failed login attempts, try again later.",
            retry_after: until - now,
        })
    } else {
        Ok(())
    }
}

/// The budget of mail that anyone can make us send to one mailbox: the
/// links and notices of registrations, and links to an address that is not
/// its account's confirmed one. Its counter is keyed by the SHA-256 of the
/// mailbox (`user+tag@` counts as `user@`; see
/// [`EmailAddress::mailbox_digest`]): it outlives a deleted account (or the
/// cap could be reset by deleting one) without keeping the address in the
/// table. Mail to an account's own confirmed address never counts here.
pub fn address_mail_cap(app: &App, email: &EmailAddress, now: i64) -> RateCap {
    fixed_window(
        format!("mail#{}", email.mailbox_digest()),
        app.config.address_mail_limit,
        app.config.address_mail_window_secs,
        now,
    )
}

/// Sends `mail` to an address that is not the requester's own confirmed
/// one, within that address's silent budget: past it nothing is sent (the
/// mailer is told why, for the dev server's mailbox) and the request is
/// answered as usual, so a full budget tells nobody which accounts name
/// the address.
pub async fn send_within_address_cap(
    app: &App,
    cap: &RateCap,
    mail: &Email,
) -> Result<(), ApiError> {
    if app.store.hit(cap).await? {
        app.mailer.send(mail).await?;
    } else {
        app.mailer.not_sent(mail, ADDRESS_CAP_REACHED);
    }
    Ok(())
}

/// Sends a notice to `user`'s own address: always to an address the
/// account has confirmed (no stranger's requests can silence it); to an
/// unconfirmed one (anyone can name any address) only within that
/// address's budget, silently skipped past it.
pub async fn send_notice(
    app: &App,
    user: &UserRecord,
    notice: &Email,
    now: i64,
) -> Result<(), ApiError> {
    if user.is_email_verified {
        app.mailer.send(notice).await?;
        return Ok(());
    }
    send_within_address_cap(app, &address_mail_cap(app, &user.email, now), notice).await
}

/// The cap on emails a signed-in user asks for (confirmation links resent,
/// changes of address): `RESET_EMAIL_LIMIT` per username.
pub fn user_mail_cap(app: &App, username: &Username, now: i64) -> RateCap {
    fixed_window(
        format!("resend#{}", username.key()),
        app.config.reset_email_limit,
        app.config.reset_email_window_secs,
        now,
    )
}

/// The cap on security notices to an account's own address (password
/// changed, account deleted): `RESET_EMAIL_USER_CEILING` per username.
pub fn notice_cap(app: &App, username: &Username, now: i64) -> RateCap {
    fixed_window(
        format!("notice#{}", username.key()),
        app.config.reset_email_user_ceiling,
        app.config.reset_email_window_secs,
        now,
    )
}

/// The reset-mail budgets of a request for `username`: `RESET_EMAIL_LIMIT`
/// per username and requesting client (unless the per-client limits are
/// off), under `RESET_EMAIL_USER_CEILING` per username, so that one
/// client's requests cannot use up the owner's.
pub fn reset_email_caps(
    app: &App,
    req: &Request,
    username: &Username,
    now: i64,
) -> Result<Vec<RateCap>, ApiError> {
    let key = format!("reset#{}", username.key());
    let c = &app.config;
    let mut caps = Vec::with_capacity(2);
    if c.ip_limits.is_some() {
        caps.push(
            fixed_window(
                key.clone(),
                c.reset_email_limit,
                c.reset_email_window_secs,
                now,
            )
            .per(client_of(app, req)?),
        );
    }
    caps.push(fixed_window(
        key,
        c.reset_email_user_ceiling,
        c.reset_email_window_secs,
        now,
    ));
    Ok(caps)
}
