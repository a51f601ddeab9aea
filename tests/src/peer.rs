//! A client of a test app from a loopback address of its own (`127.0.0.2`,
//! ...): the server counts it as a client apart.

use serde_json::{Value, json};

use crate::{Resp, TestApp};

/// Requests to a test app from a client address of their own.
pub struct Peer<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) client: reqwest::Client,
}

impl Peer<'_> {
    /// `POST path` with a JSON body and extra headers.
    pub async fn post_with(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Resp {
        let mut req = self
            .client
            .post(format!("{}{path}", self.app.base))
            .json(body);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        self.app.send(req).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.post_with(path, body, &[]).await
    }

    /// `POST /api/login`, with a device token as the cookie if given.
    pub async fn login(&self, username: &str, pwd: &str, device: Option<&str>) -> Resp {
        let cookie = device.map(|d| format!("device_token={d}"));
        let headers: Vec<(&str, &str)> = cookie
            .as_deref()
            .map(|c| vec![("cookie", c)])
            .unwrap_or_default();
        self.post_with(
            "/api/login",
            &json!({ "username": username, "pwd": pwd, "remember": false }),
            &headers,
        )
        .await
    }

    /// `POST /api/reset_password_request`.
    pub async fn request_reset(&self, username: &str) -> Resp {
        self.post(
            "/api/reset_password_request",
            &json!({ "username": username }),
        )
        .await
    }

    /// `POST /api/registration` with a full name and no phone or contacts.
    pub async fn register(&self, username: &str, email: &str, pwd: &str) -> Resp {
        self.post(
            "/api/registration",
            &json!({
                "username": username,
                "full_name": "Test User",
                "email": email,
                "phone": null,
                "contacts": null,
                "pwd": pwd,
            }),
        )
        .await
    }
}
