//! `POST /api/passkey_login/finish` `{ceremony, credential, remember?}`: a
//! sign-in with a passkey. The ceremony works once; the credential must be
//! one an account has (its claim), answering for that account's user
//! handle, from an allowed origin, for this RP ID, with user presence and
//! verification, signed by its key, and with a sign counter that grew
//! (when the authenticator keeps one; one that went back is refused and
//! logged). User verification makes it a full sign-in, two-factor or not;
//! it answers as a successful login does.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::domain::passkey::assertion_ids;
use shared::domain::{SessionId, amr};
use shared::http::limits::{IpAction, limit_ip, refund_ip};
use shared::http::passkeys::{
    SIGN_IN_AGAIN, SIGN_IN_REFUSED, refused, relying_party, take_ceremony,
};
use shared::http::sign_in::{device_of, known_device, session_for, signed_in};
use shared::http::{JsonBody, respond};
use shared::ports::CeremonyKind;
use shared::{ApiError, App, Reply};

/// Handles `POST /api/passkey_login/finish`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(finish(&app, &req).await)
}

async fn finish(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let body = JsonBody::parse(req)?;
    let ceremony = body.str("ceremony")?.to_owned();
    let credential = body.object("credential")?;
    let remember = body.opt_bool("remember")?;
    let now = app.clock.now();
    let keys = app.jwt()?.signing(now).await;
    let key = app.factor_key()?;
    let rp = relying_party(app, req)?;
    // Counted while it runs; a success gives the count back.
    let counted = limit_ip(app, req, IpAction::Login).await?;
    let ceremony = take_ceremony(app, &ceremony, CeremonyKind::SignIn, None, now)
        .await?
        .ok_or(ApiError::Unauthorized(SIGN_IN_AGAIN))?;
    let not_accepted = || ApiError::Unauthorized(SIGN_IN_REFUSED);
    let (id, handle) = assertion_ids(credential, true).ok_or_else(not_accepted)?;
    let (user, passkey) = app
        .store
        .passkey_by_id(&id)
        .await?
        .ok_or_else(not_accepted)?;
    let own_handle = key.user_handle(&user.account_id, &user.username);
    if handle != Some(own_handle) {
        return Err(not_accepted());
    }
    let verified = rp
        .verify_assertion(
            &ceremony.state,
            credential,
            &passkey.credential,
            own_handle,
            true,
        )
        .map_err(|why| refused(&why, &id))?;
    // Only the state read moves on: of two sign-ins with one answer, one.
    if !app
        .store
        .passkey_used(&passkey, &verified.dynamic_state, now)
        .await?
    {
        return Err(not_accepted());
    }
    let sid = SessionId::generate()?;
    let known = known_device(app, req, &user, now);
    let session = session_for(
        app,
        &user,
        sid,
        remember,
        device_of(req),
        amr::PASSKEY,
        known,
        now,
    );
    if !app.store.create_session(&session, None).await? {
        return Err(not_accepted());
    }
    refund_ip(app, counted).await;
    signed_in(app, req, &keys, &user, &user.username, &session, now).await
}
