//! End-to-end tests over real HTTP against the dev server's app.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod csrf;
mod hostile;
mod index;
mod limits;
mod login;
mod logout;
mod profile;
mod registration;
mod reset;
