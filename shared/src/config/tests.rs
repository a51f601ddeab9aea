//! The configuration read from the environment.

use super::*;
use std::collections::HashMap;

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn defaults_follow_the_design() {
    let c = config(&[]).unwrap();
    assert_eq!(c.session_ttl_secs, 86_400);
    assert_eq!(c.remember_ttl_secs, 2_592_000);
    assert_eq!(c.login_max_failures, 5);
    assert_eq!(c.reset_email_limit, 3);
    assert_eq!(c.reset_email_user_ceiling, 10);
    assert_eq!(c.ip_limits.as_ref().map(|l| l.mail), Some(20));
    assert!(c.ip_limits.is_some());
    // No PUBLIC_BASE_URL: the pages under the URL the request came in on.
    assert_eq!(c.public_base_url, None);
    let own = c.links(Some("https://abc.execute-api.us-east-1.amazonaws.com"));
    assert_eq!(
        own.reset("T").unwrap(),
        "https://abc.execute-api.us-east-1.amazonaws.com/reset_password/T"
    );
    assert_eq!(
        own.confirm("T").unwrap(),
        "https://abc.execute-api.us-east-1.amazonaws.com/confirm_email/T"
    );
    assert_eq!(
        own.revert("T").unwrap(),
        "https://abc.execute-api.us-east-1.amazonaws.com/revert_email/T"
    );
    assert_eq!(c.links(None).confirm("T"), Err(NoBaseUrl));
    // A configured one wins over the request's.
    let c = config(&[("PUBLIC_BASE_URL", "https://api.example.com/")]).unwrap();
    assert_eq!(
        c.links(Some("https://abc.example")).confirm("T").unwrap(),
        "https://api.example.com/confirm_email/T"
    );
    assert_eq!(
        c.links(None).reset("T").unwrap(),
        "https://api.example.com/reset_password/T"
    );
}

#[test]
fn reset_url_may_hold_a_placeholder() {
    let c = config(&[("RESET_PASSWORD_URL", "https://app.example/r?t={token}")]).unwrap();
    assert_eq!(
        c.links(None).reset("T").unwrap(),
        "https://app.example/r?t=T"
    );
    let c = config(&[("RESET_PASSWORD_URL", "https://app.example/reset_password/")]).unwrap();
    assert_eq!(
        c.links(None).reset("T").unwrap(),
        "https://app.example/reset_password/T"
    );
    let c = config(&[
        ("CONFIRM_EMAIL_URL", "https://app.example/confirm?t={token}"),
        ("REVERT_EMAIL_URL", "https://app.example/undo/"),
    ])
    .unwrap();
    assert_eq!(
        c.links(None).confirm("T").unwrap(),
        "https://app.example/confirm?t=T"
    );
    assert_eq!(
        c.links(None).revert("T").unwrap(),
        "https://app.example/undo/T"
    );
    assert!(config(&[("CONFIRM_EMAIL_URL", "javascript:x")]).is_err());
}

#[test]
fn rejects_bad_values() {
    for (name, value) in [
        ("SESSION_TTL_SECS", "0"),
        ("SESSION_TTL_SECS", "-5"),
        ("LOGIN_MAX_FAILURES", "many"),
        ("IP_LIMITS", "maybe"),
        ("PUBLIC_BASE_URL", "ftp://x"),
        ("MAIL_FROM", "not an address"),
    ] {
        assert!(config(&[(name, value)]).is_err(), "{name}={value}");
    }
    assert!(config(&[("IP_LIMITS", "off")]).unwrap().ip_limits.is_none());
    for bad in [
        "com",
        "10.0.0.1",
        "a b.com",
        "-x.com",
        "x..com",
        "x.com/",
        "x.com;",
        "exa_mple.com",
    ] {
        assert!(config(&[("COOKIE_DOMAIN", bad)]).is_err(), "{bad}");
    }
    assert_eq!(
        config(&[("COOKIE_DOMAIN", ".Example.COM")])
            .unwrap()
            .cookie_domain
            .as_deref(),
        Some("example.com")
    );
    assert!(config(&[]).unwrap().cookie_domain.is_none());
}
