//! The `dev-server` binary as a user runs it: it prints its URL and outbox,
//! serves, writes mail to OUTBOX_DIR, and stops cleanly on Ctrl-C (SIGINT).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

type Output = std::io::Lines<BufReader<std::process::ChildStdout>>;

/// What the server printed up to "press Ctrl-C" (it is then serving), and
/// the rest of its output.
fn until_ready(child: &mut std::process::Child) -> (Output, Vec<String>) {
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        let done = line.starts_with("press Ctrl-C");
        printed.push(line);
        if done {
            break;
        }
    }
    (lines, printed)
}

#[test]
fn prints_where_it_is_serves_and_stops_on_ctrl_c() {
    let port = free_port();
    let outbox = std::env::temp_dir().join(format!("dev-server-outbox-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_dev-server"))
        .env("PORT", port.to_string())
        .env("OUTBOX_DIR", &outbox)
        .env_remove("JWT_SECRET")
        .env_remove("STORE")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (_output, printed) = until_ready(&mut child);

    let root = http(
        port,
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let body = r#"{"username":"Admin","full_name":"A","email":"a@example.com","phone":null,"contacts":null,"pwd":"S3cure-Passw0rd!"}"#;
    let registration = http(
        port,
        &format!(
            "POST /api/registration HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    let mails = std::fs::read_dir(&outbox).unwrap().count();
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = std::fs::remove_dir_all(&outbox);

    let printed = printed.join("\n");
    assert!(
        printed.contains(&format!("http://127.0.0.1:{port}")),
        "{printed}"
    );
    assert!(printed.contains("outbox: "), "{printed}");
    assert!(printed.contains("JWT_SECRET is not set"), "{printed}");
    assert!(root.starts_with("HTTP/1.1 200"), "{root}");
    assert!(root.contains(r#""status":"OK""#), "{root}");
    assert!(
        registration.contains("Check your email..."),
        "{registration}"
    );
    assert_eq!(mails, 1);
    assert!(status.success(), "{status:?}");
}

/// `/dev/mail`: the mail the server "sent", newest first, links clickable,
/// and the mail it did not send (here: the address's budget of 1 is used
/// up by the first registration) shown and logged with the reason.
#[test]
fn the_dev_mailbox_lists_mail_sent_and_not_sent() {
    let port = free_port();
    let outbox = std::env::temp_dir().join(format!("dev-server-mailbox-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_dev-server"))
        .env("PORT", port.to_string())
        .env("OUTBOX_DIR", &outbox)
        .env("ADDRESS_MAIL_LIMIT", "1")
        .env_remove("STORE")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, printed) = until_ready(&mut child);
    for username in ["ada", "bea"] {
        let body = format!(
            r#"{{"username":"{username}","full_name":"A","email":"shared@example.com","phone":null,"contacts":null,"pwd":"S3cure-Passw0rd!"}}"#
        );
        let answer = http(
            port,
            &format!(
                "POST /api/registration HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        );
        assert!(answer.contains("Check your email..."), "{answer}");
    }
    let get = |path: &str| {
        let answer = http(
            port,
            &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        );
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{answer}");
        (head.to_owned(), body.to_owned())
    };
    let (_, json) = get("/dev/mail.json?to=SHARED%40example.com");
    let (_, other) = get("/dev/mail.json?to=nobody%40example.com");
    let (head, page) = get("/dev/mail");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut logged = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logged)
        .unwrap();
    // The log goes to stdout or stderr, whichever the logger writes.
    logged.extend(lines.map_while(Result::ok).map(|l| l + "\n"));
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&outbox);

    let listed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(listed["store"], "memory");
    let mail = listed["mail"].as_array().unwrap();
    assert_eq!(mail.len(), 2, "{json}");
    // Newest first: the second registration's link was not sent.
    assert_eq!(mail[0]["sent"], false);
    assert!(
        mail[0]["reason"]
            .as_str()
            .unwrap()
            .contains("ADDRESS_MAIL_LIMIT"),
        "{json}"
    );
    assert_eq!(mail[0]["links"], serde_json::json!([]));
    assert_eq!(mail[1]["sent"], true);
    assert_eq!(mail[1]["to"], "shared@example.com");
    assert_eq!(mail[1]["subject"], "Confirm your email address");
    let link = mail[1]["links"][0].as_str().unwrap();
    assert!(
        link.starts_with(&format!("http://127.0.0.1:{port}/confirm_email/")),
        "{link}"
    );
    assert!(mail[1]["file"].as_str().unwrap().ends_with(".eml"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&other).unwrap()["mail"],
        serde_json::json!([])
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/html"),
        "{head}"
    );
    assert!(page.contains(&format!("<a href=\"{link}\">")), "{page}");
    assert!(page.contains("Not sent: the address"), "{page}");
    assert!(
        printed
            .iter()
            .any(|l| l.ends_with(&format!("127.0.0.1:{port}/dev/mail"))),
        "{printed:?}"
    );
    assert!(
        logged.contains("email not sent") && logged.contains("ADDRESS_MAIL_LIMIT"),
        "{logged}"
    );
}
