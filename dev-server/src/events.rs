//! The dev server's stand-in for the table's stream and the forwarder: the
//! memory store's outbox, drained every second to the log
//! (`event="account_event"`) and, with `EVENTS_FILE`, to that file as JSON
//! lines shaped as a rule's target receives them from EventBridge.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use shared::adapters::MemoryStore;
use shared::http::activity::event_envelope;

/// Drains `store`'s outbox once; how many events it carried.
pub fn drain_once(store: &MemoryStore, file: Option<&Path>) -> anyhow::Result<usize> {
    let events = store.drain_events()?;
    if events.is_empty() {
        return Ok(0);
    }
    let mut lines = String::new();
    for event in &events {
        let envelope = event_envelope(event);
        tracing::info!(
            event = "account_event",
            detail_type = event.kind.as_str(),
            id = %event.id,
            "account event"
        );
        lines.push_str(&envelope.to_string());
        lines.push('\n');
    }
    if let Some(path) = file {
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(lines.as_bytes()));
        if let Err(e) = written {
            // Back in the outbox, for the next try: none is lost.
            let n = events.len();
            store.requeue_events(events)?;
            anyhow::bail!("append {n} events to EVENTS_FILE {}: {e}", path.display());
        }
    }
    Ok(events.len())
}

/// Drains `store`'s outbox every second, for ever.
pub async fn drain_forever(store: Arc<MemoryStore>, file: Option<PathBuf>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(err) = drain_once(&store, file.as_deref()) {
            tracing::warn!(error = format!("{err:#}"), "account events not drained");
        }
    }
}
