//! The emails the service sends, composed once as multipart (text + HTML) MIME.

use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};

use crate::config::Config;
use crate::error::ApiError;

/// A composed message ready for any transport.
pub struct Email {
    /// Recipient address (for transports that need it apart from the headers).
    pub to: String,
    /// The subject line (for the dev server's mailbox).
    pub subject: String,
    /// The text part as written, links included (for the dev server's
    /// mailbox; never logged).
    pub text: String,
    /// The RFC 5322 message, CRLF line endings.
    pub raw: Vec<u8>,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body holds one-time links: never print it.
        f.debug_struct("Email").finish_non_exhaustive()
    }
}

/// "Confirm your email" with the confirmation link. The address is not
/// confirmed yet, so the mail carries nothing the requester chose (a
/// username such as `paypal-verify.com` would be shown as a link).
pub fn confirmation(config: &Config, to: &str, link: &str) -> Result<Email, ApiError> {
    compose(
        config,
        to,
        "Confirm your email address",
        &[
            "Hello,",
            "Please confirm your email address by opening this link:",
        ],
        Some(link),
        &[
            "The link works once and expires in 24 hours. If you did not create an account, ignore this email.",
        ],
    )
}

/// "Someone tried to register with your address": sent instead of a second account.
pub fn already_registered(config: &Config, to: &str) -> Result<Email, ApiError> {
    compose(
        config,
        to,
        "Someone tried to register with your address",
        &[
            "Hello,",
            "Someone tried to register a new account with this email address, which already belongs to your account. The address stays yours: that account cannot confirm it, use it or reset a password through it.",
        ],
        None,
        &[
            "If it was you, sign in with your existing account or reset its password. Otherwise you can ignore this email.",
        ],
    )
}

/// "Reset your password" with the reset link; the username only for an
/// address its account has confirmed (else nothing the requester chose).
pub fn reset(
    config: &Config,
    to: &str,
    username: Option<&str>,
    link: &str,
) -> Result<Email, ApiError> {
    compose(
        config,
        to,
        "Reset your password",
        &[
            &greeting(username),
            "To choose a new password, open this link:",
        ],
        Some(link),
        &[
            "The link works once and expires in 1 hour. If you did not ask for a reset, ignore this email: your password stays the same.",
        ],
    )
}

/// "Your password was changed": sent after a reset.
pub fn password_changed(config: &Config, to: &str, username: &str) -> Result<Email, ApiError> {
    compose(
        config,
        to,
        "Your password was changed",
        &[
            &format!("Hello {username},"),
            "The password of your account was just changed and every session was signed out.",
        ],
        None,
        &["If you did not do this, reset your password now and contact support."],
    )
}

/// "Your password was changed": sent after a signed-in change.
pub fn password_changed_by_user(
    config: &Config,
    to: &str,
    username: Option<&str>,
) -> Result<Email, ApiError> {
    compose(
        config,
        to,
        "Your password was changed",
        &[
            &greeting(username),
            "The password of your account was just changed; every other session was signed out.",
        ],
        None,
        &["If you did not do this, reset your password now and contact support."],
    )
}

/// A change of the account's second factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorChange {
    /// TOTP turned on (or moved to a new authenticator).
    TotpOn,
    /// TOTP turned off.
    TotpOff,
    /// A new set of recovery codes.
    NewRecoveryCodes,
    /// A passkey added.
    PasskeyAdded,
    /// A passkey removed.
    PasskeyRemoved,
}

/// The notice of a change of the account's second factors.
pub fn factor_changed(
    config: &Config,
    to: &str,
    username: &str,
    change: FactorChange,
) -> Result<Email, ApiError> {
    let (subject, what) = match change {
        FactorChange::TotpOn => (
            "Two-factor sign-in was turned on",
            "Two-factor sign-in was just turned on for your account, with an authenticator app and new recovery codes: signing in now asks for a code from that app.",
        ),
        FactorChange::TotpOff => (
            "Two-factor sign-in was turned off",
            "Two-factor sign-in was just turned off for your account: signing in asks for the password only.",
        ),
        FactorChange::NewRecoveryCodes => (
            "New recovery codes were made",
            "New recovery codes were just made for your account; the earlier ones no longer work.",
        ),
        FactorChange::PasskeyAdded => (
            "A passkey was added",
            "A passkey was just added to your account: it signs in without the password.",
        ),
        FactorChange::PasskeyRemoved => (
            "A passkey was removed",
            "A passkey was just removed from your account: it no longer signs in.",
        ),
    };
    compose(
        config,
        to,
        subject,
        &[&format!("Hello {username},"), what],
        None,
        &["If you did not do this, reset your password now and contact support."],
    )
}

/// "Confirm your new address" with the link that applies the change; the
/// address is not confirmed yet, so nothing the requester chose is in it.
pub fn confirm_new_address(config: &Config, to: &str, link: &str) -> Result<Email, ApiError> {
    compose(
        config,
        to,
        "Confirm your new email address",
        &[
            "Hello,",
            "To make this the email address of your account, open this link:",
        ],
        Some(link),
        &[
            "The link works once and expires in 24 hours. Until then your account keeps its old address. If you did not ask for this, ignore this email.",
        ],
    )
}

/// To the old address: the change was asked for, with the link that undoes
/// it (none for an address the account never verified).
pub fn address_change_requested(
    config: &Config,
    to: &str,
    username: Option<&str>,
    link: Option<&str>,
) -> Result<Email, ApiError> {
    let (what, after): (&str, &[&str]) = match link {
        Some(_) => (
            "Someone signed in to your account asked to change its email address away from this one. If it was not you, open this link: it keeps (or restores) this address and signs every session out.",
            &["The link works once and for 7 days. Then reset your password."],
        ),
        None => (
            "Someone signed in to your account asked to change its email address away from this one, which was never confirmed.",
            &["If it was not you, reset your password and contact support."],
        ),
    };
    compose(
        config,
        to,
        "Your email address is being changed",
        &[&greeting(username), what],
        link,
        after,
    )
}

/// To an address that belongs to another account, named in a change.
pub fn address_in_use(config: &Config, to: &str) -> Result<Email, ApiError> {
    compose(
        config,
        to,
        "Someone tried to use your email address",
        &[
            "Hello,",
            "Someone tried to change another account's email address to this one, which belongs to your account. Nothing changed: the address stays yours.",
        ],
        None,
        &["You can ignore this email."],
    )
}

/// To the restored address after a revert: what happened, and the reset
/// link that is now the only way back in.
pub fn address_restored(
    config: &Config,
    to: &str,
    username: &str,
    reset_link: &str,
    factors_removed: bool,
    passkeys_left: usize,
) -> Result<Email, ApiError> {
    let mut lines = vec![
        format!("Hello {username},"),
        "This address is your account's address again. Every session was signed out, every device must sign in again, every other emailed link stopped working, and the password stopped working: whoever changed the address may know it.".to_owned(),
    ];
    if factors_removed {
        lines.push("Two-factor sign-in and passkeys set up since the address was changed were removed (with their recovery codes): whoever changed the address may hold them. Set them up again from your account page once you are back in.".to_owned());
    }
    if passkeys_left > 0 {
        lines.push(format!("Your account still has {passkeys_left} passkey(s) from before the change: if you do not recognise one, remove it from your account page once you are back in."));
    }
    lines.push("Choose a new password with this link:".to_owned());
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    compose(
        config,
        to,
        "Your email address was restored: choose a new password",
        &lines,
        Some(reset_link),
        &[
            "The link works once and expires in 1 hour. If it expires, ask for a new one on the sign-in page (\"Forgot password\").",
        ],
    )
}

/// To the address a revert replaced: it is no longer the account's.
pub fn address_replaced(config: &Config, to: &str) -> Result<Email, ApiError> {
    compose(
        config,
        to,
        "This address was removed from an account",
        &[
            "Hello,",
            "The owner of an account used the link sent to its previous address to restore that address. This address is no longer the account's, and the account's password must be chosen again.",
        ],
        None,
        &[
            "If you changed that account's address yourself, use the mail sent to the restored address.",
        ],
    )
}

/// "Your account was deleted".
pub fn account_deleted(
    config: &Config,
    to: &str,
    username: Option<&str>,
) -> Result<Email, ApiError> {
    compose(
        config,
        to,
        "Your account was deleted",
        &[
            &greeting(username),
            "Your account and everything stored about it were just deleted.",
        ],
        None,
        &["If you did not do this, contact support."],
    )
}

/// "New sign-in to your account": when, from where, which browser, and
/// what to do if it was not the owner (`reset_page`: the reset page).
pub fn new_sign_in(
    config: &Config,
    to: &str,
    username: Option<&str>,
    when: &str,
    ip: Option<&str>,
    device: Option<&str>,
    reset_page: &str,
) -> Result<Email, ApiError> {
    let seen = format!(
        "When: {when}\nFrom: {}\nBrowser: {}",
        ip.unwrap_or("an unknown address"),
        device.unwrap_or("an unknown browser")
    );
    compose(
        config,
        to,
        "New sign-in to your account",
        &[
            &greeting(username),
            "Your account was just signed in to from a browser or app it had not been used from before.",
            &seen,
        ],
        None,
        &[
            "If this was you, there is nothing to do.",
            &format!(
                "If it was not you, reset your password now ({reset_page}) and sign out everywhere from your account page: every session then ends."
            ),
        ],
    )
}

/// "Hello <username>," or, without one, "Hello,".
fn greeting(username: Option<&str>) -> String {
    username.map_or_else(|| "Hello,".to_owned(), |u| format!("Hello {u},"))
}

fn compose(
    config: &Config,
    to: &str,
    subject: &str,
    before: &[&str],
    link: Option<&str>,
    after: &[&str],
) -> Result<Email, ApiError> {
    let to_mailbox: Mailbox = to
        .parse()
        .map_err(|e| ApiError::internal(anyhow::anyhow!("recipient address: {e}")))?;
    let mut text = before.join("\n\n");
    let mut html: String = before
        .iter()
        .map(|p| format!("<p>{}</p>\n", escape(p)))
        .collect();
    if let Some(link) = link {
        text.push_str(&format!("\n\n{link}\n"));
        let l = escape(link);
        html.push_str(&format!("<p><a href=\"{l}\">{l}</a></p>\n"));
    }
    for p in after {
        text.push_str(&format!("\n{p}\n"));
        html.push_str(&format!("<p>{}</p>\n", escape(p)));
    }
    let html = format!("<!DOCTYPE html>\n<html><body>\n{html}</body></html>\n");
    // A Message-ID on the sender's own domain (spam filters penalise a missing one).
    let mut id = [0u8; 16];
    getrandom::fill(&mut id)?;
    let message_id = format!(
        "<{}@{}>",
        id.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        config.mail_from.email.domain()
    );
    let message = Message::builder()
        .message_id(Some(message_id))
        .from(config.mail_from.clone())
        .to(to_mailbox)
        .subject(subject)
        .multipart(
            MultiPart::alternative()
                .singlepart(part(ContentType::TEXT_PLAIN, text.clone()))
                .singlepart(part(ContentType::TEXT_HTML, html)),
        )
        .map_err(|e| ApiError::internal(anyhow::anyhow!("compose email: {e}")))?;
    Ok(Email {
        to: to.to_owned(),
        subject: subject.to_owned(),
        text,
        raw: message.formatted(),
    })
}

/// Our texts are ASCII with short lines except the link line; sending them
/// 7bit keeps links verbatim in the raw message (no quoted-printable soft
/// breaks inside a token) for people and tools reading the `.eml`.
fn part(content_type: ContentType, text: String) -> SinglePart {
    let plain_7bit = text.is_ascii() && text.lines().all(|l| l.len() < 990);
    let builder = SinglePart::builder().header(content_type);
    if plain_7bit {
        let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
        builder.body(Body::dangerous_pre_encoded(
            crlf.into_bytes(),
            ContentTransferEncoding::SevenBit,
        ))
    } else {
        builder.body(text)
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_multipart_with_the_link_verbatim_in_both_parts() {
        let config = Config::from_lookup(|_| None).unwrap();
        let link =
            "http://127.0.0.1:3000/confirm_email/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let email = confirmation(&config, "t@t.t", link).unwrap();
        let raw = String::from_utf8(email.raw).unwrap();
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("text/plain"));
        assert!(raw.contains("text/html"));
        assert_eq!(raw.matches(link).count(), 3, "{raw}");
        assert!(raw.contains("To: t@t.t"));
        assert!(
            raw.contains("Message-ID: <") && raw.contains("@example.com>"),
            "{raw}"
        );
    }
}
