//! How a sign-in was proven, as RFC 8176 names it (a session keeps it; the
//! service tokens carry it as `amr`, so a service can ask for two factors).

/// A password alone.
pub const PASSWORD: &[&str] = &["pwd"];
/// A password and a TOTP code.
pub const PASSWORD_TOTP: &[&str] = &["pwd", "otp", "mfa"];
/// A password and a recovery code.
pub const PASSWORD_RECOVERY_CODE: &[&str] = &["pwd", "mfa"];
/// A password and a passkey (with user verification).
pub const PASSWORD_PASSKEY: &[&str] = &["pwd", "hwk", "user", "mfa"];
/// A passkey with user verification: a key held and the user verified on
/// it, two factors.
pub const PASSKEY: &[&str] = &["hwk", "user", "mfa"];
