//! `GET /api/revert_email/{token}`: the link mailed to the old address when
//! a change of address was asked for. A recovery, not a half-step: the
//! address it was sent to becomes (or stays) the account's, verified; every
//! session ends and every device is untrusted; the password stops working
//! until a reset (whoever changed the address may know it), and a reset
//! link goes to the restored address in the same step; every other link
//! dies except the revert links of earlier changes; the address it replaced
//! is told.
//!
//! The mail with the reset link goes out before anything is written: if it
//! cannot be sent, nothing changes (503) and the link still works. The
//! notice to the replaced address follows the change, best effort. Whoever holds the old
//! address during the link's 7 days wins: that is what the link is for.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::domain::{OneTimeToken, TokenHash, messages};
use shared::http::{own_base_url, path_param, respond};
use shared::ports::{Confirmation, TokenPurpose, TokenRecord};
use shared::{ApiError, App, Reply};

/// Handles `GET /api/revert_email/{token}`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(revert(&app, &req).await)
}

async fn revert(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let not_found = || ApiError::bad_request("user not found.");
    let taken = || ApiError::Conflict("email is already confirmed for another account.");
    let hash = path_param(req, "token")
        .as_deref()
        .and_then(TokenHash::from_link)
        .ok_or_else(not_found)?;
    let now = app.clock.now();
    let revert = app
        .store
        .get_token(&hash, TokenPurpose::RevertEmail, now)
        .await?
        .ok_or_else(not_found)?;
    let user = app
        .store
        .get_user(&revert.username)
        .await?
        .filter(|u| u.account_id == revert.account_id && u.revert_is_live(revert.epoch))
        .ok_or_else(not_found)?;
    // Only the old mailbox has this link: telling its owner is no leak.
    let holder = app.store.address_holder(&revert.email).await?;
    if holder.is_some_and(|h| h != user.username) {
        return Err(taken());
    }
    // Passkeys added since the change go with it (an intruder's), as the
    // TOTP enrolled since does.
    let (doomed, kept): (Vec<_>, Vec<_>) = app
        .store
        .passkeys_of(&user.username)
        .await?
        .into_iter()
        .filter(|p| p.account_id == user.account_id)
        .partition(|p| p.since >= revert.epoch);
    let reset = OneTimeToken::generate()?;
    let reset_record = TokenRecord {
        hash: reset.hash(),
        purpose: TokenPurpose::Reset,
        username: user.username.clone(),
        account_id: user.account_id.clone(),
        email: revert.email.clone(),
        expires_at: now + app.config.reset_token_ttl_secs,
        // The revert moves the reset epoch on: this link is the only one
        // of the new epoch.
        epoch: user.reset_epoch + 1,
    };
    let restored = messages::address_restored(
        &app.config,
        revert.email.as_str(),
        user.username.as_str(),
        &app.config
            .links(own_base_url(req).as_deref())
            .reset(reset.expose())?,
        user.factors_since(revert.epoch) || !doomed.is_empty(),
        kept.len(),
    )?;
    let replaced = (user.email != revert.email)
        .then(|| messages::address_replaced(&app.config, user.email.as_str()))
        .transpose()?;
    // Each link works once, so these mails are bounded by the changes
    // (which are budgeted); no stranger can make us send them. The way back
    // in goes out first: no recovery without it.
    app.mailer.send(&restored).await?;
    for passkey in &doomed {
        app.store
            .remove_passkey(&user, &passkey.credential.id)
            .await?;
    }
    match app
        .store
        .revert_email(&revert, &user, &reset_record, now)
        .await?
    {
        Confirmation::Confirmed => {}
        Confirmation::NotFound => return Err(not_found()),
        Confirmation::AddressTaken => return Err(taken()),
    }
    // The replaced address (the intruder's, maybe) is told after: a mail
    // it refuses must not stand in the way of the owner's recovery.
    if let Some(replaced) = &replaced {
        if let Err(err) = app.mailer.send(replaced).await {
            tracing::warn!(
                error = format!("{err:#}"),
                "address-replaced notice not sent"
            );
        }
    }
    Ok(Reply::msg("Your email has been restored."))
}
