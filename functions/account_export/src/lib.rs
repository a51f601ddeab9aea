//! `POST /api/account_export` (authenticated) `{pwd}`: everything stored
//! about the user, except password and token hashes. The password is asked
//! for, as for a deletion: a team's backend holding a user's token must not
//! read the unmasked address, phone and contacts with it alone.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use serde_json::json;
use shared::domain::activity::ActivityKind;
use shared::http::account::{
    caller_account, confirm_identity, live_sessions, rfc3339, session_failures, session_view,
};
use shared::http::activity::all_activity;
use shared::http::factors::{code_for, spend};
use shared::http::passkeys::passkey_view;
use shared::http::session::NOT_AUTHENTICATED;
use shared::http::{JsonBody, respond};
use shared::ports::{TokenPurpose, TokenRecord, Trail, UserRecord};
use shared::{ApiError, App, Reply};

/// Whether an outstanding link would still do something (superseded ones
/// are stored until they expire, but work no more).
fn link_still_works(user: &UserRecord, t: &TokenRecord) -> bool {
    match t.purpose {
        TokenPurpose::Confirm => {
            !user.is_email_verified
                && t.epoch == user.confirm_epoch
                && t.email.as_str() == user.email.as_str()
        }
        TokenPurpose::Reset => {
            t.epoch == user.reset_epoch && t.email.as_str() == user.email.as_str()
        }
        TokenPurpose::ChangeEmail => user
            .pending_email
            .as_ref()
            .is_some_and(|p| p.email.as_str() == t.email.as_str()),
        TokenPurpose::RevertEmail => user.revert_is_live(t.epoch),
    }
}

/// Handles `POST /api/account_export`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(export(&app, &req).await)
}

async fn export(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (caller, data) = caller_account(app, req, now).await?;
    let body = JsonBody::parse(req)?;
    let pwd = SecretString::from(body.str("pwd")?);
    let code = code_for(&data.user, &body)?;
    let failures = session_failures(&data, &caller, now);
    let used =
        confirm_identity(app, &caller, &data.user, failures, pwd, code.as_ref(), now).await?;
    spend(app, &data.user, used).await?;
    let user = &data.user;
    // An export hands out everything: the owner sees that it happened (no
    // record, no export), and the export lists itself.
    let exported = Trail::current().activity(ActivityKind::AccountExported);
    if !app.store.note_activity(user, &exported).await? {
        return Err(ApiError::Unauthorized(NOT_AUTHENTICATED));
    }
    let security_events = all_activity(app, &user.username, now).await?;
    let sessions: Vec<_> = live_sessions(&data, now)
        .into_iter()
        .map(|s| session_view(s, &caller))
        .collect();
    let links: Vec<_> = data
        .tokens
        .iter()
        .filter(|t| t.expires_at > now && t.account_id == user.account_id)
        .filter(|t| link_still_works(user, t))
        .map(|t| {
            let purpose = match t.purpose {
                TokenPurpose::Confirm => "confirm_email",
                TokenPurpose::Reset => "reset_password",
                TokenPurpose::ChangeEmail => "change_email",
                TokenPurpose::RevertEmail => "revert_email",
            };
            json!({
                "purpose": purpose,
                "sent_to": t.email.as_str(),
                "expires_at": rfc3339(t.expires_at),
            })
        })
        .collect();
    let pending = user
        .pending_email
        .as_ref()
        .filter(|p| p.expires_at > now)
        .map(|p| json!({ "email": p.email.as_str(), "expires_at": rfc3339(p.expires_at) }));
    Ok(Reply::msg("success").with_data(json!({
        "profile": {
            "username": user.username.as_str(),
            "full_name": user.full_name,
            "email": user.email.as_str(),
            "phone": user.phone,
            "contacts": user.contacts,
            "is_email_verified": user.is_email_verified,
            "created_at": rfc3339(user.created_at),
        },
        "sessions": sessions,
        "passkeys": data.passkeys.iter().map(passkey_view).collect::<Vec<_>>(),
        "pending_email_change": pending,
        "outstanding_links": links,
        "security_events": security_events,
    })))
}
