//! What happened to an account: the security activity its owner sees
//! (`GET /api/security_events`) and the account events other systems get
//! (EventBridge, through the outbox).

use serde::{Deserialize, Serialize};

/// One kind of security activity, as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// A sign-in (password, second step or passkey) succeeded.
    SignIn,
    /// A wrong password came with this account's own device token.
    SignInFailed,
    /// The owner signed this session out.
    SignOut,
    /// Another session (or every session) was ended.
    SessionEnded,
    /// The password was changed inside a session.
    PasswordChanged,
    /// The password was set with an emailed reset link.
    PasswordReset,
    /// A change of address was asked for.
    EmailChangeRequested,
    /// An address was confirmed (at registration, or a new one).
    EmailConfirmed,
    /// A revert link gave the account its earlier address back.
    EmailRestored,
    /// Two-factor sign-in was turned on.
    MfaEnabled,
    /// Two-factor sign-in was turned off.
    MfaDisabled,
    /// New recovery codes replaced the old ones.
    RecoveryCodesRenewed,
    /// A passkey was added.
    PasskeyAdded,
    /// A passkey was removed.
    PasskeyRemoved,
    /// The account's data was exported.
    AccountExported,
}

impl ActivityKind {
    /// Every kind, in the order the contract lists them.
    pub const ALL: [Self; 15] = [
        Self::SignIn,
        Self::SignInFailed,
        Self::SignOut,
        Self::SessionEnded,
        Self::PasswordChanged,
        Self::PasswordReset,
        Self::EmailChangeRequested,
        Self::EmailConfirmed,
        Self::EmailRestored,
        Self::MfaEnabled,
        Self::MfaDisabled,
        Self::RecoveryCodesRenewed,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
        Self::AccountExported,
    ];

    /// The API's name (`sign_in`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignInFailed => "sign_in_failed",
            Self::SignOut => "sign_out",
            Self::SessionEnded => "session_ended",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::EmailChangeRequested => "email_change_requested",
            Self::EmailConfirmed => "email_confirmed",
            Self::EmailRestored => "email_restored",
            Self::MfaEnabled => "mfa_enabled",
            Self::MfaDisabled => "mfa_disabled",
            Self::RecoveryCodesRenewed => "recovery_codes_renewed",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
            Self::AccountExported => "account_exported",
        }
    }

    /// The kind with this API name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One kind of account event, as EventBridge's `detail-type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// A registration was stored (unconfirmed).
    UserRegistered,
    /// The registration's address was confirmed.
    EmailConfirmed,
    /// The password was changed inside a session.
    PasswordChanged,
    /// The password was set with a reset link.
    PasswordReset,
    /// A new address was confirmed and is now the account's.
    EmailChanged,
    /// A revert link gave the account its earlier address back.
    EmailRestored,
    /// Two-factor sign-in was turned on.
    MfaEnabled,
    /// Two-factor sign-in was turned off.
    MfaDisabled,
    /// A passkey was added.
    PasskeyAdded,
    /// A passkey was removed.
    PasskeyRemoved,
    /// The account and everything stored about it was deleted (or a
    /// registration was undone because its mail could not be sent).
    AccountDeleted,
}

impl EventKind {
    /// Every detail-type.
    pub const ALL: [Self; 11] = [
        Self::UserRegistered,
        Self::EmailConfirmed,
        Self::PasswordChanged,
        Self::PasswordReset,
        Self::EmailChanged,
        Self::EmailRestored,
        Self::MfaEnabled,
        Self::MfaDisabled,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
        Self::AccountDeleted,
    ];

    /// The `detail-type` (`UserRegistered`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserRegistered => "UserRegistered",
            Self::EmailConfirmed => "EmailConfirmed",
            Self::PasswordChanged => "PasswordChanged",
            Self::PasswordReset => "PasswordReset",
            Self::EmailChanged => "EmailChanged",
            Self::EmailRestored => "EmailRestored",
            Self::MfaEnabled => "MfaEnabled",
            Self::MfaDisabled => "MfaDisabled",
            Self::PasskeyAdded => "PasskeyAdded",
            Self::PasskeyRemoved => "PasskeyRemoved",
            Self::AccountDeleted => "AccountDeleted",
        }
    }

    /// The kind with this detail-type.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// The EventBridge `source` of every account event.
pub const EVENT_SOURCE: &str = "user_account";

/// How long an outbox item is kept (its TTL): the stream keeps records for
/// a day, so an item older than that can no longer be forwarded anyway.
pub const OUTBOX_TTL_SECS: i64 = 24 * 60 * 60;

/// The default for `ACTIVITY_TTL_SECS`: 90 days.
pub const ACTIVITY_TTL_SECS: i64 = 90 * 24 * 60 * 60;

/// The most events one page of `GET /api/security_events` holds.
pub const MAX_PAGE: usize = 100;

/// The most events an export lists (the newest): about 1.5 MB of JSON,
/// well inside a Lambda response, whatever an automated client that signs
/// in every minute for 90 days has gathered.
pub const EXPORT_MAX_EVENTS: usize = 10_000;

/// The default page size.
pub const DEFAULT_PAGE: usize = 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for kind in ActivityKind::ALL {
            assert_eq!(ActivityKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
    }
}
