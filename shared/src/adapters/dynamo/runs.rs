//! Failure runs: of a username and of a device (login's lockouts), and of
//! wrong passwords re-entered in a session (kept on the session item).

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;

use super::DynamoStore;
use super::errors::{conditional, sdk_err};
use super::items::{
    FAILURES_SK, FailuresItem, PROFILE_SK, UserItem, counter_equals, from_item, key, n, run_pk, s,
    session_sk, user_pk,
};
use crate::domain::{DeviceId, LoginFailures, SessionId, Username};
use crate::ports::{FailureRun, LoginState, StoreResult};

impl DynamoStore {
    pub(super) async fn read_login_state(
        &self,
        username: &Username,
        device: Option<&DeviceId>,
        now: i64,
    ) -> StoreResult<LoginState> {
        let username_run = run_pk(&FailureRun::Username(username.clone()));
        let device_run = device.map(|d| run_pk(&FailureRun::Device(d.clone())));
        let mut keys = vec![
            key(user_pk(username), PROFILE_SK),
            key(username_run.clone(), FAILURES_SK),
        ];
        keys.extend(device_run.clone().map(|pk| key(pk, FAILURES_SK)));
        let mut state = LoginState::default();
        for item in self.batch_get(keys).await? {
            let pk = item.get("pk").and_then(|v| v.as_s().ok()).cloned();
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned();
            if sk.as_deref() == Some(PROFILE_SK) {
                state.user = self.unless_deleting(from_item::<UserItem>(item)?).await?;
                continue;
            }
            let f: FailuresItem = from_item(item)?;
            if f.expires_at <= now {
                continue;
            }
            let run = LoginFailures {
                count: f.n,
                last_at: f.last_at,
            };
            if pk.as_ref() == Some(&username_run) {
                state.failures = run;
            } else if pk.is_some() && pk == device_run {
                state.device_failures = run;
            }
        }
        Ok(state)
    }

    pub(super) async fn claim_run(
        &self,
        run: &FailureRun,
        seen: LoginFailures,
        now: i64,
        expires_at: i64,
        attempt: &SessionId,
    ) -> StoreResult<bool> {
        // Compare-and-set on the run as login_state saw it: a missing or
        // expired run (TTL deletes late) counts as zero.
        let unchanged = if seen.count == 0 {
            "attribute_not_exists(pk) OR expires_at <= :now"
        } else {
            "n = :n AND last_at = :last AND expires_at > :now"
        };
        let claimed = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(run_pk(run), FAILURES_SK)))
            .update_expression("SET n = :next, last_at = :now, expires_at = :exp, claim = :claim")
            .condition_expression(unchanged)
            .set_expression_attribute_values(Some(if seen.count == 0 {
                HashMap::from([
                    (":next".to_owned(), n(1)),
                    (":now".to_owned(), n(now)),
                    (":exp".to_owned(), n(expires_at)),
                    (":claim".to_owned(), s(attempt.as_str())),
                ])
            } else {
                HashMap::from([
                    (":n".to_owned(), n(seen.count)),
                    (":last".to_owned(), n(seen.last_at)),
                    (":next".to_owned(), n(seen.count.saturating_add(1))),
                    (":now".to_owned(), n(now)),
                    (":exp".to_owned(), n(expires_at)),
                    (":claim".to_owned(), s(attempt.as_str())),
                ])
            }))
            // If the SDK retried this write (a timeout after DynamoDB applied
            // it), the retry fails the condition: the item then names which
            // attempt claimed it, ours or a rival's.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match claimed {
            Ok(_) => Ok(true),
            Err(err) => {
                let claimed_by = match err.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(e)) => e
                        .item()
                        .and_then(|item| item.get("claim"))
                        .and_then(|v| v.as_s().ok())
                        .cloned(),
                    _ => return Err(sdk_err("UpdateItem", err)),
                };
                Ok(claimed_by.as_deref() == Some(attempt.as_str()))
            }
        }
    }

    pub(super) async fn claim_session_attempt(
        &self,
        username: &Username,
        sid: &SessionId,
        seen: u32,
        now: i64,
    ) -> StoreResult<bool> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(username), session_sk(sid))))
            .update_expression("SET pwd_failures = :next")
            .condition_expression(format!(
                "attribute_exists(pk) AND expires_at > :now AND {}",
                counter_equals("pwd_failures", ":seen", u64::from(seen))
            ))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":seen", n(seen))
            .expression_attribute_values(":next", n(seen.saturating_add(1)))
            .send()
            .await;
        Ok(conditional("UpdateItem", out)?.is_some())
    }

    pub(super) async fn clear_session_run(
        &self,
        username: &Username,
        sid: &SessionId,
    ) -> StoreResult<()> {
        // Never writes a session back that has ended meanwhile.
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(username), session_sk(sid))))
            .update_expression("SET pwd_failures = :zero")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        conditional("UpdateItem", out)?;
        Ok(())
    }

    pub(super) async fn forget_run(&self, run: &FailureRun) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(run_pk(run), FAILURES_SK)))
            .send()
            .await
            .map_err(|e| sdk_err("DeleteItem", e))?;
        Ok(())
    }
}
