//! `cargo run -p dev-server`: every endpoint on 127.0.0.1:$PORT.

use std::sync::Arc;

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init_dev();
    let settings = dev_server::Settings::from_lookup(|name| std::env::var(name).ok())?;
    let port = settings.port;
    let (app, notes) = dev_server::build_app(settings).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("bind 127.0.0.1:{port}"))?;
    println!("user_account dev server listening on http://127.0.0.1:{port}");
    for note in notes {
        println!("{note}");
    }
    println!("press Ctrl-C to stop");
    dev_server::serve(listener, Arc::new(app), async {
        let _ = tokio::signal::ctrl_c().await;
        println!("stopping");
    })
    .await?;
    Ok(())
}
