//! The item of a sign-in waiting for its second factor
//! (`USER#<key>` / `MFA#<hash>`).

use serde::{Deserialize, Serialize};

use super::*;
use crate::ports::MfaChallenge;

/// A sign-in waiting for its second factor.
#[derive(Serialize, Deserialize)]
pub(super) struct ChallengeItem {
    pub(super) pk: String,
    pub(super) sk: String,
    pub(super) account_id: AccountId,
    pub(super) expires_at: i64,
    pub(super) remember: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) device_id: Option<String>,
    pub(super) reset_epoch: u64,
    pub(super) session_epoch: u64,
    pub(super) fails: u32,
}

/// The sort key of a pending sign-in.
pub(super) fn challenge_sk(hash: &str) -> String {
    format!("MFA#{hash}")
}

impl ChallengeItem {
    pub(super) fn into_record(self, username: &Username, hash: &str) -> MfaChallenge {
        MfaChallenge {
            username: username.clone(),
            account_id: self.account_id,
            hash: hash.to_owned(),
            expires_at: self.expires_at,
            remember: self.remember,
            device: self.device,
            device_id: self.device_id.map(DeviceId::from_stored),
            reset_epoch: self.reset_epoch,
            session_epoch: self.session_epoch,
            fails: self.fails,
        }
    }
}
