//! Configuration: environment variables read once into one typed struct.
//!
//! The same names appear in template.yaml, the dev server and docs/CONFIGURATION.md.

use std::str::FromStr;

use lettre::message::Mailbox;

mod activity;
mod tokens;
mod webauthn;
pub use activity::ActivitySettings;
pub use tokens::{MAX_TOKEN_TTL_SECS, ServiceTokenSettings};
pub use webauthn::WebAuthnSettings;
/// A configuration value that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {name}: {problem}")]
pub struct ConfigError {
    name: &'static str,
    problem: String,
}

impl ConfigError {
    /// An error about the variable `name`.
    pub fn new(name: &'static str, problem: impl Into<String>) -> Self {
        Self {
            name,
            problem: problem.into(),
        }
    }
}

/// Per-client-IP fixed-window limits (requests per window).
#[derive(Debug, Clone)]
pub struct IpLimits {
    /// Window length in seconds (`IP_WINDOW_SECS`).
    pub window_secs: i64,
    /// Logins per IP per window (`IP_LIMIT_LOGIN`).
    pub login: u32,
    /// Registrations per IP per window (`IP_LIMIT_REGISTRATION`).
    pub registration: u32,
    /// Reset requests per IP per window (`IP_LIMIT_RESET`).
    pub reset: u32,
    /// Requests that send mail, per client per hour (`CLIENT_MAIL_LIMIT`, 20).
    pub mail: u32,
}

/// The window of the per-client mail budget: one hour.
pub const CLIENT_MAIL_WINDOW_SECS: i64 = 3600;

/// Everything the handlers need to know that is not a client or a secret.
#[derive(Debug, Clone)]
pub struct Config {
    /// `iss` claim of issued JWTs (`JWT_ISSUER`).
    pub jwt_issuer: String,
    /// `aud` claim of issued JWTs (`JWT_AUDIENCE`).
    pub jwt_audience: String,
    /// Session lifetime without "remember me" (`SESSION_TTL_SECS`, 24 h).
    pub session_ttl_secs: i64,
    /// Session lifetime with "remember me" (`REMEMBER_TTL_SECS`, 30 days).
    pub remember_ttl_secs: i64,
    /// Confirmation link lifetime (`CONFIRM_TOKEN_TTL_SECS`, 24 h).
    pub confirm_token_ttl_secs: i64,
    /// Reset link lifetime (`RESET_TOKEN_TTL_SECS`, 1 h).
    pub reset_token_ttl_secs: i64,
    /// Consecutive failures before a username is locked (`LOGIN_MAX_FAILURES`, 5).
    pub login_max_failures: u32,
    /// First lockout, doubled per further failure (`LOGIN_LOCKOUT_BASE_SECS`, 60).
    pub login_lockout_base_secs: i64,
    /// Longest lockout (`LOGIN_LOCKOUT_MAX_SECS`, 900).
    pub login_lockout_max_secs: i64,
    /// How long failures are remembered after the last one (`LOGIN_FAILURE_TTL_SECS`, 24 h).
    pub login_failure_ttl_secs: i64,
    /// Most sessions one user keeps (`SESSION_LIMIT`, 20); a login beyond
    /// it ends the oldest.
    pub session_limit: usize,
    /// Reset emails per username and requesting client per window
    /// (`RESET_EMAIL_LIMIT`, 3); also the budget of mail a signed-in user
    /// asks for (resent links, changes of address) per username.
    pub reset_email_limit: u32,
    /// Reset emails per username per window from all clients together
    /// (`RESET_EMAIL_USER_CEILING`, 10); also the budget of security notices
    /// per account (password changed, account deleted).
    pub reset_email_user_ceiling: u32,
    /// The window of that limit (`RESET_EMAIL_WINDOW_SECS`, 1 h).
    pub reset_email_window_secs: i64,
    /// Emails that anyone can make us send to one mailbox per window
    /// (`ADDRESS_MAIL_LIMIT`, 10): registrations' links and "someone tried
    /// to register with your address" notices, and links to an address that
    /// is not its account's confirmed one. Requests past it are answered the
    /// same way but send nothing, so no inbox can be flooded through
    /// accounts that name it. Mail to an account's own confirmed address is
    /// never counted here (it is budgeted per user and per client), so
    /// filling this budget cannot silence a notice that protects an account.
    pub address_mail_limit: u32,
    /// The window of that limit (`ADDRESS_MAIL_WINDOW_SECS`, 1 h).
    pub address_mail_window_secs: i64,
    /// Per-IP limits; `None` when `IP_LIMITS=off`.
    pub ip_limits: Option<IpLimits>,
    /// Base of links in emails (`PUBLIC_BASE_URL`), without a trailing
    /// slash; `None` (unset or empty): the URL the request reached this
    /// API on, as API Gateway names it (see [`Config::links`]).
    pub public_base_url: Option<String>,
    /// Base of the reset link (`RESET_PASSWORD_URL`); the token is appended
    /// after a `/`, or replaces `{token}` when the value contains it.
    pub reset_password_url: LinkBase,
    /// Base of the confirmation link (`CONFIRM_EMAIL_URL`), same rules;
    /// by default the confirmation page this service serves.
    pub confirm_email_url: LinkBase,
    /// Base of the link that undoes a change of address (`REVERT_EMAIL_URL`),
    /// same rules; by default the page this service serves.
    pub revert_email_url: LinkBase,
    /// Sender of every email (`MAIL_FROM`).
    pub mail_from: Mailbox,
    /// SES configuration set (`SES_CONFIGURATION_SET`), optional.
    pub ses_configuration_set: Option<String>,
    /// The `Domain` of every cookie we set (`COOKIE_DOMAIN`, optional):
    /// unset, cookies are host-only; `example.com` shares them with a front
    /// end on a sibling host (`app.example.com` next to `api.example.com`).
    pub cookie_domain: Option<String>,
    /// Passkeys: `WEBAUTHN_RP_ID`, `WEBAUTHN_ORIGINS`.
    pub webauthn: WebAuthnSettings,
    /// The issuer an authenticator app shows for our TOTP keys
    /// (`MFA_ISSUER`, default the service's name); no `:`.
    pub mfa_issuer: String,
    /// Service tokens: `TOKEN_TTL_SECS`, `TOKEN_AUDIENCES`.
    pub service_tokens: ServiceTokenSettings,
    /// Security activity: `ACTIVITY_TTL_SECS`, `NEW_SIGNIN_MAIL`, `NEW_SIGNIN_MAIL_CAP`.
    pub activity: ActivitySettings,
}

/// Where a kind of emailed link points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkBase {
    /// A configured URL (`CONFIRM_EMAIL_URL` and the like, or
    /// `PUBLIC_BASE_URL` and the page's path).
    Fixed(String),
    /// This page (`confirm_email`, ...) under the URL the request reached
    /// the API on: `PUBLIC_BASE_URL` is not set.
    OwnPage(&'static str),
}

/// The emailed links of one request.
#[derive(Debug, Clone, Copy)]
pub struct Links<'a> {
    config: &'a Config,
    own_base: Option<&'a str>,
}

/// A link's base is the request's own URL, and the request named none
/// (`PUBLIC_BASE_URL` unset outside API Gateway).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("PUBLIC_BASE_URL is not set and the request names no domain to build links on")]
pub struct NoBaseUrl;

impl Links<'_> {
    fn build(&self, base: &LinkBase, token: &str) -> Result<String, NoBaseUrl> {
        match base {
            LinkBase::Fixed(base) => Ok(link(base, token)),
            LinkBase::OwnPage(page) => {
                let own = self.own_base.ok_or(NoBaseUrl)?;
                Ok(format!("{own}/{page}/{token}"))
            }
        }
    }

    /// The confirmation link for a raw token.
    pub fn confirm(&self, token: &str) -> Result<String, NoBaseUrl> {
        self.build(&self.config.confirm_email_url, token)
    }

    /// The link that undoes a change of address, for a raw token.
    pub fn revert(&self, token: &str) -> Result<String, NoBaseUrl> {
        self.build(&self.config.revert_email_url, token)
    }

    /// The reset link for a raw token.
    pub fn reset(&self, token: &str) -> Result<String, NoBaseUrl> {
        self.build(&self.config.reset_password_url, token)
    }
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let public_base_url = get("PUBLIC_BASE_URL").map(|u| u.trim_end_matches('/').to_owned());
        if let Some(url) = &public_base_url {
            check_url("PUBLIC_BASE_URL", url)?;
        }
        let link_base = |name: &'static str, page: &'static str| {
            let url = match (get(name), &public_base_url) {
                (Some(url), _) => url.trim_end_matches('/').to_owned(),
                (None, Some(base)) => format!("{base}/{page}"),
                (None, None) => return Ok(LinkBase::OwnPage(page)),
            };
            check_url(name, &url).map(|()| LinkBase::Fixed(url))
        };
        let reset_password_url = link_base("RESET_PASSWORD_URL", "reset_password")?;
        let confirm_email_url = link_base("CONFIRM_EMAIL_URL", "confirm_email")?;
        let revert_email_url = link_base("REVERT_EMAIL_URL", "revert_email")?;
        let mail_from_raw =
            get("MAIL_FROM").unwrap_or_else(|| "user_account <noreply@example.com>".to_owned());
        let mail_from = Mailbox::from_str(&mail_from_raw)
            .map_err(|e| ConfigError::new("MAIL_FROM", e.to_string()))?;
        let ip_limits = match get("IP_LIMITS").as_deref().map(str::to_ascii_lowercase) {
            Some(v) if v == "off" || v == "false" || v == "0" => None,
            Some(v) if v != "on" && v != "true" && v != "1" => {
                return Err(ConfigError::new("IP_LIMITS", "expected on or off"));
            }
            _ => Some(IpLimits {
                window_secs: positive(&get, "IP_WINDOW_SECS", 60)?,
                login: positive(&get, "IP_LIMIT_LOGIN", 100)?,
                registration: positive(&get, "IP_LIMIT_REGISTRATION", 100)?,
                reset: positive(&get, "IP_LIMIT_RESET", 100)?,
                mail: positive(&get, "CLIENT_MAIL_LIMIT", 20)?,
            }),
        };
        Ok(Self {
            jwt_issuer: get("JWT_ISSUER").unwrap_or_else(|| crate::SERVICE_NAME.to_owned()),
            jwt_audience: get("JWT_AUDIENCE").unwrap_or_else(|| crate::SERVICE_NAME.to_owned()),
            session_ttl_secs: positive(&get, "SESSION_TTL_SECS", 24 * 3600)?,
            remember_ttl_secs: positive(&get, "REMEMBER_TTL_SECS", 30 * 24 * 3600)?,
            confirm_token_ttl_secs: positive(&get, "CONFIRM_TOKEN_TTL_SECS", 24 * 3600)?,
            reset_token_ttl_secs: positive(&get, "RESET_TOKEN_TTL_SECS", 3600)?,
            login_max_failures: positive(&get, "LOGIN_MAX_FAILURES", 5)?,
            login_lockout_base_secs: positive(&get, "LOGIN_LOCKOUT_BASE_SECS", 60)?,
            login_lockout_max_secs: positive(&get, "LOGIN_LOCKOUT_MAX_SECS", 900)?,
            login_failure_ttl_secs: positive(&get, "LOGIN_FAILURE_TTL_SECS", 24 * 3600)?,
            session_limit: positive(&get, "SESSION_LIMIT", 20)?,
            reset_email_limit: positive(&get, "RESET_EMAIL_LIMIT", 3)?,
            reset_email_user_ceiling: positive(&get, "RESET_EMAIL_USER_CEILING", 10)?,
            reset_email_window_secs: positive(&get, "RESET_EMAIL_WINDOW_SECS", 3600)?,
            address_mail_limit: positive(&get, "ADDRESS_MAIL_LIMIT", 10)?,
            address_mail_window_secs: positive(&get, "ADDRESS_MAIL_WINDOW_SECS", 3600)?,
            ip_limits,
            public_base_url,
            reset_password_url,
            confirm_email_url,
            revert_email_url,
            mail_from,
            ses_configuration_set: get("SES_CONFIGURATION_SET"),
            cookie_domain: get("COOKIE_DOMAIN")
                .map(|d| cookie_domain(&d))
                .transpose()?,
            webauthn: WebAuthnSettings::from_lookup(get)?,
            mfa_issuer: tokens::mfa_issuer(get)?,
            service_tokens: ServiceTokenSettings::from_lookup(get)?,
            activity: ActivitySettings::from_lookup(get)?,
        })
    }

    /// The emailed links of a request that reached the API on `own_base`
    /// (`https://<domain>`, as API Gateway names it), used only where no
    /// base URL is configured.
    pub fn links<'a>(&'a self, own_base: Option<&'a str>) -> Links<'a> {
        Links {
            config: self,
            own_base,
        }
    }
}

/// A link base with the token in its `{token}` placeholder, or after a `/`.
fn link(base: &str, token: &str) -> String {
    if base.contains("{token}") {
        base.replace("{token}", token)
    } else {
        format!("{base}/{token}")
    }
}

/// A cookie `Domain`: a host name (a leading dot is dropped, as browsers do).
fn cookie_domain(raw: &str) -> Result<String, ConfigError> {
    let domain = raw.trim().trim_start_matches('.').to_ascii_lowercase();
    // At least two labels, the last not a number: a browser drops every
    // cookie scoped to a top-level domain or an IP address.
    let labels: Vec<&str> = domain.split('.').collect();
    let ok = labels.len() >= 2
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(domain)
    } else {
        Err(ConfigError::new(
            "COOKIE_DOMAIN",
            "expected a host name such as example.com",
        ))
    }
}

fn check_url(name: &'static str, url: &str) -> Result<(), ConfigError> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.is_ascii()
        && !url
            .chars()
            .any(|c| c.is_ascii_whitespace() || c.is_ascii_control());
    if ok {
        Ok(())
    } else {
        Err(ConfigError::new(name, "expected an http(s) URL"))
    }
}

fn positive<T>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + Default,
{
    match get(name) {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<T>() {
            Ok(v) if v > T::default() => Ok(v),
            _ => Err(ConfigError::new(name, "expected a positive whole number")),
        },
    }
}

#[cfg(test)]
mod tests;
