//! The DynamoDB store: accounts: registration, the profile, the password, the address's holder, deletion.

use async_trait::async_trait;

use super::*;
use crate::ports::AccountStore;

#[async_trait]
impl AccountStore for DynamoStore {
    async fn create_user(
        &self,
        user: &UserRecord,
        confirm: &TokenRecord,
    ) -> Result<(), CreateUserError> {
        let new = Some("attribute_not_exists(pk)");
        let mut items = vec![
            self.put(
                to_item(&UserItem {
                    pk: user_pk(&user.username),
                    sk: PROFILE_SK.into(),
                    user: user.clone(),
                    deleting: None,
                })?,
                new,
            )?,
            self.put(token_item(confirm)?, new)?,
            self.put(token_ref_item(confirm)?, None)?,
        ];
        items.extend(self.trail_items(user, None, Some(EventKind::UserRegistered))?);
        // Two registrations racing for one name can make DynamoDB cancel one
        // with TransactionConflict: `transact` tries again, and the loser
        // then sees the winner's item (409).
        let Err(err) = self.transact(items).await else {
            return Ok(());
        };
        match cancelled_conditions(&err).as_deref() {
            Some([true, ..]) => Err(CreateUserError::UsernameTaken),
            _ => Err(sdk_err("TransactWriteItems", err).into()),
        }
    }

    async fn delete_unverified_user(
        &self,
        user: &UserRecord,
        confirm: &TokenRecord,
    ) -> StoreResult<()> {
        let (account, account_value) = same_account(&user.account_id);
        let profile = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(&user.username), PROFILE_SK)))
                .condition_expression(format!(
                    "is_email_verified = :f AND created_at = :c AND {account}"
                ))
                .set_expression_attribute_values(with_account(
                    HashMap::from([
                        (":f".to_owned(), AttributeValue::Bool(false)),
                        (":c".to_owned(), n(user.created_at)),
                    ]),
                    account_value,
                ))
                .build(),
        )?;
        let token = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(token_pk(&confirm.hash), TOKEN_SK)))
                .build(),
        )?;
        let token_ref = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(
                    user_pk(&user.username),
                    token_ref_sk(&confirm.hash),
                )))
                .build(),
        )?;
        let mut items = vec![
            TransactWriteItem::builder().delete(profile).build(),
            TransactWriteItem::builder().delete(token).build(),
            TransactWriteItem::builder().delete(token_ref).build(),
        ];
        // Subscribers saw it registered: they see it go.
        items.extend(self.trail_items(user, None, Some(EventKind::AccountDeleted))?);
        match self.transact(items).await {
            // A sign-in meanwhile left an activity item: it goes too.
            Ok(()) => {
                let activity = self.activity_keys(&user.username).await?;
                self.batch_delete(activity).await
            }
            // Someone else's account (or already confirmed): leave it alone.
            Err(err) if cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) => Ok(()),
            Err(err) => Err(sdk_err("TransactWriteItems", err)),
        }
    }

    async fn address_holder(&self, email: &EmailAddress) -> StoreResult<Option<Username>> {
        self.get(key(email_pk(email), EMAIL_SK))
            .await?
            .map(|item| from_item::<EmailItem>(item).map(|e| Username::from_stored(e.username_key)))
            .transpose()
    }

    async fn address_holder_hint(&self, email: &EmailAddress) -> StoreResult<Option<Username>> {
        self.get_eventually(key(email_pk(email), EMAIL_SK))
            .await?
            .map(|item| from_item::<EmailItem>(item).map(|e| Username::from_stored(e.username_key)))
            .transpose()
    }

    async fn get_user(&self, username: &Username) -> StoreResult<Option<UserRecord>> {
        let Some(item) = self.get(key(user_pk(username), PROFILE_SK)).await? else {
            return Ok(None);
        };
        self.unless_deleting(from_item::<UserItem>(item)?).await
    }

    async fn account_data(&self, username: &Username) -> StoreResult<Option<AccountData>> {
        self.partition(username).await
    }

    async fn update_profile(&self, user: &UserRecord) -> StoreResult<Option<UserRecord>> {
        self.write_profile(user).await
    }

    async fn change_password(
        &self,
        user: &UserRecord,
        password_hash: &str,
        keep: &SessionId,
    ) -> StoreResult<bool> {
        self.set_password(user, password_hash, keep).await
    }

    async fn security_events(
        &self,
        username: &Username,
        now: i64,
        before: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ActivityRecord>> {
        self.activity(username, now, before, limit).await
    }

    async fn note_activity(
        &self,
        user: &UserRecord,
        activity: &ActivityRecord,
    ) -> StoreResult<bool> {
        self.note(user, activity).await
    }

    async fn delete_account(&self, data: &AccountData, current: &SessionId) -> StoreResult<()> {
        self.delete_partition(data, current).await
    }
}
