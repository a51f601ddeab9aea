//! Abuse limits applied to a request: per-IP windows, the login lockout,
//! the caps on reset emails and registration notices (rules in
//! [`crate::domain::limits`], counters in the store).

use lambda_http::Request;

use crate::domain::{
    EmailAddress, LoginFailures, RateCap, Username, client_key, fixed_window, lockout_secs,
};
use crate::error::ApiError;
use crate::http::client_ip;
use crate::ports::App;

/// The actions limited per client IP.
#[derive(Debug, Clone, Copy)]
pub enum IpAction {
    /// `POST /api/login`
    Login,
    /// `POST /api/registration`
    Registration,
    /// `POST /api/reset_password_request`
    ResetRequest,
}

const TOO_MANY: &str = "too many requests, try again later.";

/// Counts this request against its client IP's window; 429 when over the limit.
pub async fn limit_ip(app: &App, req: &Request, action: IpAction) -> Result<(), ApiError> {
    let Some(limits) = &app.config.ip_limits else {
        return Ok(());
    };
    let (scope, limit) = match action {
        IpAction::Login => ("ip-login", limits.login),
        IpAction::Registration => ("ip-registration", limits.registration),
        IpAction::ResetRequest => ("ip-reset", limits.reset),
    };
    let ip = client_ip(req)
        .map(|ip| client_key(&ip))
        .unwrap_or_else(|| "unknown".to_owned());
    let now = app.clock.now();
    let cap = fixed_window(format!("{scope}#{ip}"), limit, limits.window_secs, now);
    if app.store.hit(&cap).await? {
        Ok(())
    } else {
        Err(ApiError::TooManyRequests {
            msg: TOO_MANY,
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

/// The cap on emails that registrations and reset requests send to one
/// address. Its counter is keyed by the SHA-256 of the address's key: it
/// outlives a deleted account (or the cap could be reset by deleting one)
/// without keeping the address in the table.
pub fn address_mail_cap(app: &App, email: &EmailAddress, now: i64) -> RateCap {
    fixed_window(
        format!("mail#{}", email.key_digest()),
        app.config.address_mail_limit,
        app.config.address_mail_window_secs,
        now,
    )
}

/// The cap on emails a signed-in user asks for (confirmation links resent,
/// changes of address): the reset limits, per username.
pub fn user_mail_cap(app: &App, username: &Username, now: i64) -> RateCap {
    fixed_window(
        format!("resend#{}", username.key()),
        app.config.reset_email_limit,
        app.config.reset_email_window_secs,
        now,
    )
}

/// The reset-email cap for a username.
pub fn reset_email_cap(app: &App, username: &Username, now: i64) -> RateCap {
    fixed_window(
        format!("reset#{}", username.key()),
        app.config.reset_email_limit,
        app.config.reset_email_window_secs,
        now,
    )
}
