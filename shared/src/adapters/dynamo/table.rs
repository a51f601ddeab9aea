//! Creating the table locally (the dev server with `CREATE_TABLE=1`, tests):
//! production tables come from template.yaml.

use std::time::Duration;

use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TimeToLiveSpecification,
};

use super::DynamoStore;
use super::items::TTL_ATTRIBUTE;

impl DynamoStore {
    /// Creates the table with the template's key schema and TTL setting if it
    /// does not exist (for local use: production tables come from template.yaml).
    pub async fn ensure_table(&self) -> anyhow::Result<()> {
        let exists = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await;
        match exists {
            Ok(_) => return Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) => {}
            Err(e) => anyhow::bail!("describe table: {}", DisplayErrorContext(&e)),
        }
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            // As template.yaml: the outbox's inserts reach the forwarder.
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewImage)
                    .build()?,
            )
            .send()
            .await;
        if let Err(e) = created {
            // Another process may have created it meanwhile.
            if !e
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception())
            {
                anyhow::bail!("create table: {}", DisplayErrorContext(&e));
            }
        }
        self.client
            .wait_until_table_exists()
            .table_name(&self.table)
            .wait(Duration::from_secs(30))
            .await
            .map_err(|e| anyhow::anyhow!("wait for the table: {}", DisplayErrorContext(&e)))?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("enable TTL: {}", DisplayErrorContext(&e)))?;
        Ok(())
    }
}
