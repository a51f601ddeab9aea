//! The Lambda packaging agrees with the code: template.yaml routes, the route
//! table the dev server serves, the function crates and events/ name the same
//! endpoints; and every saved API Gateway event, deserialised by lambda_http
//! itself, gets the contract's answer from the real handler.

use std::collections::BTreeSet;

use shared::http::routes::{OTHER_FUNCTIONS, ROUTES};
use tests::{TestApp, repo};

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// (method, path, binary) for every HttpApi event of every function in template.yaml.
fn template_routes() -> BTreeSet<(String, String, String)> {
    let template = read("template.yaml");
    let mut routes = BTreeSet::new();
    for block in template.split("Type: AWS::Serverless::Function").skip(1) {
        let values = |name: &str| -> Vec<String> {
            block
                .lines()
                .filter_map(|l| l.trim().strip_prefix(&format!("{name}: ")))
                .map(|v| v.trim().trim_matches('"').to_owned())
                .collect()
        };
        let binary = values("Binary").remove(0);
        for (method, path) in values("Method").into_iter().zip(values("Path")) {
            routes.insert((method, path, binary.clone()));
        }
    }
    routes
}

fn table_routes() -> BTreeSet<(String, String, String)> {
    ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_owned(),
                r.path.to_owned(),
                r.function.to_owned(),
            )
        })
        .collect()
}

#[test]
fn template_routes_table_crates_and_events_agree() {
    let table = table_routes();
    assert_eq!(table.len(), 41);
    let mut expected = table.clone();
    // API Gateway's catch-all route, answered by index with 404/405 envelopes.
    expected.insert(("ANY".into(), "$default".into(), "index".into()));
    assert_eq!(
        template_routes(),
        expected,
        "template.yaml vs shared::http::routes::ROUTES"
    );

    let crates: BTreeSet<String> = std::fs::read_dir(repo().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let routed: BTreeSet<String> = table.iter().map(|(_, _, f)| f.clone()).collect();
    let mut functions = routed.clone();
    functions.extend(OTHER_FUNCTIONS.iter().map(|f| (*f).to_owned()));
    assert_eq!(crates, functions, "functions/ vs the route table");
    // Each function is a member and a default member (what `cargo lambda`
    // and `sam build` compile, without the test harness's features), and a
    // function of the template.
    let workspace = read("Cargo.toml");
    let template = read("template.yaml");
    for function in &functions {
        assert!(
            template.contains(&format!("        Binary: {function}\n")),
            "template.yaml lacks {function}"
        );
        let entry = format!("    \"functions/{function}\",\n");
        assert_eq!(workspace.matches(&entry).count(), 2, "Cargo.toml: {entry}");
    }

    for (method, path, function) in &table {
        assert!(
            dev_server::handler(function).is_some(),
            "dev server lacks {function}"
        );
        let cargo = read(&format!("functions/{function}/Cargo.toml"));
        assert!(
            cargo.contains(&format!("name = \"{function}\"")),
            "{function}/Cargo.toml"
        );
        // One of the function's events is this route's (a function that
        // serves several routes has `<function>.<case>.json` for the others).
        let route_key = format!("{method} {path}");
        let covered = event_files(function).into_iter().any(|event| {
            event["version"] == "2.0"
                && event["routeKey"] == route_key.as_str()
                && event["requestContext"]["routeKey"] == route_key.as_str()
                && event["requestContext"]["http"]["method"] == method.as_str()
        });
        assert!(covered, "no event in events/ for {route_key} ({function})");
    }
    // `<function>.json` is the route's own event; `<function>.<case>.json`
    // are further cases for the same function.
    let events: BTreeSet<String> = std::fs::read_dir(repo().join("events"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let owners: BTreeSet<String> = events
        .iter()
        .map(|e| e.split('.').next().unwrap().to_owned())
        .collect();
    assert_eq!(owners, functions, "events/ vs the route table");
    assert!(functions.iter().all(|f| events.contains(f)), "{events:?}");
}

/// `events/<function>.json` and `events/<function>.<case>.json`, parsed.
fn event_files(function: &str) -> Vec<serde_json::Value> {
    std::fs::read_dir(repo().join("events"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name == &format!("{function}.json")
                || (name.starts_with(&format!("{function}.")) && name.ends_with(".json"))
        })
        .map(|name| serde_json::from_str(&read(&format!("events/{name}"))).unwrap())
        .collect()
}

#[tokio::test]
async fn a_browser_preflight_through_api_gateway_gets_a_2xx() {
    // API Gateway hands OPTIONS requests to the $default route (index) and
    // adds the configured CORS headers to its answer.
    let app = TestApp::spawn().await;
    let request = lambda_http::request::from_str(&read("events/index.preflight.json")).unwrap();
    assert_eq!(request.method(), "OPTIONS");

    let resp = dev_server::handler("index").unwrap()(app.app.clone(), request).await;

    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(resp.headers()["allow"], "POST, OPTIONS");
}

#[tokio::test]
async fn every_event_file_gets_the_contract_answer_from_its_handler() {
    let app = TestApp::spawn().await;
    // In order: the registration event creates the user the login and reset events name.
    let expected = [
        ("index", 200, "user_account"),
        ("registration", 200, "Check your email..."),
        ("login", 200, "success"),
        ("reset_password_request", 200, "Check your email..."),
        ("profile_settings", 401, "authentication required"),
        ("confirm_email", 400, "user not found."),
        ("reset_password", 400, "user not found"),
        ("logout", 401, "authentication required"),
        ("update_profile", 401, "authentication required"),
        ("change_password", 401, "authentication required"),
        ("change_email", 401, "authentication required"),
        ("revert_email", 400, "user not found."),
        ("resend_confirmation", 401, "authentication required"),
        ("sessions", 401, "authentication required"),
        ("security_events", 401, "authentication required"),
        ("end_session", 401, "authentication required"),
        ("logout_all", 401, "authentication required"),
        ("delete_account", 401, "authentication required"),
        ("account_export", 401, "authentication required"),
    ];
    for (function, status, msg) in expected {
        let request = lambda_http::request::from_str(&read(&format!("events/{function}.json")))
            .unwrap_or_else(|e| panic!("events/{function}.json: {e}"));
        let handle = dev_server::handler(function).unwrap();

        let resp = handle(app.app.clone(), request).await;

        let body: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
        assert_eq!(
            (resp.status().as_u16(), body["msg"].as_str().unwrap()),
            (status, msg),
            "{function}"
        );
        assert_eq!(resp.headers()["content-type"], "application/json");
    }
    // The pages function: HTML for each page route, a script, and the
    // envelope for a file it does not have.
    let html = "text/html; charset=utf-8";
    for (event, status, content_type) in [
        ("pages", 200, html),
        ("pages.confirm_email", 200, html),
        ("pages.revert_email", 200, html),
        ("pages.reset_password", 200, html),
        ("pages.asset", 200, "text/javascript; charset=utf-8"),
        ("pages.missing_asset", 404, "application/json"),
    ] {
        let request = lambda_http::request::from_str(&read(&format!("events/{event}.json")))
            .unwrap_or_else(|e| panic!("events/{event}.json: {e}"));
        let resp = dev_server::handler("pages").unwrap()(app.app.clone(), request).await;
        assert_eq!(
            (
                resp.status().as_u16(),
                resp.headers()["content-type"].to_str().unwrap()
            ),
            (status, content_type),
            "{event}"
        );
        if content_type == html {
            let body = std::str::from_utf8(resp.body().as_ref()).unwrap();
            assert!(body.contains("<main"), "{event}");
        }
    }
    // The login event asked to be remembered: a persistent cookie.
    let login = lambda_http::request::from_str(&read("events/login.json")).unwrap();
    let resp = dev_server::handler("login").unwrap()(app.app.clone(), login).await;
    let cookies: Vec<_> = resp.headers().get_all("set-cookie").iter().collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.to_str().unwrap().contains("Max-Age=2592000"))
    );
}

#[tokio::test]
async fn the_default_route_answers_unknown_paths_with_the_envelope() {
    let app = TestApp::spawn().await;
    let handle = dev_server::handler("index").unwrap();
    for (method, path, status, allow) in [
        ("GET", "/nope", 404, None),
        ("GET", "/api/login", 405, Some("POST")),
        ("DELETE", "/api/profile_settings", 405, Some("GET, POST")),
    ] {
        let mut event: serde_json::Value =
            serde_json::from_str(&read("events/index.json")).unwrap();
        event["routeKey"] = "$default".into();
        event["requestContext"]["routeKey"] = "$default".into();
        event["rawPath"] = path.into();
        event["requestContext"]["http"]["path"] = path.into();
        event["requestContext"]["http"]["method"] = method.into();
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();

        let resp = handle(app.app.clone(), request).await;

        let body: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
        assert_eq!(resp.status().as_u16(), status, "{method} {path}");
        assert_eq!(body["status"], "ERR");
        assert_eq!(
            resp.headers().get("allow").map(|v| v.to_str().unwrap()),
            allow,
            "{method} {path}"
        );
    }
}

/// Logical IDs of the template's functions.
fn template_function_ids() -> Vec<String> {
    let template = read("template.yaml");
    let lines: Vec<&str> = template.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[1].trim() == "Type: AWS::Serverless::Function")
        .filter_map(|w| w[0].trim().strip_suffix(':').map(str::to_owned))
        .collect()
}

#[test]
fn samconfig_recovers_from_a_failed_first_deploy_and_sync_ignores_build_output() {
    let samconfig = read("samconfig.toml");
    let sections: Vec<&str> = samconfig.split("\n[").collect();
    let section = |name: &str| {
        sections
            .iter()
            .find(|s| s.starts_with(&format!("{name}]")))
            .unwrap_or_else(|| panic!("samconfig.toml has no [{name}]"))
            .to_string()
    };
    for env in ["default", "prod"] {
        // A failed first create deletes the stack instead of leaving it in
        // ROLLBACK_COMPLETE, where every later deploy fails.
        assert!(
            section(&format!("{env}.deploy.parameters")).contains("on_failure = \"DELETE\""),
            "[{env}.deploy.parameters]"
        );
    }
    // With CodeUri "." the SAM cache hashes the whole repository, target/ included.
    assert!(!samconfig.contains("cached = true"));

    let excludes = section("default.sync.parameters.watch_exclude");
    let ids = template_function_ids();
    assert!(ids.len() >= 8, "{ids:?}");
    for id in ids {
        let line = excludes
            .lines()
            .find(|l| l.starts_with(&format!("{id} =")))
            .unwrap_or_else(|| panic!("samconfig.toml: no watch_exclude for {id}"));
        assert!(line.contains("\"/target/\""), "{line}");
    }
}

/// Every `crate::<module>` path used in the Rust files under `dir`, doc
/// comments and comments excepted.
fn crate_imports(dir: &std::path::Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (i, _) in line.match_indices("crate::") {
                let module: String = line[i + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                // The crate root's constants (lib.rs) are for everyone.
                if !["SERVICE_NAME", "VERSION"].contains(&module.as_str()) {
                    found.insert(module);
                }
            }
        }
    }
    found
}

#[test]
fn layers_of_the_shared_crate_import_only_what_the_architecture_allows() {
    let src = repo().join("shared/src");
    // The table in docs/ARCHITECTURE.md.
    let allowed: [(&str, &[&str]); 5] = [
        ("domain", &["domain", "error", "config"]),
        ("ports", &["ports", "domain", "error", "config"]),
        (
            "adapters",
            &["adapters", "ports", "domain", "error", "config"],
        ),
        ("http", &["http", "ports", "domain", "error", "config"]),
        (
            "setup",
            &[
                "setup", "adapters", "http", "ports", "domain", "error", "config",
            ],
        ),
    ];
    for (layer, may) in allowed {
        let used = crate_imports(&src.join(layer));
        let extra: Vec<_> = used.iter().filter(|m| !may.contains(&m.as_str())).collect();
        assert!(extra.is_empty(), "shared/src/{layer} imports {extra:?}");
    }
    for leaf in ["error.rs", "config.rs"] {
        let used = crate_imports(&src.join(leaf));
        assert!(used.is_empty(), "shared/src/{leaf} imports {used:?}");
    }
    let architecture = read("docs/ARCHITECTURE.md");
    for folder in [
        "`domain/`",
        "`ports/`",
        "`adapters/`",
        "`http/`",
        "`setup/`",
    ] {
        assert!(
            architecture.contains(folder),
            "docs/ARCHITECTURE.md lacks {folder}"
        );
    }
}

/// (METHOD, path) of every operation in openapi.yaml (read as text: paths
/// are the two-space keys under `paths:`, methods the four-space keys).
fn openapi_operations() -> BTreeSet<(String, String)> {
    let spec = read("openapi.yaml");
    let paths = spec
        .split("\npaths:\n")
        .nth(1)
        .and_then(|rest| rest.split("\ncomponents:\n").next())
        .expect("openapi.yaml has paths: and components:");
    let mut ops = BTreeSet::new();
    let mut current = None;
    for line in paths.lines() {
        if let Some(path) = line.strip_prefix("  /") {
            current = Some(format!("/{}", path.trim_end_matches(':').trim_matches('"')));
        } else if let (Some(path), Some(key)) = (&current, line.strip_prefix("    ")) {
            let key = key.trim_end_matches(':');
            if ["get", "post", "put", "patch", "delete", "head", "options"].contains(&key) {
                ops.insert((key.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    ops
}

#[test]
fn openapi_describes_exactly_the_routes_of_the_table_and_the_template() {
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    let template: BTreeSet<(String, String)> = template_routes()
        .into_iter()
        .filter(|(_, path, _)| path != "$default")
        .map(|(method, path, _)| (method, path))
        .collect();

    let spec = openapi_operations();

    assert_eq!(spec, table, "openapi.yaml vs shared::http::routes::ROUTES");
    assert_eq!(spec, template, "openapi.yaml vs template.yaml");
}
