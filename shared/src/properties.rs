//! Properties of every parser a request reaches (bodies, usernames, emails,
//! passwords, one-time tokens, session ids, JWTs, cookies): for any input,
//! no panic, and what is accepted satisfies the rule; junk is refused with
//! a 4xx.

#![allow(clippy::unwrap_used)]

use lambda_http::{Body, Request};
use proptest::prelude::*;
use secrecy::SecretString;

use crate::config::Config;
use crate::domain::{EmailAddress, JwtKeys, Password, SessionId, TokenHash, Username};
use crate::error::ApiError;
use crate::http::JsonBody;
use crate::http::session::authenticate;
use crate::ports::KeyRing;

fn request(content_type: &str, headers: &[(&str, String)], body: Vec<u8>) -> Option<Request> {
    let mut b = lambda_http::http::Request::builder()
        .method("POST")
        .uri("/api/login")
        .header("content-type", content_type);
    for (name, value) in headers {
        lambda_http::http::HeaderValue::from_str(value).ok()?;
        b = b.header(*name, value.as_str());
    }
    b.body(Body::from(body)).ok()
}

fn is_4xx(err: &ApiError) -> bool {
    err.status().is_client_error()
}

/// Arbitrary text, biased toward what parsers trip on.
fn junk() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,80}",
        "[\\PC\\s\"@<>\\\\]{0,300}",
        "\\PC{0,40}@\\PC{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn usernames_accepted_follow_the_rule(raw in junk()) {
        if let Ok(u) = Username::parse(&raw) {
            prop_assert!((3..=32).contains(&raw.len()));
            prop_assert!(raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)));
            prop_assert_eq!(u.key(), raw.to_ascii_lowercase());
        }
    }

    #[test]
    fn emails_accepted_are_deliverable_and_parse_again_to_the_same_mailbox(raw in junk()) {
        if let Ok(e) = EmailAddress::parse(&raw) {
            prop_assert!(e.as_str().is_ascii(), "{:?}", e.as_str());
            prop_assert!(e.as_str().len() <= 254);
            let again = EmailAddress::parse(e.as_str()).unwrap();
            prop_assert_eq!(again.key(), e.key());
        }
    }

    #[test]
    fn passwords_never_panic_and_respect_their_length(raw in junk(), name in "[a-z][a-z0-9]{2,10}") {
        let username = Username::from_stored(name);
        if Password::parse(&raw, &username).is_ok() {
            prop_assert!((8..=128).contains(&raw.chars().count()));
        }
    }

    #[test]
    fn tokens_and_session_ids_are_taken_only_well_formed(raw in junk()) {
        if TokenHash::from_link(&raw).is_some() {
            prop_assert_eq!(raw.len(), 43);
        }
        if SessionId::parse(&raw).is_some() {
            prop_assert_eq!(raw.len(), 22);
        }
    }

    #[test]
    fn any_body_is_an_object_or_a_4xx(body in prop_oneof![
        any::<Vec<u8>>(),
        junk().prop_map(String::into_bytes),
        "\\{\"[a-z]{1,8}\": ?(null|true|1|\"x\"|\\[\\]|\\{\\})\\}".prop_map(String::into_bytes),
    ], content_type in prop_oneof![
        Just("application/json".to_owned()),
        Just("application/json; charset=utf-8".to_owned()),
        "[ -~]{0,40}",
    ]) {
        if let Some(req) = request(&content_type, &[], body) {
            match JsonBody::parse(&req) {
                Ok(parsed) => {
                    // Every accessor answers, with a 4xx for a wrong type.
                    for field in ["username", "pwd", "remember", "x"] {
                        if let Err(e) = parsed.str(field) { prop_assert!(is_4xx(&e)); }
                        if let Err(e) = parsed.opt_str(field) { prop_assert!(is_4xx(&e)); }
                        if let Err(e) = parsed.opt_bool(field) { prop_assert!(is_4xx(&e)); }
                    }
                }
                Err(e) => prop_assert!(is_4xx(&e), "{e:?}"),
            }
        }
    }

    #[test]
    fn forged_tokens_and_cookies_never_authenticate(
        bearer in junk(),
        cookie in junk(),
        jwt_like in "[A-Za-z0-9_-]{10,40}\\.[A-Za-z0-9_-]{10,60}\\.[A-Za-z0-9_-]{0,50}",
    ) {
        let keys = KeyRing::fixed(JwtKeys::new(&SecretString::from("k".repeat(40))).unwrap());
        let config = Config::from_lookup(|_| None).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        for headers in [
            vec![("authorization", format!("Bearer {bearer}"))],
            vec![("authorization", format!("Bearer {jwt_like}"))],
            vec![("cookie", cookie.clone())],
            vec![("cookie", format!("access_token_cookie={jwt_like}; csrf_access_token={cookie}"))],
        ] {
            if let Some(req) = request("application/json", &headers, Vec::new()) {
                let err = runtime
                    .block_on(authenticate(&keys, &config, &req, 1_800_000_000))
                    .unwrap_err();
                prop_assert_eq!(err.status().as_u16(), 401);
            }
        }
    }
}
