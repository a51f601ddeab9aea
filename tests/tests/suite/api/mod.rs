//! End-to-end tests over real HTTP against the dev server's app (on the
//! memory store, or on DynamoDB + SES with `TEST_STORE=dynamodb`).

mod account;
mod account_events;
mod activity;
mod authorizer;
mod csrf;
mod email_change;
mod hostile;
mod index;
mod limits;
mod lockout;
mod login;
mod logout;
mod mfa;
mod notices;
mod pages;
mod passkeys;
mod profile;
mod registration;
mod registration_mail;
mod reset;
mod service_tokens;
mod sessions;
mod takeover;
mod whoami;
