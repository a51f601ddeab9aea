//! An SDK interceptor that counts the DynamoDB calls a client makes and
//! the IAM actions they need.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_sdk_dynamodb::error::BoxError;

/// Records the DynamoDB operations a client sends (one entry per call, not
/// per retry) and the IAM actions they need (a transaction needs those of its items).
#[derive(Debug, Clone, Default)]
pub(super) struct Calls(Arc<Mutex<(Vec<&'static str>, BTreeSet<&'static str>)>>);

impl Calls {
    pub(super) fn take(&self) -> (Vec<&'static str>, BTreeSet<&'static str>) {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Intercept for Calls {
    fn name(&self) -> &'static str {
        "Calls"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation as op;
        let input = context.input();
        macro_rules! name {
            ($($module:ident :: $ty:ident => $name:literal),* $(,)?) => {
                $( if input.downcast_ref::<op::$module::$ty>().is_some() { $name } else )* { "other" }
            };
        }
        let name = name!(
            get_item::GetItemInput => "GetItem",
            put_item::PutItemInput => "PutItem",
            update_item::UpdateItemInput => "UpdateItem",
            delete_item::DeleteItemInput => "DeleteItem",
            batch_get_item::BatchGetItemInput => "BatchGetItem",
            batch_write_item::BatchWriteItemInput => "BatchWriteItem",
            transact_write_items::TransactWriteItemsInput => "TransactWriteItems",
            query::QueryInput => "Query",
        );
        let mut actions = BTreeSet::new();
        match input.downcast_ref::<op::transact_write_items::TransactWriteItemsInput>() {
            Some(t) => {
                for item in t.transact_items() {
                    if item.put().is_some() {
                        actions.insert("PutItem");
                    }
                    if item.update().is_some() {
                        actions.insert("UpdateItem");
                    }
                    if item.delete().is_some() {
                        actions.insert("DeleteItem");
                    }
                    if item.condition_check().is_some() {
                        actions.insert("ConditionCheckItem");
                    }
                }
            }
            None => {
                actions.insert(name);
            }
        }
        let mut calls = self.0.lock().unwrap();
        calls.0.push(name);
        calls.1.extend(actions);
        Ok(())
    }
}
