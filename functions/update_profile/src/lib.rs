//! `POST /api/profile_settings` (authenticated) `{full_name?, phone?, contacts?}`:
//! edits the profile; answers it as `GET /api/profile_settings` shows it.
//!
//! A field that is absent stays as it is; `phone` and `contacts` may be
//! `null` to clear them. The rules are registration's.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::domain::{Contacts, FullName, Phone};
use shared::http::account::{caller_user, profile_view};
use shared::http::session::NOT_AUTHENTICATED;
use shared::http::{JsonBody, respond};
use shared::{ApiError, App, Reply};

/// Handles `POST /api/profile_settings`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(update(&app, &req).await)
}

fn field_error(field: &str, err: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("{field} {err}"))
}

/// The fields to change: `None` leaves one as it is, `Some(None)` clears it.
struct ProfileChanges {
    full_name: Option<FullName>,
    phone: Option<Option<Phone>>,
    contacts: Option<Option<Contacts>>,
}

impl TryFrom<JsonBody> for ProfileChanges {
    type Error = ApiError;

    fn try_from(body: JsonBody) -> Result<Self, ApiError> {
        let full_name = match body.has("full_name") {
            true => Some(
                FullName::parse(body.str("full_name")?).map_err(|e| field_error("full_name", e))?,
            ),
            false => None,
        };
        let phone = match body.has("phone") {
            true => Some(
                body.opt_str("phone")?
                    .map(Phone::parse)
                    .transpose()
                    .map_err(|e| field_error("phone", e))?,
            ),
            false => None,
        };
        let contacts = match body.has("contacts") {
            true => Some(
                body.opt_str("contacts")?
                    .map(Contacts::parse)
                    .transpose()
                    .map_err(|e| field_error("contacts", e))?,
            ),
            false => None,
        };
        if full_name.is_none() && phone.is_none() && contacts.is_none() {
            return Err(ApiError::bad_request(
                "give at least one of full_name, phone, contacts.",
            ));
        }
        Ok(Self {
            full_name,
            phone,
            contacts,
        })
    }
}

async fn update(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (_, mut user) = caller_user(app, req, now).await?;
    let changes = ProfileChanges::try_from(JsonBody::parse(req)?)?;
    if let Some(full_name) = changes.full_name {
        user.full_name = full_name.into_inner();
    }
    if let Some(phone) = changes.phone {
        user.phone = phone.map(Phone::into_inner);
    }
    if let Some(contacts) = changes.contacts {
        user.contacts = contacts.map(Contacts::into_inner);
    }
    let stored = app
        .store
        .update_profile(&user)
        .await?
        // The account went away since the session was read.
        .ok_or(ApiError::Unauthorized(NOT_AUTHENTICATED))?;
    Ok(Reply::msg("success").with_data(profile_view(&stored)))
}
