//! `cargo run -p dev-server`: every endpoint on 127.0.0.1:$PORT.

use std::sync::Arc;

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::setup::telemetry::init_dev();
    let settings = dev_server::Settings::from_lookup(|name| std::env::var(name).ok())?;
    let port = settings.port;
    let cors_origins = settings.cors_origins.clone();
    let events_file = settings.events_file.clone();
    let dev_server::Built {
        app,
        mut notes,
        mailbox,
        events,
    } = dev_server::build_app(settings).await?;
    if let Some(store) = events {
        tokio::spawn(dev_server::events::drain_forever(store, events_file));
    }
    let options = dev_server::Options {
        cors_origins,
        mailbox: Some(mailbox),
        ..dev_server::Options::default()
    };
    if !options.cors_origins.is_empty() {
        notes.push(format!("CORS: {}", options.cors_origins.join(", ")));
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("bind 127.0.0.1:{port}"))?;
    println!("user_account dev server listening on http://127.0.0.1:{port}");
    println!("the account page: http://127.0.0.1:{port}/account");
    for note in notes {
        println!("{note}");
    }
    println!("press Ctrl-C to stop");
    dev_server::serve(listener, Arc::new(app), options, async {
        shutdown_signal().await;
        println!("stopping");
    })
    .await?;
    Ok(())
}

/// Ctrl-C, or SIGTERM (what process managers and CI scripts send).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
