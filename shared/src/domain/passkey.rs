//! Passkeys (WebAuthn discoverable credentials), relying-party side, on
//! `webauthn_rp` (pure Rust: no OpenSSL in the functions). Every piece of
//! state is bytes the store keeps: the ceremony's server state (5 minutes,
//! taken once) and each credential's static state (its public key) and
//! dynamic state (its sign counter and flags).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use webauthn_rp::bin::{Decode, Encode};
use webauthn_rp::request::auth::{AllowedCredentials, AuthenticationVerificationOptions};
use webauthn_rp::request::register::{
    CredProtect, PublicKeyCredentialUserEntity, RegistrationVerificationOptions, UserHandle16,
};
use webauthn_rp::request::{
    AsciiDomain, Credentials as _, ExtensionInfo, PublicKeyCredentialDescriptor, RpId,
    UserVerificationRequirement,
};
use webauthn_rp::response::auth::error::AuthCeremonyErr;
use webauthn_rp::response::register::{DynamicState, StaticState};
use webauthn_rp::response::{AuthTransports, CredentialId};
use webauthn_rp::{
    AuthenticatedCredential, DiscoverableAuthentication16, DiscoverableAuthenticationServerState,
    DiscoverableCredentialRequestOptions, NonDiscoverableAuthentication16,
    NonDiscoverableAuthenticationServerState, NonDiscoverableCredentialRequestOptions,
    PublicKeyCredentialCreationOptions, Registration, RegistrationServerState,
};

/// How long a ceremony waits for its answer.
pub const CEREMONY_TTL_SECS: i64 = 300;

/// A ceremony could not be started, or a stored state does not decode: a
/// bug or corrupt data (500).
#[derive(Debug, thiserror::Error)]
#[error("passkey ceremony: {0}")]
pub struct PasskeyError(String);

fn err(e: impl fmt::Display) -> PasskeyError {
    PasskeyError(e.to_string())
}

/// Why a passkey answer was refused (never shown in detail to clients).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The authenticator's sign counter did not grow: a cloned key, maybe.
    CounterWentBack,
    /// Anything else: origin, RP ID, flags, signature, challenge, parse.
    Invalid(String),
}

/// The relying party: its RP ID and the origins allowed to answer.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    rp_id: RpId,
    origins: Vec<String>,
}

/// A credential as stored (the key material as the library encodes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential {
    /// The credential id, base64url (as `credential.id`).
    pub id: String,
    /// The public key (and extension state), base64url.
    pub static_state: String,
    /// The sign counter and flags, base64url.
    pub dynamic_state: String,
    /// The transports the authenticator named.
    pub transports: u8,
}

/// What a verified assertion changes: the credential's new dynamic state.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The new dynamic state (base64url), to store in place of the old.
    pub dynamic_state: String,
    /// The authenticator's sign counter now.
    pub sign_count: u32,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(s: &str) -> Result<Vec<u8>, PasskeyError> {
    URL_SAFE_NO_PAD.decode(s).map_err(err)
}

impl RelyingParty {
    /// The relying party `rp_id` (a domain name: browsers refuse an IP
    /// address), answered from `origins`.
    pub fn new(rp_id: &str, origins: Vec<String>) -> Result<Self, PasskeyError> {
        if rp_id.parse::<std::net::IpAddr>().is_ok() {
            return Err(err("an IP address cannot be an RP ID"));
        }
        Ok(Self {
            rp_id: RpId::Domain(AsciiDomain::try_from(rp_id.to_owned()).map_err(err)?),
            origins,
        })
    }

    /// Creation options (the WebAuthn JSON form) for a passkey of the
    /// account `handle` (opaque, 16 bytes), excluding `existing`; and the
    /// server state to keep.
    pub fn registration_options(
        &self,
        handle: [u8; 16],
        username: &str,
        display_name: &str,
        existing: &[StoredCredential],
    ) -> Result<(Value, Vec<u8>), PasskeyError> {
        let handle = UserHandle16::decode(handle).map_err(err)?;
        let exclude = existing
            .iter()
            .map(descriptor)
            .collect::<Result<Vec<_>, _>>()?;
        let mut options = PublicKeyCredentialCreationOptions::passkey(
            &self.rp_id,
            PublicKeyCredentialUserEntity {
                name: username.try_into().map_err(err)?,
                id: &handle,
                display_name: display_name.try_into().ok(),
            },
            exclude,
        );
        // Asked for, not enforced: Chromium refuses create() when
        // credProtect is enforced on an authenticator without it. Every
        // sign-in requires user verification anyway.
        options.extensions.cred_protect =
            CredProtect::UserVerificationRequired(ExtensionInfo::AllowDontEnforceValue);
        let (server, client) = options.start_ceremony().map_err(err)?;
        Ok((
            serde_json::to_value(&client).map_err(err)?,
            server.encode().map_err(err)?,
        ))
    }

    /// Verifies a registration response (`credential.toJSON()`) against the
    /// ceremony `state`: the new credential and its owner's handle.
    pub fn verify_registration(
        &self,
        state: &[u8],
        response: &Value,
    ) -> Result<(StoredCredential, [u8; 16]), Refusal> {
        let invalid = |e: String| Refusal::Invalid(e);
        let state =
            RegistrationServerState::<16>::decode(state).map_err(|e| invalid(e.to_string()))?;
        let json = serde_json::to_vec(response).map_err(|e| invalid(e.to_string()))?;
        let registration =
            Registration::from_json_relaxed(&json).map_err(|e| invalid(e.to_string()))?;
        let options = RegistrationVerificationOptions::<String, String> {
            allowed_origins: &self.origins,
            ..Default::default()
        };
        let cred = state
            .verify(&self.rp_id, &registration, &options)
            .map_err(|e| invalid(format!("{e:?}")))?;
        let stored = (|| {
            Ok::<_, PasskeyError>(StoredCredential {
                id: b64(cred.id().as_ref()),
                static_state: b64(&cred.static_state().encode().map_err(err)?),
                dynamic_state: b64(&cred.dynamic_state().encode().map_err(err)?),
                transports: cred.transports().encode().map_err(err)?,
            })
        })()
        .map_err(|e| invalid(e.to_string()))?;
        let handle = cred
            .user_id()
            .encode()
            .map_err(|e| invalid(e.to_string()))?;
        Ok((stored, handle))
    }

    /// Request options for any passkey of this RP (sign-in without a
    /// username), and the server state to keep.
    pub fn discoverable_options(&self) -> Result<(Value, Vec<u8>), PasskeyError> {
        let (server, client) = DiscoverableCredentialRequestOptions::passkey(&self.rp_id)
            .start_ceremony()
            .map_err(err)?;
        Ok((
            serde_json::to_value(&client).map_err(err)?,
            server.encode().map_err(err)?,
        ))
    }

    /// Request options for one account's passkeys (the second factor).
    pub fn account_options(
        &self,
        creds: &[StoredCredential],
    ) -> Result<(Value, Vec<u8>), PasskeyError> {
        let mut allowed = AllowedCredentials::with_capacity(creds.len());
        for c in creds {
            allowed.push(descriptor(c)?.into());
        }
        let mut options =
            NonDiscoverableCredentialRequestOptions::second_factor(&self.rp_id, allowed)
                .map_err(err)?;
        options.options().user_verification = UserVerificationRequirement::Required;
        let (server, client) = options.start_ceremony().map_err(err)?;
        Ok((
            serde_json::to_value(&client).map_err(err)?,
            server.encode().map_err(err)?,
        ))
    }

    /// Verifies an assertion (`credential.toJSON()`) of `stored`, owned by
    /// `handle`, against the ceremony `state`; `discoverable` for a sign-in
    /// without a username.
    pub fn verify_assertion(
        &self,
        state: &[u8],
        response: &Value,
        stored: &StoredCredential,
        handle: [u8; 16],
        discoverable: bool,
    ) -> Result<Verified, Refusal> {
        let invalid = |e: String| Refusal::Invalid(e);
        let json = serde_json::to_vec(response).map_err(|e| invalid(e.to_string()))?;
        let uh = UserHandle16::decode(handle).map_err(|e| invalid(e.to_string()))?;
        let id = unb64(&stored.id).map_err(|e| invalid(e.to_string()))?;
        let static_state = unb64(&stored.static_state).map_err(|e| invalid(e.to_string()))?;
        let dynamic: [u8; 7] = unb64(&stored.dynamic_state)
            .ok()
            .and_then(|d| d.try_into().ok())
            .ok_or_else(|| invalid("dynamic state".into()))?;
        let mut cred = AuthenticatedCredential::new(
            CredentialId::<&[u8]>::decode(id.as_slice()).map_err(|e| invalid(e.to_string()))?,
            &uh,
            StaticState::decode(static_state.as_slice()).map_err(|e| invalid(e.to_string()))?,
            DynamicState::decode(dynamic).map_err(|e| invalid(e.to_string()))?,
        )
        .map_err(|e| invalid(e.to_string()))?;
        let options = AuthenticationVerificationOptions::<String, String> {
            allowed_origins: &self.origins,
            update_uv: true,
            ..Default::default()
        };
        let refused = |e: AuthCeremonyErr| match e {
            AuthCeremonyErr::SignatureCounter => Refusal::CounterWentBack,
            other => Refusal::Invalid(format!("{other:?}")),
        };
        if discoverable {
            let state = DiscoverableAuthenticationServerState::decode(state)
                .map_err(|e| invalid(e.to_string()))?;
            let auth = DiscoverableAuthentication16::from_json_relaxed(&json)
                .map_err(|e| invalid(e.to_string()))?;
            state
                .verify(&self.rp_id, &auth, &mut cred, &options)
                .map_err(refused)?;
        } else {
            let state = NonDiscoverableAuthenticationServerState::decode(state)
                .map_err(|e| invalid(e.to_string()))?;
            let auth = NonDiscoverableAuthentication16::from_json_relaxed(&json)
                .map_err(|e| invalid(e.to_string()))?;
            state
                .verify(&self.rp_id, &auth, &mut cred, &options)
                .map_err(refused)?;
        }
        let d = cred.dynamic_state();
        Ok(Verified {
            dynamic_state: b64(&d.encode().map_err(|e| invalid(e.to_string()))?),
            sign_count: d.sign_count,
        })
    }
}

/// The credential id (base64url) and, for a discoverable answer, the user
/// handle an assertion claims: what to look the credential up by.
pub fn assertion_ids(response: &Value, discoverable: bool) -> Option<(String, Option<[u8; 16]>)> {
    let json = serde_json::to_vec(response).ok()?;
    if discoverable {
        let a = DiscoverableAuthentication16::from_json_relaxed(&json).ok()?;
        Some((
            b64(a.raw_id().as_ref()),
            a.response().user_handle().encode().ok(),
        ))
    } else {
        let a = NonDiscoverableAuthentication16::from_json_relaxed(&json).ok()?;
        Some((b64(a.raw_id().as_ref()), None))
    }
}

fn descriptor(
    c: &StoredCredential,
) -> Result<PublicKeyCredentialDescriptor<Vec<u8>>, PasskeyError> {
    Ok(PublicKeyCredentialDescriptor {
        id: CredentialId::decode(unb64(&c.id)?).map_err(err)?,
        transports: AuthTransports::decode(c.transports).map_err(err)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_name_the_rp_and_refuse_an_ip() {
        assert!(RelyingParty::new("127.0.0.1", vec![]).is_err());
        let rp = RelyingParty::new("localhost", vec!["http://localhost:3000".into()]).unwrap();
        let (options, state) = rp
            .registration_options([7; 16], "alice", "Alice Smith", &[])
            .unwrap();
        assert_eq!(options["rp"]["id"], "localhost");
        assert_eq!(
            options["authenticatorSelection"]["userVerification"],
            "required"
        );
        assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
        assert_eq!(options["attestation"], "none");
        assert!(!state.is_empty());
        let (request, _) = rp.discoverable_options().unwrap();
        assert_eq!(request["userVerification"], "required");
        assert!(assertion_ids(&serde_json::json!({"id": "x"}), true).is_none());
    }
}
