//! What a deployment relies on beyond the route table: links built without
//! a configured base URL, the functions that read the edge origin secret,
//! and the log text the alarms count.

use std::collections::BTreeSet;

use tests::{TestApp, repo};

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Without `PUBLIC_BASE_URL` (the template's default), emailed links point
/// at the URL the request reached the API on, as API Gateway's request
/// context names it: a first deploy needs no second one to set it.
#[tokio::test]
async fn without_a_public_base_url_links_point_where_the_request_came_in() {
    let app = TestApp::options().env("PUBLIC_BASE_URL", "").spawn().await;
    let event: serde_json::Value = serde_json::from_str(&read("events/registration.json")).unwrap();
    let register = |event: &serde_json::Value, username: &str, email: &str| {
        let mut event = event.clone();
        let body = serde_json::json!({
            "username": username, "full_name": "A", "email": email,
            "phone": null, "contacts": null, "pwd": tests::PASSWORD,
        });
        event["body"] = body.to_string().into();
        lambda_http::request::from_str(&event.to_string()).unwrap()
    };
    let handle = dev_server::handler("registration").unwrap();

    let resp = handle(app.app.clone(), register(&event, "ada", "ada@example.com")).await;
    assert_eq!(resp.status().as_u16(), 200);
    let link = app.link_to("ada@example.com", "/confirm_email/").await;
    assert!(
        link.starts_with("https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/confirm_email/"),
        "{link}"
    );

    // A named stage on the execute-api host: its path is part of the URL.
    let mut staged = event.clone();
    staged["requestContext"]["stage"] = "v1".into();
    let resp = handle(app.app.clone(), register(&staged, "bea", "bea@example.com")).await;
    assert_eq!(resp.status().as_u16(), 200);
    let link = app.link_to("bea@example.com", "/confirm_email/").await;
    assert!(
        link.starts_with(
            "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/confirm_email/"
        ),
        "{link}"
    );

    // A custom domain (possibly a wildcard one, whose subdomain the
    // client's Host header picks, or one with a base path mapping) is no
    // base for links: without PUBLIC_BASE_URL, a 500 before anything is
    // written, and no mail.
    let mut custom = event.clone();
    custom["requestContext"]["domainName"] = "evil.example.org".into();
    let resp = handle(app.app.clone(), register(&custom, "cal", "cal@example.com")).await;
    assert_eq!(resp.status().as_u16(), 500);
    assert!(app.emails_to("cal@example.com").await.is_empty());
    let resp = handle(app.app.clone(), register(&event, "cal", "cal@example.com")).await;
    assert_eq!(resp.status().as_u16(), 200);

    // No domain to build on (not API Gateway): 500 before anything is
    // written, so the retry with a base works.
    let mut bare = event.clone();
    bare["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("domainName");
    let resp = handle(app.app.clone(), register(&bare, "cyd", "cyd@example.com")).await;
    assert_eq!(resp.status().as_u16(), 500);
    let resp = handle(app.app.clone(), register(&event, "cyd", "cyd@example.com")).await;
    assert_eq!(resp.status().as_u16(), 200);
}

/// The binaries of template.yaml's functions whose own block (up to the
/// next resource) contains `needle`.
fn functions_whose_block_has(template: &str, needle: &str) -> BTreeSet<String> {
    template
        .split("Type: AWS::Serverless::Function")
        .skip(1)
        .filter(|block| {
            // The function's own block ends where the next resource begins.
            let own = block.split("\n  # ").next().unwrap_or(block);
            own.contains(needle)
        })
        .map(|block| {
            block
                .lines()
                .find_map(|l| l.trim().strip_prefix("Binary: "))
                .unwrap()
                .trim()
                .to_owned()
        })
        .collect()
}

/// The function crates whose `main.rs` passes `test`.
fn functions_whose_main(test: impl Fn(&str) -> bool) -> BTreeSet<String> {
    std::fs::read_dir(repo().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| {
            std::fs::read_to_string(repo().join(format!("functions/{name}/src/main.rs")))
                .is_ok_and(|main| test(&main))
        })
        .collect()
}

/// The functions that count per client or sit behind the web ACL's rate
/// rule (`CLIENT` in their `main.rs`) are exactly those the template gives
/// the edge origin secret: behind edge protection, such a function without
/// it would key every limit on a few CloudFront addresses and let calls
/// around the web ACL through; one with it but without `CLIENT` would hold
/// a secret for nothing.
#[test]
fn the_functions_counting_per_client_are_those_given_the_edge_secret() {
    let template = read("template.yaml");
    let given = functions_whose_block_has(&template, "EDGE_ORIGIN_SECRET_ARN:");
    let counting = functions_whose_main(|main| main.contains("CLIENT"));
    assert_eq!(counting.len(), 16, "{counting:?}");
    assert_eq!(given, counting);
    let guarded: BTreeSet<String> = shared::http::routes::EDGE_GUARDED
        .iter()
        .map(|f| (*f).to_owned())
        .collect();
    assert_eq!(guarded, counting, "shared::http::routes::EDGE_GUARDED");
}

/// The functions that send mail (`MAIL` in their `main.rs`: an SES client
/// at the cold start) are exactly those the template lets send it: one
/// without the grant fails every send, one without `MAIL` has no mailer
/// (every send fails with "deployed without MAIL").
#[test]
fn the_functions_that_mail_are_those_allowed_to() {
    let template = read("template.yaml");
    let allowed = functions_whose_block_has(&template, "ses:SendEmail");
    let mailing = functions_whose_main(|main| {
        main.split(|c: char| !c.is_ascii_alphabetic())
            .any(|w| w == "MAIL")
    });
    for signs_in in ["login", "login_mfa", "passkey_login_finish"] {
        assert!(
            mailing.contains(signs_in),
            "{signs_in}: the new-sign-in mail"
        );
    }
    assert_eq!(allowed, mailing);
}

/// The alarm on failed sends counts log lines by the text the SES adapter
/// puts in its error (logged whole by the envelope): they must not drift
/// apart.
#[test]
fn the_ses_failure_metric_filters_match_what_the_mailer_logs() {
    let template = read("template.yaml");
    let patterns: BTreeSet<&str> = template
        .lines()
        .filter_map(|l| l.trim().strip_prefix("FilterPattern: "))
        .filter(|p| !p.contains("$.status"))
        .collect();
    assert_eq!(patterns.len(), 1, "{patterns:?}");
    let text = patterns
        .first()
        .unwrap()
        .trim_matches('\'')
        .trim_matches('"')
        .to_owned();
    let ses = read("shared/src/adapters/ses.rs");
    assert!(
        ses.contains(&format!("anyhow::anyhow!(\"{text}: ")),
        "shared/src/adapters/ses.rs no longer says {text:?}"
    );
    let envelope = read("shared/src/http/envelope.rs");
    assert!(envelope.contains("error = format!(\"{cause:#}\")"));
}
