//! Domain types that parse and validate: once a value has one of these types it is valid.

mod email;
mod mask;
mod password;
mod profile;
mod token;
mod username;

pub use email::{EmailAddress, EmailError};
pub use mask::mask_email;
pub use password::{Password, PasswordError};
pub use profile::{Contacts, FieldError, FullName, Phone};
pub use token::{OneTimeToken, SessionId, TokenHash};
pub use username::{Username, UsernameError};
