//! Abuse limits: per-IP fixed windows, the login lockout schedule, the reset-email cap.

use lambda_http::Request;

use crate::App;
use crate::error::ApiError;
use crate::http::client_ip;
use crate::store::{LoginFailures, RateCap};

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

/// A fixed-window cap on `key` at time `now`.
pub fn fixed_window(key: String, limit: u32, window_secs: i64, now: i64) -> RateCap {
    let window_start = now - now.rem_euclid(window_secs);
    RateCap {
        key,
        window_start,
        limit,
        expires_at: window_start + window_secs,
    }
}

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

/// The key a client address is counted under: the address itself for IPv4,
/// its /64 network for IPv6 (one subscriber usually holds a whole /64).
pub fn client_key(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}

/// Seconds a username stays locked after `failures`, from the latest failure:
/// none below the threshold, then `base * 2^(n - max)` capped at `cap`.
pub fn lockout_secs(failures: u32, max_failures: u32, base: i64, cap: i64) -> i64 {
    if failures < max_failures {
        return 0;
    }
    let doublings = (failures - max_failures).min(30);
    base.saturating_mul(1_i64 << doublings).min(cap)
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

/// The cap on "already registered" notices to one address.
pub fn registration_notice_cap(app: &App, email_key: &str, now: i64) -> RateCap {
    fixed_window(
        format!("notice#{email_key}"),
        app.config.registration_notice_limit,
        app.config.registration_notice_window_secs,
        now,
    )
}

/// The reset-email cap for a username.
pub fn reset_email_cap(app: &App, username_key: &str, now: i64) -> RateCap {
    fixed_window(
        format!("reset#{username_key}"),
        app.config.reset_email_limit,
        app.config.reset_email_window_secs,
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_doubles_from_one_minute_and_caps_at_fifteen() {
        let l = |n| lockout_secs(n, 5, 60, 900);
        assert_eq!(
            [l(0), l(4), l(5), l(6), l(7), l(8), l(9), l(40)],
            [0, 0, 60, 120, 240, 480, 900, 900]
        );
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        assert_eq!(client_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(client_key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
        assert_eq!(client_key("203.0.113.9"), "203.0.113.9");
    }

    #[test]
    fn windows_align_to_their_length() {
        let cap = fixed_window("k".into(), 3, 3600, 7300);
        assert_eq!((cap.window_start, cap.expires_at), (7200, 10800));
    }
}
