//! One HTTP answer of a test app, its envelope parsed.

use reqwest::header::HeaderMap;
use serde_json::Value;

/// One HTTP answer, body parsed as JSON (the test fails if it is not JSON).
#[derive(Debug)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// The parsed envelope.
    pub body: Value,
}

impl Resp {
    /// The envelope's `msg`.
    pub fn msg(&self) -> &str {
        self.body["msg"].as_str().unwrap_or_default()
    }

    /// Asserts status, envelope status and message.
    #[track_caller]
    pub fn expect(&self, status: u16, msg: &str) -> &Self {
        assert_eq!(self.status, status, "{:?}", self.body);
        let envelope = if status == 200 { "OK" } else { "ERR" };
        assert_eq!(self.body["status"], envelope, "{:?}", self.body);
        assert_eq!(self.msg(), msg, "{:?}", self.body);
        self
    }

    /// Every `Set-Cookie` value.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    /// The `Set-Cookie` value for `name`.
    pub fn set_cookie(&self, name: &str) -> String {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no Set-Cookie for {name}: {:?}", self.set_cookies()))
    }

    /// The value of the cookie `name` set by this response.
    pub fn cookie_value(&self, name: &str) -> String {
        let c = self.set_cookie(name);
        c[name.len() + 1..].split(';').next().unwrap().to_owned()
    }

    /// `data.token`.
    pub fn token(&self) -> String {
        self.body["data"]["token"].as_str().unwrap().to_owned()
    }

    /// A header as a string.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}
