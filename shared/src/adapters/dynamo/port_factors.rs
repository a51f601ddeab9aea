//! The DynamoDB store: second factors (on the profile item) and sign-ins
//! waiting for one (`USER#<key>` / `MFA#<hash>`).

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem, Update};

use super::challenge_item::{ChallengeItem, challenge_sk};
use super::items::{FAILURES_SK, Item, LIVE_PROFILE, PROFILE_SK, counter_equals, run_pk, s};
use super::*;
use crate::ports::{FactorStore, FactorUse, MfaChallenge};

fn codes_value(codes: &[String]) -> StoreResult<AttributeValue> {
    let map: BTreeMap<&str, u8> = codes.iter().map(|c| (c.as_str(), 1)).collect();
    serde_dynamo::to_attribute_value(map)
        .map_err(|e| crate::ports::StoreError::Internal(anyhow::anyhow!("encode codes: {e}")))
}

/// The condition that the profile is `user`'s live account, with its values.
fn account_condition(user: &UserRecord) -> (String, Item) {
    let (account, value) = same_account(&user.account_id);
    let values = with_account(HashMap::new(), value).unwrap_or_default();
    (format!("{LIVE_PROFILE} AND {account}"), values)
}

/// The condition that `user`'s TOTP secret is still the one read.
fn same_secret(user: &UserRecord, values: &mut Item) -> Option<String> {
    let secret = user.totp_secret.as_ref()?;
    values.insert(":secret".to_owned(), s(secret));
    Some("totp_secret = :secret".to_owned())
}

/// The update that uses `used`, and its condition (beyond the account's).
fn factor_update(
    user: &UserRecord,
    used: &FactorUse,
    values: &mut Item,
    names: &mut HashMap<String, String>,
) -> Option<(String, String)> {
    // A passkey is not on the profile (see `finish_mfa_login`): no values
    // either, DynamoDB refuses an item with one its expressions do not use.
    if let FactorUse::Passkey { .. } = used {
        return None;
    }
    let secret = same_secret(user, values)?;
    Some(match used {
        FactorUse::Passkey { .. } => return None,
        FactorUse::Step(step) => {
            values.insert(":step".to_owned(), n(step));
            (
                "SET totp_step = :step".to_owned(),
                format!("{secret} AND (attribute_not_exists(totp_step) OR totp_step < :step)"),
            )
        }
        FactorUse::Recovery(hash) => {
            names.insert("#code".to_owned(), hash.clone());
            (
                "REMOVE recovery_codes.#code".to_owned(),
                format!("{secret} AND attribute_exists(recovery_codes.#code)"),
            )
        }
    })
}

impl DynamoStore {
    /// A conditional update of `user`'s profile: `false` when a condition
    /// failed. With a `trail` (the change's activity and event items), one
    /// transaction writes them with it.
    async fn update_profile_if(
        &self,
        user: &UserRecord,
        update: &str,
        condition: Option<String>,
        mut values: Item,
        names: HashMap<String, String>,
        trail: Vec<TransactWriteItem>,
    ) -> StoreResult<bool> {
        let (live, account_values) = account_condition(user);
        values.extend(account_values);
        let condition = match condition {
            Some(c) => format!("{live} AND {c}"),
            None => live,
        };
        let values = (!values.is_empty()).then_some(values);
        let names = (!names.is_empty()).then_some(names);
        if trail.is_empty() {
            let out = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(&user.username), PROFILE_SK)))
                .update_expression(update)
                .condition_expression(condition)
                .set_expression_attribute_values(values)
                .set_expression_attribute_names(names)
                .send()
                .await;
            return Ok(conditional("UpdateItem", out)?.is_some());
        }
        let profile = build(
            "Update",
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(&user.username), PROFILE_SK)))
                .update_expression(update)
                .condition_expression(condition)
                .set_expression_attribute_values(values)
                .set_expression_attribute_names(names)
                .build(),
        )?;
        let mut items = vec![TransactWriteItem::builder().update(profile).build()];
        items.extend(trail);
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(err) if cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) => Ok(false),
            Err(err) => Err(sdk_err("TransactWriteItems", err)),
        }
    }
}

#[async_trait]
impl FactorStore for DynamoStore {
    async fn set_pending_totp(&self, user: &UserRecord, sealed: &str) -> StoreResult<bool> {
        let values = HashMap::from([(":p".to_owned(), s(sealed))]);
        self.update_profile_if(
            user,
            "SET totp_pending = :p",
            None,
            values,
            HashMap::new(),
            Vec::new(),
        )
        .await
    }

    async fn enable_totp(
        &self,
        user: &UserRecord,
        sealed: &str,
        step: u64,
        codes: &[String],
    ) -> StoreResult<bool> {
        let values = HashMap::from([
            (":p".to_owned(), s(sealed)),
            (":step".to_owned(), n(step)),
            (":codes".to_owned(), codes_value(codes)?),
            (":since".to_owned(), n(user.email_changes)),
            (":changes".to_owned(), n(user.email_changes)),
        ]);
        let changes = counter_equals("email_changes", ":changes", user.email_changes);
        self.update_profile_if(
            user,
            "SET totp_secret = :p, totp_step = :step, recovery_codes = :codes, \
             mfa_since = :since REMOVE totp_pending",
            Some(format!("totp_pending = :p AND {changes}")),
            values,
            HashMap::new(),
            self.trail_items(
                user,
                Some(ActivityKind::MfaEnabled),
                Some(EventKind::MfaEnabled),
            )?,
        )
        .await
    }

    async fn replace_recovery_codes(
        &self,
        user: &UserRecord,
        codes: &[String],
    ) -> StoreResult<bool> {
        let mut values = HashMap::from([
            (":codes".to_owned(), codes_value(codes)?),
            (":since".to_owned(), n(user.email_changes)),
            (":changes".to_owned(), n(user.email_changes)),
        ]);
        let Some(secret) = same_secret(user, &mut values) else {
            return Ok(false);
        };
        let changes = counter_equals("email_changes", ":changes", user.email_changes);
        self.update_profile_if(
            user,
            "SET recovery_codes = :codes, mfa_since = :since",
            Some(format!("{secret} AND {changes}")),
            values,
            HashMap::new(),
            self.trail_items(user, Some(ActivityKind::RecoveryCodesRenewed), None)?,
        )
        .await
    }

    async fn disable_totp(&self, user: &UserRecord) -> StoreResult<bool> {
        self.update_profile_if(
            user,
            "REMOVE totp_secret, totp_pending, recovery_codes",
            None,
            HashMap::new(),
            HashMap::new(),
            self.trail_items(
                user,
                Some(ActivityKind::MfaDisabled),
                Some(EventKind::MfaDisabled),
            )?,
        )
        .await
    }

    async fn use_factor(&self, user: &UserRecord, used: &FactorUse) -> StoreResult<bool> {
        let mut values = HashMap::new();
        let mut names = HashMap::new();
        let Some((update, condition)) = factor_update(user, used, &mut values, &mut names) else {
            return Ok(false);
        };
        self.update_profile_if(user, &update, Some(condition), values, names, Vec::new())
            .await
    }

    async fn create_mfa_challenge(&self, challenge: &MfaChallenge) -> StoreResult<bool> {
        let item = to_item(&ChallengeItem {
            pk: user_pk(&challenge.username),
            sk: challenge_sk(&challenge.hash),
            account_id: challenge.account_id.clone(),
            expires_at: challenge.expires_at,
            remember: challenge.remember,
            device: challenge.device.clone(),
            device_id: challenge.device_id.as_ref().map(|d| d.as_str().to_owned()),
            reset_epoch: challenge.reset_epoch,
            session_epoch: challenge.session_epoch,
            fails: 0,
        })?;
        let items = vec![
            self.account_check(&challenge.username, &challenge.account_id)?,
            self.put(item, None)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(err) if cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) => Ok(false),
            Err(err) => Err(sdk_err("TransactWriteItems", err)),
        }
    }

    async fn mfa_login_state(
        &self,
        username: &Username,
        hash: &str,
        device: Option<&DeviceId>,
        now: i64,
    ) -> StoreResult<(LoginState, Option<MfaChallenge>)> {
        let username_run = run_pk(&FailureRun::Username(username.clone()));
        let device_run = device.map(|d| run_pk(&FailureRun::Device(d.clone())));
        let sk = challenge_sk(hash);
        let mut keys = vec![
            key(user_pk(username), PROFILE_SK),
            key(user_pk(username), sk.clone()),
            key(username_run.clone(), FAILURES_SK),
        ];
        keys.extend(device_run.clone().map(|pk| key(pk, FAILURES_SK)));
        let mut state = LoginState::default();
        let mut challenge = None;
        for item in self.batch_get(keys).await? {
            let pk = item.get("pk").and_then(|v| v.as_s().ok()).cloned();
            let item_sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned();
            if item_sk.as_deref() == Some(PROFILE_SK) {
                state.user = self.unless_deleting(from_item::<UserItem>(item)?).await?;
                continue;
            }
            if item_sk.as_deref() == Some(sk.as_str()) {
                let c: ChallengeItem = from_item(item)?;
                challenge = (c.expires_at > now).then(|| c.into_record(username, hash));
                continue;
            }
            let f: super::items::FailuresItem = from_item(item)?;
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
        Ok((state, challenge))
    }

    async fn claim_mfa_attempt(&self, challenge: &MfaChallenge, now: i64) -> StoreResult<bool> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(
                user_pk(&challenge.username),
                challenge_sk(&challenge.hash),
            )))
            .update_expression("SET fails = :next")
            .condition_expression("attribute_exists(pk) AND fails = :seen AND expires_at > :now")
            .expression_attribute_values(":seen", n(challenge.fails))
            .expression_attribute_values(":next", n(challenge.fails + 1))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        Ok(conditional("UpdateItem", out)?.is_some())
    }

    async fn finish_mfa_login(
        &self,
        challenge: &MfaChallenge,
        user: &UserRecord,
        used: &FactorUse,
        session: &SessionRecord,
        clear: Option<&FailureRun>,
    ) -> StoreResult<bool> {
        let mut values = HashMap::new();
        let mut names = HashMap::new();
        let profile_update = factor_update(user, used, &mut values, &mut names);
        // The attempt is bound to the account's epochs at the password step.
        let (live, account_values) = account_condition(user);
        values.extend(account_values);
        values.insert(":re".to_owned(), n(challenge.reset_epoch));
        values.insert(":se".to_owned(), n(challenge.session_epoch));
        let epochs = format!(
            "{} AND {}",
            counter_equals("reset_epoch", ":re", challenge.reset_epoch),
            counter_equals("session_epoch", ":se", challenge.session_epoch)
        );
        let mut factor_items = Vec::new();
        let profile = match (profile_update, used) {
            (Some((update, condition)), _) => TransactWriteItem::builder()
                .update(build(
                    "Update",
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key(user_pk(&user.username), PROFILE_SK)))
                        .update_expression(update)
                        .condition_expression(format!("{live} AND {epochs} AND {condition}"))
                        .set_expression_attribute_values(Some(values))
                        .set_expression_attribute_names((!names.is_empty()).then_some(names))
                        .build(),
                )?)
                .build(),
            (
                None,
                FactorUse::Passkey {
                    credential_id,
                    old,
                    new,
                },
            ) => {
                // The passkey's counter moves on, only from the state read.
                factor_items.push(
                    TransactWriteItem::builder()
                        .update(build(
                            "Update",
                            Update::builder()
                                .table_name(&self.table)
                                .set_key(Some(key(
                                    user_pk(&user.username),
                                    super::port_passkeys::passkey_sk(credential_id),
                                )))
                                .update_expression("SET dynamic_state = :new, last_used_at = :now")
                                .condition_expression(
                                    "attribute_exists(pk) AND dynamic_state = :old",
                                )
                                .expression_attribute_values(":new", s(new))
                                .expression_attribute_values(":old", s(old))
                                .expression_attribute_values(":now", n(session.created_at))
                                .build(),
                        )?)
                        .build(),
                );
                TransactWriteItem::builder()
                    .condition_check(build(
                        "ConditionCheck",
                        ConditionCheck::builder()
                            .table_name(&self.table)
                            .set_key(Some(key(user_pk(&user.username), PROFILE_SK)))
                            .condition_expression(format!("{live} AND {epochs}"))
                            .set_expression_attribute_values(Some(values))
                            .build(),
                    )?)
                    .build()
            }
            (None, _) => return Ok(false),
        };
        let consume = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(
                    user_pk(&challenge.username),
                    challenge_sk(&challenge.hash),
                )))
                .condition_expression("attribute_exists(pk) AND expires_at > :now")
                .expression_attribute_values(":now", n(session.created_at))
                .build(),
        )?;
        let mut items = vec![
            profile,
            TransactWriteItem::builder().delete(consume).build(),
            self.put(super::sessions::session_item(session)?, None)?,
        ];
        items.extend(factor_items);
        items.extend(clear.map(|run| self.end_run(run)).transpose()?);
        let signed_in = crate::ports::Trail::current().sign_in(session.known_device);
        items.push(self.activity_put(&session.username, Some(&session.account_id), &signed_in)?);
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(err) if cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) => Ok(false),
            Err(err) => Err(sdk_err("TransactWriteItems", err)),
        }
    }

    async fn delete_mfa_challenge(&self, challenge: &MfaChallenge) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(
                user_pk(&challenge.username),
                challenge_sk(&challenge.hash),
            )))
            .send()
            .await
            .map_err(|e| sdk_err("DeleteItem", e))?;
        Ok(())
    }
}
