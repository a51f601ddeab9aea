//! The SDK's HTTP client (`shared::adapters::aws::https_client`): it trusts
//! the roots compiled in and the bundle `AWS_CA_BUNDLE` names, never this
//! machine's certificate store, and goes through the proxy it is given
//! (`HTTP(S)_PROXY` in production). A local TLS endpoint with a test CA
//! stands in for a private endpoint (`tests/fixtures/tls`: a CA, and a
//! certificate for localhost and 127.0.0.1 it signed; test-only keys, valid
//! from 2000 to 2126).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::proxy::ProxyConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tls");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).expect("TLS fixture")
}

/// One SDK request, head and body (a small JSON document, which comes with
/// or right after the head); `None` if the connection ends first.
async fn read_request(stream: &mut (impl AsyncRead + Unpin)) -> Option<Vec<u8>> {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
        if request.windows(4).any(|w| w == b"\r\n\r\n") && request.ends_with(b"}") {
            return Some(request);
        }
    }
}

/// An HTTPS endpoint that answers every request as DynamoDB answers a
/// GetItem that finds nothing; counts the requests that got through TLS.
async fn endpoint() -> (String, Arc<AtomicUsize>) {
    let certs = CertificateDer::pem_slice_iter(&fixture("server.pem"))
        .collect::<Result<Vec<_>, _>>()
        .expect("server certificate");
    let key = PrivateKeyDer::from_pem_slice(&fixture("server.key")).expect("server key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("port").port();
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let count = count.clone();
            tokio::spawn(async move {
                // A failed handshake is what the untrusting client causes.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if read_request(&mut tls).await.is_none() {
                    return;
                }
                count.fetch_add(1, Ordering::SeqCst);
                let body = "{}";
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (format!("https://localhost:{port}"), served)
}

/// A GetItem through a client on `https_client(extra, proxy)`, configured
/// as in production but for the endpoint.
async fn get_item_via(
    endpoint: &str,
    extra: Option<Vec<u8>>,
    proxy: ProxyConfig,
) -> Result<(), String> {
    let http = shared::adapters::aws::https_client(extra, proxy).map_err(|e| format!("{e:#}"))?;
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(endpoint)
        .http_client(http)
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
        .get_item()
        .table_name("users")
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("u".into()))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("u".into()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))
}

async fn get_item(endpoint: &str, extra: Option<Vec<u8>>) -> Result<(), String> {
    get_item_via(endpoint, extra, ProxyConfig::disabled()).await
}

#[tokio::test]
async fn an_endpoint_signed_by_an_unknown_authority_is_refused() {
    let (url, served) = endpoint().await;
    let err = get_item(&url, None)
        .await
        .expect_err("an untrusted endpoint");
    assert!(
        err.to_ascii_lowercase().contains("certificate"),
        "a certificate error, not {err}"
    );
    assert_eq!(served.load(Ordering::SeqCst), 0, "no request got through");
}

#[tokio::test]
async fn aws_ca_bundle_adds_an_authority_to_the_compiled_in_roots() {
    let (url, served) = endpoint().await;
    get_item(&url, Some(fixture("ca.pem")))
        .await
        .expect("the bundle's authority is trusted");
    assert_eq!(served.load(Ordering::SeqCst), 1);
}

/// A plain-HTTP forward proxy that answers every request itself, as
/// DynamoDB answers a GetItem that finds nothing; keeps each request line.
async fn proxy() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("port").port();
    let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = lines.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let Some(head) = read_request(&mut tcp).await else {
                    return;
                };
                let text = String::from_utf8_lossy(&head);
                let line = text.lines().next().unwrap_or_default().to_string();
                seen.lock().expect("lines").push(line);
                let _ = tcp
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n\
                          content-length: 2\r\nconnection: close\r\n\r\n{}",
                    )
                    .await;
            });
        }
    });
    (format!("http://127.0.0.1:{port}"), lines)
}

#[tokio::test]
async fn requests_go_through_the_proxy_given() {
    let (proxy_url, lines) = proxy().await;
    // A host nobody can resolve: only the proxy can answer for it.
    let endpoint = "http://dynamodb.user-account.invalid";
    assert!(
        get_item(endpoint, None).await.is_err(),
        "without the proxy the endpoint is unreachable"
    );
    let proxy = ProxyConfig::http(proxy_url.as_str()).expect("proxy URL");
    get_item_via(endpoint, None, proxy)
        .await
        .expect("answered through the proxy");
    let lines = lines.lock().expect("lines").clone();
    assert_eq!(lines, [format!("POST {endpoint}/ HTTP/1.1")]);
}
