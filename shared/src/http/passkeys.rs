//! Passkeys in requests: the relying party a request speaks to, ceremonies
//! started and taken, how a passkey is shown, and the refusals.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::domain::passkey::{CEREMONY_TTL_SECS, Refusal, RelyingParty};
use crate::domain::{AccountId, Username};
use crate::error::ApiError;
use crate::http::account::rfc3339;
use crate::http::own_base_url;
use crate::http::session::NOT_AUTHENTICATED;
use crate::ports::{App, CeremonyKind, CeremonyRecord, PasskeyRecord};

/// 400 of a registration whose ceremony is unknown, expired, used, or not this one.
pub const START_AGAIN: &str = "start again.";
/// 400 of a registration the verification refused.
pub const REGISTRATION_REFUSED: &str = "passkey not accepted.";
/// 401 of a sign-in the verification refused (or with no such passkey).
pub const SIGN_IN_REFUSED: &str = "passkey not accepted";
/// 401 of a sign-in whose ceremony is unknown, expired or used.
pub const SIGN_IN_AGAIN: &str = "sign in again";

/// The relying party of a request: `WEBAUTHN_RP_ID` and `WEBAUTHN_ORIGINS`,
/// else derived from the public base URL (or the request's own).
pub fn relying_party(app: &App, req: &lambda_http::Request) -> Result<RelyingParty, ApiError> {
    let own = own_base_url(req);
    let base = app.config.public_base_url.as_deref().or(own.as_deref());
    let (rp_id, origins) = app.config.webauthn.resolve(base).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!("no WebAuthn RP ID: set WEBAUTHN_RP_ID"))
    })?;
    RelyingParty::new(&rp_id, origins).map_err(ApiError::internal)
}

/// Stores a ceremony (5 minutes) and answers its `data`:
/// `{"ceremony": id, "publicKey": options}`.
pub async fn start_ceremony(
    app: &App,
    kind: CeremonyKind,
    account: Option<(Username, AccountId)>,
    (options, state): (Value, Vec<u8>),
    now: i64,
) -> Result<Value, ApiError> {
    let mut id = [0u8; 24];
    getrandom::fill(&mut id)?;
    let ceremony = CeremonyRecord {
        id: URL_SAFE_NO_PAD.encode(id),
        kind,
        state,
        account,
        expires_at: now + CEREMONY_TTL_SECS,
    };
    if !app.store.put_ceremony(&ceremony).await? {
        return Err(ApiError::Unauthorized(NOT_AUTHENTICATED));
    }
    Ok(json!({ "ceremony": ceremony.id, "publicKey": options }))
}

/// Takes ceremony `id` if it is of `kind` (and, when given, `account`'s).
pub async fn take_ceremony(
    app: &App,
    id: &str,
    kind: CeremonyKind,
    account: Option<(&Username, &AccountId)>,
    now: i64,
) -> Result<Option<CeremonyRecord>, ApiError> {
    if id.is_empty() || id.len() > 64 {
        return Ok(None);
    }
    let taken = app.store.take_ceremony(id, now).await?;
    Ok(taken.filter(|c| is_for(c, kind, account)))
}

/// Ceremony `id` if it is of `kind` (and `account`'s), left in place: a
/// registration consumes it only with the passkey's write.
pub async fn read_ceremony(
    app: &App,
    id: &str,
    kind: CeremonyKind,
    account: Option<(&Username, &AccountId)>,
    now: i64,
) -> Result<Option<CeremonyRecord>, ApiError> {
    if id.is_empty() || id.len() > 64 {
        return Ok(None);
    }
    let found = app.store.ceremony(id, now).await?;
    Ok(found.filter(|c| is_for(c, kind, account)))
}

fn is_for(
    c: &CeremonyRecord,
    kind: CeremonyKind,
    account: Option<(&Username, &AccountId)>,
) -> bool {
    c.kind == kind
        && match (account, &c.account) {
            (None, _) => true,
            (Some((u, a)), Some((cu, ca))) => u.key() == cu.key() && a == ca,
            (Some(_), None) => false,
        }
}

/// The refusal of a sign-in; a counter that went back goes to the logs as
/// a security event (a cloned authenticator, maybe).
pub fn refused(refusal: &Refusal, credential_id: &str) -> ApiError {
    match refusal {
        Refusal::CounterWentBack => tracing::warn!(
            event = "passkey_counter_went_back",
            credential = %credential_id,
            "a passkey's sign counter went back: sign-in refused"
        ),
        Refusal::Invalid(why) => tracing::info!(reason = %why, "passkey sign-in refused"),
    }
    ApiError::Unauthorized(SIGN_IN_REFUSED)
}

/// A passkey as the list shows it (no key material).
pub fn passkey_view(p: &PasskeyRecord) -> Value {
    json!({
        "id": p.credential.id,
        "name": p.name,
        "created_at": rfc3339(p.created_at),
        "last_used_at": p.last_used_at.map(rfc3339),
    })
}
