//! Domain rules: values that parse and validate (once a value has one of
//! these types it is valid), and the policies of the service - password
//! hashing, session tokens, abuse limits, what each email says. No I/O: the
//! world is reached through [`crate::ports`].

pub mod activity;
pub mod amr;
pub mod hashing;
pub mod limits;
pub mod messages;

mod device;
mod edge;
mod email;
mod hs256;
mod mask;
mod mfa;
pub mod passkey;
mod password;
mod profile;
pub mod service_token;
mod session_token;
mod token;
mod user_agent;
mod username;

pub use device::{
    DEVICE_COOKIE, DEVICE_HEADER, DEVICE_TTL_SECS, DeviceClaims, DeviceId, DeviceKey,
};
pub use edge::{
    EdgeOrigin, ORIGIN_VERIFY_HEADER, VIEWER_ADDRESS_HEADER, WeakOriginSecret, viewer_ip,
};
pub use email::{EmailAddress, EmailError};
pub use limits::{LoginFailures, RateCap, client_key, fixed_window, lockout_secs};
pub use mask::mask_email;
pub use messages::Email;
pub use mfa::{
    FactorCode, FactorKey, MFA_MAX_FAILURES, MFA_METHODS, MFA_TOKEN_TTL_SECS, MfaToken,
    RECOVERY_CODES, RecoveryCode, SealError, TOTP_STEP_SECS, TotpSecret, qr_svg,
};
pub use password::{Password, PasswordError};
pub use profile::{Contacts, FieldError, FullName, Phone};
pub use session_token::{JwtKeys, MIN_SECRET_BYTES, Verified, WeakSecret};
pub use token::{AccountId, OneTimeToken, SessionId, TokenHash};
pub use user_agent::device_summary;
pub use username::{Username, UsernameError};
