//! All user_account handlers in one local HTTP server.
//!
//! Each request is turned into the same `lambda_http::Request` API Gateway
//! would produce (path parameters and source IP in the request context) and
//! given to the very handler function the Lambda binary runs.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, State};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{RequestExt, Response};
use shared::App;
use shared::error::ApiError;
use shared::http::routes::{RouteMatch, match_route};
use shared::http::{MAX_BODY_BYTES, error_response, guard, unrouted_response};
use tokio::net::TcpListener;
use tower::ServiceExt;

pub mod events;
mod mailbox;
mod settings;

pub use mailbox::DevMailbox;

pub use settings::{Built, Settings, build_app};

type HandlerFuture = Pin<Box<dyn Future<Output = Response<lambda_http::Body>> + Send>>;
type Handler = fn(Arc<App>, lambda_http::Request) -> HandlerFuture;

/// The handler of a function crate, by the name the route table uses.
pub fn handler(function: &str) -> Option<Handler> {
    let h: Handler = match function {
        "index" => |_, r| Box::pin(index::handle(r)),
        "login" => |a, r| Box::pin(login::handle(a, r)),
        "registration" => |a, r| Box::pin(registration::handle(a, r)),
        "reset_password_request" => |a, r| Box::pin(reset_password_request::handle(a, r)),
        "profile_settings" => |a, r| Box::pin(profile_settings::handle(a, r)),
        "confirm_email" => |a, r| Box::pin(confirm_email::handle(a, r)),
        "reset_password" => |a, r| Box::pin(reset_password::handle(a, r)),
        "logout" => |a, r| Box::pin(logout::handle(a, r)),
        "account_export" => |a, r| Box::pin(account_export::handle(a, r)),
        "delete_account" => |a, r| Box::pin(delete_account::handle(a, r)),
        "logout_all" => |a, r| Box::pin(logout_all::handle(a, r)),
        "end_session" => |a, r| Box::pin(end_session::handle(a, r)),
        "sessions" => |a, r| Box::pin(sessions::handle(a, r)),
        "security_events" => |a, r| Box::pin(security_events::handle(a, r)),
        "resend_confirmation" => |a, r| Box::pin(resend_confirmation::handle(a, r)),
        "revert_email" => |a, r| Box::pin(revert_email::handle(a, r)),
        "change_email" => |a, r| Box::pin(change_email::handle(a, r)),
        "change_password" => |a, r| Box::pin(change_password::handle(a, r)),
        "update_profile" => |a, r| Box::pin(update_profile::handle(a, r)),
        "pages" => |_, r| Box::pin(pages::handle(r)),
        "whoami" => |a, r| Box::pin(whoami::handle(a, r)),
        "mfa_status" => |a, r| Box::pin(mfa_status::handle(a, r)),
        "totp_setup" => |a, r| Box::pin(totp_setup::handle(a, r)),
        "totp_confirm" => |a, r| Box::pin(totp_confirm::handle(a, r)),
        "recovery_codes" => |a, r| Box::pin(recovery_codes::handle(a, r)),
        "mfa_disable" => |a, r| Box::pin(mfa_disable::handle(a, r)),
        "login_mfa" => |a, r| Box::pin(login_mfa::handle(a, r)),
        "passkey_register_start" => |a, r| Box::pin(passkey_register_start::handle(a, r)),
        "passkey_register_finish" => |a, r| Box::pin(passkey_register_finish::handle(a, r)),
        "passkeys" => |a, r| Box::pin(passkeys::handle(a, r)),
        "passkey_remove" => |a, r| Box::pin(passkey_remove::handle(a, r)),
        "passkey_login_start" => |a, r| Box::pin(passkey_login_start::handle(a, r)),
        "passkey_login_finish" => |a, r| Box::pin(passkey_login_finish::handle(a, r)),
        "token" => |a, r| Box::pin(token::handle(a, r)),
        "jwks" => |a, r| Box::pin(jwks::handle_app(a, r)),
        "openid_configuration" => |a, r| Box::pin(openid_configuration::handle_app(a, r)),
        _ => return None,
    };
    Some(h)
}

/// What the dev server adds around the handlers.
#[derive(Debug, Clone)]
pub struct Options {
    /// Browser origins allowed by CORS (`CORS_ORIGINS`), as API Gateway's
    /// CORS configuration in template.yaml allows them in production.
    pub cors_origins: Vec<String>,
    /// A client that has not sent a whole request head within this long is
    /// disconnected (slow-request protection; 10 s).
    pub header_read_timeout: Duration,
    /// Serves `/dev/mail` (the mailbox page) when set.
    pub mailbox: Option<DevMailbox>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            header_read_timeout: Duration::from_secs(10),
            mailbox: None,
        }
    }
}

struct Server {
    app: Arc<App>,
    options: Options,
}

/// The axum router serving every route of the table.
pub fn router(app: Arc<App>, options: Options) -> Router {
    Router::new()
        .fallback(dispatch)
        .with_state(Arc::new(Server { app, options }))
}

/// The request line and headers API Gateway accepts (its HTTP API quota
/// "request line and header values", 10 KiB); the dev server answers
/// larger ones with the envelope, as far as hyper hands them over.
const MAX_HEAD_BYTES: usize = 10 * 1024;
/// More headers than this get 431 with the envelope.
const MAX_HEADERS: usize = 100;
/// What hyper itself accepts, so that requests between our limits and these
/// reach `dispatch` and get the envelope. Beyond these (a URI over 64 KiB,
/// more than this many headers) or for a request line hyper cannot parse,
/// hyper answers 414, 431 or 400 itself with an empty body: it offers no
/// hook for those answers.
const HYPER_MAX_HEADERS: usize = 1000;
/// Serves `app` on `listener` until `shutdown` resolves, then lets the
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let header_read_timeout = options.header_read_timeout;
    let router = router(app, options);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(err) => {
                    // Out of file descriptors and the like: wait, go on.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req.map(axum::body::Body::new))
        });
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .max_headers(HYPER_MAX_HEADERS)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(err) = conn.await {
                tracing::debug!(error = %err, "connection ended");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The envelope for a request head over API Gateway's limits, if it is.
fn oversized_head(parts: &axum::http::request::Parts) -> Option<ApiError> {
    let line = parts.method.as_str().len() + parts.uri.to_string().len() + 10;
    if line > MAX_HEAD_BYTES {
        return Some(ApiError::UriTooLong);
    }
    let headers: usize = parts
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    (parts.headers.len() > MAX_HEADERS || line + headers > MAX_HEAD_BYTES)
        .then_some(ApiError::HeadersTooLarge)
}

/// The request's Origin, when CORS allows it.
fn allowed_origin(server: &Server, headers: &axum::http::HeaderMap) -> Option<String> {
    let origin = headers.get(axum::http::header::ORIGIN)?.to_str().ok()?;
    server
        .options
        .cors_origins
        .iter()
        .any(|o| o == origin)
        .then(|| origin.to_owned())
}

fn add_cors(resp: &mut Response<lambda_http::Body>, origin: &str) {
    use lambda_http::http::HeaderValue;
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        headers.insert("access-control-allow-origin", v);
        headers.insert(
            "access-control-allow-credentials",
            HeaderValue::from_static("true"),
        );
        headers.append("vary", HeaderValue::from_static("Origin"));
        // As the template's CorsConfiguration: scripts on another origin
        // may read how long to wait after a 429 or 503.
        headers.insert(
            "access-control-expose-headers",
            HeaderValue::from_static("Retry-After"),
        );
    }
}

/// What API Gateway adds to a preflight answer for an allowed origin
/// (template.yaml's `CorsConfiguration`).
fn add_preflight_cors(resp: &mut Response<lambda_http::Body>) {
    use lambda_http::http::HeaderValue;
    let headers = resp.headers_mut();
    headers.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
    );
    headers.insert(
        "access-control-allow-headers",
        HeaderValue::from_static("Content-Type, Authorization, X-CSRF-TOKEN, X-Device-Token"),
    );
    headers.insert("access-control-max-age", HeaderValue::from_static("600"));
}

/// Bodies are read up to this size; the handler answers 413 above 16 KiB, the
/// dev server itself above this.
const READ_LIMIT: usize = 4 * MAX_BODY_BYTES;

async fn dispatch(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let origin = allowed_origin(&server, &parts.headers);
    let app = server.app.clone();
    // HEAD is GET without the body (RFC 9110): routed and answered as GET.
    let head = method == axum::http::Method::HEAD;
    let routed_as = if head { "GET" } else { method.as_str() };
    // Only the route pattern is logged: real paths can hold one-time tokens.
    let dev_page = match (&server.options.mailbox, routed_as) {
        (Some(mailbox), "GET") => mailbox::serve(mailbox, &parts.uri),
        _ => None,
    };
    let (label, resp) = match (
        oversized_head(&parts),
        dev_page,
        match_route(routed_as, parts.uri.path()),
    ) {
        (Some(err), _, _) => ("-", error_response(&err)),
        (None, Some(page), _) => (mailbox::PAGE, page),
        (None, None, RouteMatch::NotFound | RouteMatch::MethodNotAllowed(_)) => {
            ("-", unrouted_response(method.as_str(), parts.uri.path()))
        }
        (None, None, RouteMatch::Found(route, params)) => {
            let declared = parts
                .headers
                .get(axum::http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok());
            let resp = match declared {
                // Refuse a declared oversize body without waiting for it.
                Some(len) if len > MAX_BODY_BYTES => Err(()),
                _ => axum::body::to_bytes(body, READ_LIMIT).await.map_err(|_| ()),
            };
            let resp = match resp {
                Err(_) => error_response(&ApiError::PayloadTooLarge),
                Ok(bytes) => match handler(route.function) {
                    None => error_response(&ApiError::internal(anyhow::anyhow!(
                        "no handler for {}",
                        route.function
                    ))),
                    // Behind edge protection (a test app holding the origin
                    // secret), as the Lambda wrapper does for these functions.
                    Some(_)
                        if shared::http::routes::EDGE_GUARDED.contains(&route.function)
                            && shared::http::limits::from_the_edge_headers(
                                &app,
                                &parts.headers,
                            )
                            .is_err() =>
                    {
                        error_response(&ApiError::Forbidden)
                    }
                    Some(handle) => {
                        let mut context = ApiGatewayV2httpRequestContext::default();
                        context.route_key = Some(format!("{} {}", route.method, route.path));
                        context.http.method = if head {
                            axum::http::Method::GET
                        } else {
                            method.clone()
                        };
                        context.http.source_ip = Some(peer.ip().to_string());
                        let params: HashMap<String, String> = params.into_iter().collect();
                        let request = lambda_http::Request::from_parts(
                            parts,
                            lambda_http::Body::from(bytes.to_vec()),
                        )
                        .with_path_parameters(params)
                        .with_request_context(RequestContext::ApiGatewayV2(context));
                        let trail = shared::http::activity::trail_of(&app, &request);
                        guard(trail.scope(handle(app, request))).await
                    }
                },
            };
            (route.path, resp)
        }
    };
    tracing::info!(
        method = %method,
        route = label,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    let mut resp = resp;
    // The mailbox holds every link of the run: no other origin reads it.
    let origin = origin.filter(|_| label != mailbox::PAGE);
    if let Some(origin) = &origin {
        if method == axum::http::Method::OPTIONS && resp.status().is_success() {
            add_preflight_cors(&mut resp);
        }
        add_cors(&mut resp, origin);
    }
    // For HEAD, hyper sends the headers GET would (Content-Length included)
    // and no body.
    into_axum(resp)
}

fn into_axum(resp: Response<lambda_http::Body>) -> axum::response::Response {
    let (parts, body) = resp.into_parts();
    let body = match body {
        lambda_http::Body::Empty => axum::body::Body::empty(),
        lambda_http::Body::Text(s) => axum::body::Body::from(s),
        lambda_http::Body::Binary(b) => axum::body::Body::from(b),
        _ => axum::body::Body::empty(),
    };
    axum::response::Response::from_parts(parts, body)
}
