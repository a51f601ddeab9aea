//! The route table: the one list of endpoints that the dev server serves and
//! that template.yaml, the function crates and events/ are checked against.

/// One endpoint: its method, its API Gateway path and the function that serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path as API Gateway writes it (`{name}` marks a path parameter).
    pub path: &'static str,
    /// Function crate (and Lambda binary) name.
    pub function: &'static str,
}

/// Every endpoint of the contract.
pub const ROUTES: [Route; 41] = [
    route("GET", "/", "index"),
    route("POST", "/api/login", "login"),
    route("POST", "/api/registration", "registration"),
    route(
        "POST",
        "/api/reset_password_request",
        "reset_password_request",
    ),
    route("GET", "/api/profile_settings", "profile_settings"),
    route("GET", "/api/confirm_email/{token}", "confirm_email"),
    route("POST", "/api/reset_password/{token}", "reset_password"),
    route("GET", "/api/logout", "logout"),
    route("POST", "/api/logout", "logout"),
    route("POST", "/api/profile_settings", "update_profile"),
    route("POST", "/api/change_password", "change_password"),
    route("POST", "/api/change_email", "change_email"),
    route("GET", "/api/revert_email/{token}", "revert_email"),
    route("POST", "/api/resend_confirmation", "resend_confirmation"),
    route("GET", "/api/sessions", "sessions"),
    route("GET", "/api/security_events", "security_events"),
    route("DELETE", "/api/sessions/{id}", "end_session"),
    route("POST", "/api/logout_all", "logout_all"),
    route("POST", "/api/delete_account", "delete_account"),
    route("POST", "/api/account_export", "account_export"),
    route("GET", "/api/whoami", "whoami"),
    route("POST", "/api/login/mfa", "login_mfa"),
    route("GET", "/api/mfa", "mfa_status"),
    route("POST", "/api/mfa/totp/setup", "totp_setup"),
    route("POST", "/api/mfa/totp/confirm", "totp_confirm"),
    route("POST", "/api/mfa/recovery_codes", "recovery_codes"),
    route("POST", "/api/mfa/disable", "mfa_disable"),
    route(
        "POST",
        "/api/passkeys/register/start",
        "passkey_register_start",
    ),
    route(
        "POST",
        "/api/passkeys/register/finish",
        "passkey_register_finish",
    ),
    route("GET", "/api/passkeys", "passkeys"),
    route("POST", "/api/passkeys/remove", "passkey_remove"),
    route("POST", "/api/passkey_login/start", "passkey_login_start"),
    route("POST", "/api/passkey_login/finish", "passkey_login_finish"),
    route("POST", "/api/token", "token"),
    route("GET", "/.well-known/jwks.json", "jwks"),
    route(
        "GET",
        "/.well-known/openid-configuration",
        "openid_configuration",
    ),
    // The pages (HTML) the emailed links open, the account page, and their
    // style sheet and scripts: one function serves them all.
    route("GET", "/confirm_email/{token}", "pages"),
    route("GET", "/revert_email/{token}", "pages"),
    route("GET", "/reset_password/{token}", "pages"),
    route("GET", "/account", "pages"),
    route("GET", "/assets/{file}", "pages"),
];

/// Functions that serve no route of ours: API Gateway invokes the
/// authorizer before the routes of a team's own API that use it, Secrets
/// Manager the rotation on its schedule, the table's stream the events
/// forwarder.
pub const OTHER_FUNCTIONS: [&str; 3] = ["authorizer", "rotation", "events_forwarder"];

/// Functions that, behind edge protection, hold the origin secret and
/// refuse (403) every request without it: those that count per client and
/// the reset link's, which the edge's web ACL rate-limits (`CLIENT` in
/// their `main.rs`; the template gives them `EDGE_ORIGIN_SECRET_ARN`).
pub const EDGE_GUARDED: [&str; 16] = [
    "login",
    "passkey_register_finish",
    "passkey_remove",
    "passkey_login_start",
    "passkey_login_finish",
    "login_mfa",
    "totp_confirm",
    "recovery_codes",
    "mfa_disable",
    "registration",
    "reset_password_request",
    "reset_password",
    "resend_confirmation",
    "change_email",
    "change_password",
    "delete_account",
];

const fn route(method: &'static str, path: &'static str, function: &'static str) -> Route {
    Route {
        method,
        path,
        function,
    }
}

/// The outcome of matching a request line against [`ROUTES`].
#[derive(Debug, PartialEq, Eq)]
pub enum RouteMatch {
    /// A route, with its path parameters.
    Found(Route, Vec<(String, String)>),
    /// The path exists, but not with this method; the value is for `Allow`.
    MethodNotAllowed(String),
    /// No such path.
    NotFound,
}

/// Matches a method and path (without query string) against [`ROUTES`].
pub fn match_route(method: &str, path: &str) -> RouteMatch {
    let mut allowed: Vec<&str> = Vec::new();
    for route in ROUTES {
        if let Some(params) = match_path(route.path, path) {
            if route.method == method {
                return RouteMatch::Found(route, params);
            }
            allowed.push(route.method);
        }
    }
    if allowed.is_empty() {
        RouteMatch::NotFound
    } else {
        RouteMatch::MethodNotAllowed(allowed.join(", "))
    }
}

fn match_path(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
    let mut params = Vec::new();
    let mut want = pattern.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(g)) => {
                if let Some(name) = w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                    if g.is_empty() {
                        return None;
                    }
                    params.push((name.to_owned(), g.to_owned()));
                } else if w != g {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_static_and_parameter_paths() {
        assert!(
            matches!(match_route("GET", "/"), RouteMatch::Found(r, p) if r.function == "index" && p.is_empty())
        );
        match match_route("GET", "/api/confirm_email/abc") {
            RouteMatch::Found(r, p) => {
                assert_eq!(r.function, "confirm_email");
                assert_eq!(p, vec![("token".to_owned(), "abc".to_owned())]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn distinguishes_wrong_method_from_unknown_path() {
        assert_eq!(
            match_route("GET", "/api/login"),
            RouteMatch::MethodNotAllowed("POST".into())
        );
        assert_eq!(
            match_route("DELETE", "/"),
            RouteMatch::MethodNotAllowed("GET".into())
        );
        for path in [
            "/nope",
            "/api/login/",
            "/api/confirm_email/",
            "/api/confirm_email/a/b",
            "",
            "/api",
        ] {
            assert_eq!(match_route("GET", path), RouteMatch::NotFound, "{path}");
        }
    }
}
