//! The forwarder: reads a batch of the table's stream records, puts one
//! EventBridge event per outbox insert (source `user_account`, the
//! detail-type of the item, a detail with the event's id, the account id,
//! the username and the time: no secret, token or address), and reports
//! the records whose event was not accepted as partial batch failures, so
//! that Lambda retries from the first of them. A retried batch can deliver
//! an event twice: consumers de-duplicate by `detail.id`.

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde_json::{Value, json};
use shared::domain::activity::EVENT_SOURCE;
use shared::http::activity::event_detail;

/// PutEvents takes at most this many entries per call.
pub const MAX_ENTRIES: usize = 10;

/// One outbox insert read from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    /// The stream record's sequence number (the batch item identifier).
    pub sequence: String,
    /// The event's id (de-duplication).
    pub id: String,
    /// The detail-type (as written: one this build does not know is
    /// forwarded all the same, so that writers deployed before the
    /// forwarder lose nothing).
    pub kind: String,
    /// The account.
    pub account_id: String,
    /// Its username.
    pub username: String,
    /// Epoch seconds.
    pub at: i64,
}

impl OutboxRecord {
    /// The event's `detail`: what other systems see.
    pub fn detail(&self) -> Value {
        event_detail(&self.id, &self.account_id, &self.username, self.at)
    }
}

/// A batch: the outbox inserts, in stream order; the sequence numbers of
/// outbox inserts that cannot be read (reported failed: retried, then
/// recorded on the failure queue, never dropped); and how many other
/// records it skipped (the event source's filter lets none through).
#[derive(Debug, Default)]
pub struct Batch {
    /// The readable outbox inserts.
    pub records: Vec<OutboxRecord>,
    /// Outbox inserts that cannot be read.
    pub unreadable: Vec<String>,
    /// Other records.
    pub skipped: usize,
}

/// Reads a batch of stream records.
pub fn read_records(event: &Value) -> Batch {
    let mut batch = Batch::default();
    for record in event["Records"].as_array().into_iter().flatten() {
        if record["eventName"] != "INSERT" || !is_outbox(record) {
            batch.skipped += 1;
            continue;
        }
        match (
            outbox_record(record),
            record["dynamodb"]["SequenceNumber"].as_str(),
        ) {
            (Some(r), _) => batch.records.push(r),
            (None, Some(sequence)) => {
                tracing::error!(sequence, "outbox record unreadable: reported failed");
                batch.unreadable.push(sequence.to_owned());
            }
            // Without a sequence number Lambda cannot be told which it was.
            (None, None) => {
                tracing::error!("outbox record without a sequence number: skipped");
                batch.skipped += 1;
            }
        }
    }
    batch
}

fn is_outbox(record: &Value) -> bool {
    record["dynamodb"]["Keys"]["pk"]["S"]
        .as_str()
        .is_some_and(|pk| pk.starts_with(shared::adapters::OUTBOX_PREFIX))
}

fn outbox_record(record: &Value) -> Option<OutboxRecord> {
    let image = &record["dynamodb"]["NewImage"];
    let text = |name: &str| image[name]["S"].as_str().map(str::to_owned);
    Some(OutboxRecord {
        sequence: record["dynamodb"]["SequenceNumber"].as_str()?.to_owned(),
        id: text("id")?,
        kind: image["detail_type"]["S"]
            .as_str()
            .filter(|k| !k.is_empty())?
            .to_owned(),
        account_id: text("account_id")?,
        username: text("username")?,
        at: image["at"]["N"].as_str()?.parse().ok()?,
    })
}

/// Where events go: EventBridge, or a test's stand-in.
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Puts `records`' events (at most [`MAX_ENTRIES`]); for each, whether
    /// it was accepted. An error: none was.
    async fn put(&self, records: &[OutboxRecord]) -> anyhow::Result<Vec<bool>>;
}

/// The sequence numbers of the records whose event was not accepted.
pub async fn forward(sink: &dyn EventSink, records: &[OutboxRecord]) -> Vec<String> {
    let mut failed = Vec::new();
    for chunk in records.chunks(MAX_ENTRIES) {
        match sink.put(chunk).await {
            Ok(accepted) => {
                for (record, ok) in chunk
                    .iter()
                    .zip(accepted.iter().chain(std::iter::repeat(&false)))
                {
                    if !ok {
                        failed.push(record.sequence.clone());
                    }
                }
            }
            Err(err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    entries = chunk.len(),
                    "PutEvents failed"
                );
                failed.extend(chunk.iter().map(|r| r.sequence.clone()));
            }
        }
    }
    failed
}

/// The whole invocation: the batch in, the partial batch response out.
pub async fn forward_event(sink: &dyn EventSink, event: &Value) -> Value {
    let Batch {
        records,
        unreadable,
        skipped,
    } = read_records(event);
    let mut failed = forward(sink, &records).await;
    tracing::info!(
        event = "events_forwarded",
        delivered = records.len() - failed.len(),
        failed = failed.len(),
        unreadable = unreadable.len(),
        skipped,
        "batch forwarded"
    );
    failed.extend(unreadable);
    json!({
        "batchItemFailures": failed
            .iter()
            .map(|s| json!({ "itemIdentifier": s }))
            .collect::<Vec<_>>(),
    })
}

/// EventBridge's PutEvents on one bus.
#[derive(Debug, Clone)]
pub struct EventBridgeSink {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBridgeSink {
    /// Puts on `bus` (a name or an ARN) through `client`.
    pub fn new(client: aws_sdk_eventbridge::Client, bus: String) -> Self {
        Self { client, bus }
    }
}

#[async_trait]
impl EventSink for EventBridgeSink {
    async fn put(&self, records: &[OutboxRecord]) -> anyhow::Result<Vec<bool>> {
        let entries = records
            .iter()
            .map(|r| {
                PutEventsRequestEntry::builder()
                    .source(EVENT_SOURCE)
                    .detail_type(&r.kind)
                    .detail(r.detail().to_string())
                    .event_bus_name(&self.bus)
                    .time(aws_sdk_eventbridge::primitives::DateTime::from_secs(r.at))
                    .build()
            })
            .collect();
        let out = self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await?;
        Ok(out
            .entries()
            .iter()
            .map(|e| e.error_code().is_none() && e.event_id().is_some())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use shared::domain::activity::EventKind;

    use super::*;

    /// Accepts everything, except entry `fail_at` of its first call.
    struct Flaky {
        fail_at: Option<usize>,
        delivered: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl EventSink for Flaky {
        async fn put(&self, records: &[OutboxRecord]) -> anyhow::Result<Vec<bool>> {
            let mut delivered = self.delivered.lock().unwrap();
            let first_call = delivered.is_empty();
            Ok(records
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let fail = first_call && self.fail_at == Some(i);
                    if !fail {
                        delivered.push(r.id.clone());
                    }
                    !fail
                })
                .collect())
        }
    }

    fn stream_record(seq: u32, kind: &str) -> Value {
        json!({
            "eventID": format!("e{seq}"),
            "eventName": "INSERT",
            "eventSource": "aws:dynamodb",
            "dynamodb": {
                "Keys": {"pk": {"S": format!("OUTBOX#{seq:032x}")}, "sk": {"S": "OUTBOX"}},
                "NewImage": {
                    "pk": {"S": format!("OUTBOX#{seq:032x}")}, "sk": {"S": "OUTBOX"},
                    "id": {"S": format!("{seq:032x}")},
                    "detail_type": {"S": kind},
                    "account_id": {"S": "acc"},
                    "username": {"S": "Jo"},
                    "at": {"N": "1764950000"},
                    "expires_at": {"N": "1765036400"}
                },
                "SequenceNumber": format!("{:021}", seq),
                "StreamViewType": "NEW_IMAGE"
            }
        })
    }

    #[tokio::test]
    async fn a_failure_mid_batch_is_retried_and_nothing_is_lost_or_invented() {
        let mut records: Vec<Value> = (1..=4)
            .map(|i| stream_record(i, "UserRegistered"))
            .collect();
        // Not ours: skipped, never reported.
        let mut profile = stream_record(9, "UserRegistered");
        profile["dynamodb"]["Keys"]["pk"]["S"] = json!("USER#jo");
        records.insert(2, profile);
        let mut modify = stream_record(8, "UserRegistered");
        modify["eventName"] = json!("MODIFY");
        records.push(modify);
        let event = json!({ "Records": records });
        let sink = Flaky {
            fail_at: Some(1),
            delivered: Mutex::new(Vec::new()),
        };
        let answer = forward_event(&sink, &event).await;
        assert_eq!(
            answer,
            json!({"batchItemFailures": [{"itemIdentifier": format!("{:021}", 2)}]})
        );
        // Lambda sends the batch again from the failed record on.
        let batch = read_records(&event);
        assert_eq!((batch.records.len(), batch.skipped), (4, 2));
        let all = batch.records;
        let again: Vec<OutboxRecord> = all.iter().skip(1).cloned().collect();
        assert!(forward(&sink, &again).await.is_empty());
        let delivered = sink.delivered.lock().unwrap().clone();
        let mut unique = delivered.clone();
        unique.sort();
        unique.dedup();
        let expected: Vec<String> = all.iter().map(|r| r.id.clone()).collect();
        assert_eq!(unique, expected, "every event once after de-duplication");
        assert_eq!(delivered.len(), 6, "records 3 and 4 came twice");
    }

    #[test]
    fn the_detail_names_the_account_and_nothing_else() {
        let records =
            read_records(&json!({ "Records": [stream_record(7, "AccountDeleted")] })).records;
        let detail = records[0].detail();
        let mut keys: Vec<&String> = detail.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["account_id", "at", "id", "username"]);
        assert_eq!(detail["at"], "2025-12-05T15:53:20Z");
        assert_eq!(records[0].kind, EventKind::AccountDeleted.as_str());
    }

    #[tokio::test]
    async fn a_failed_call_fails_its_whole_chunk_only() {
        struct Down;
        #[async_trait]
        impl EventSink for Down {
            async fn put(&self, r: &[OutboxRecord]) -> anyhow::Result<Vec<bool>> {
                if r.len() == MAX_ENTRIES {
                    anyhow::bail!("throttled")
                }
                Ok(vec![true; r.len()])
            }
        }
        let records: Vec<Value> = (1..=12)
            .map(|i| stream_record(i, "PasswordChanged"))
            .collect();
        let all = read_records(&json!({ "Records": records })).records;
        let failed = forward(&Down, &all).await;
        assert_eq!(failed.len(), MAX_ENTRIES);
        assert_eq!(failed[0], format!("{:021}", 1));
    }

    #[tokio::test]
    async fn an_unknown_kind_is_forwarded_and_an_unreadable_record_reported() {
        let mut broken = stream_record(2, "UserRegistered");
        broken["dynamodb"]["NewImage"]
            .as_object_mut()
            .unwrap()
            .remove("account_id");
        let event = json!({ "Records": [stream_record(1, "SomethingNew"), broken] });
        let sink = Flaky {
            fail_at: None,
            delivered: Mutex::new(Vec::new()),
        };
        let answer = forward_event(&sink, &event).await;
        assert_eq!(
            answer,
            json!({"batchItemFailures": [{"itemIdentifier": format!("{:021}", 2)}]})
        );
        assert_eq!(sink.delivered.lock().unwrap().len(), 1);
    }
}
