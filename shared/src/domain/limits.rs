//! Abuse-limit rules: fixed windows, the lockout schedule, and how client
//! addresses are grouped. Pure arithmetic; counting happens in the store.

/// Consecutive failed logins for one username (existing or not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginFailures {
    /// How many in a row.
    pub count: u32,
    /// Epoch seconds of the latest.
    pub last_at: i64,
}

/// One fixed-window counter with a ceiling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateCap {
    /// What is counted, e.g. `ip-login#203.0.113.9` or `reset#admin`.
    pub key: String,
    /// A counter of its own within the key's (a client of a user's
    /// counter): stored beside the key's, so that what is removed with
    /// the key (an account's counters) goes with it.
    pub part: Option<String>,
    /// Window start, epoch seconds.
    pub window_start: i64,
    /// Most hits allowed in the window.
    pub limit: u32,
    /// When the counter can be forgotten (window end).
    pub expires_at: i64,
}

/// A fixed-window cap on `key` at time `now`.
pub fn fixed_window(key: String, limit: u32, window_secs: i64, now: i64) -> RateCap {
    let window_start = now - now.rem_euclid(window_secs);
    RateCap {
        key,
        part: None,
        window_start,
        limit,
        expires_at: window_start + window_secs,
    }
}

impl RateCap {
    /// This cap counted for `part` of its key alone.
    pub fn per(mut self, part: String) -> Self {
        self.part = Some(part);
        self
    }

    /// The counter's name: the key, and the part after a `#`.
    pub fn counter_name(&self) -> String {
        match &self.part {
            Some(part) => format!("{}#{part}", self.key),
            None => self.key.clone(),
        }
    }
}

/// The key a client address is counted under: the address itself for IPv4,
/// its /64 network for IPv6 (one subscriber usually holds a whole /64).
pub fn client_key(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}
/// Seconds a username stays locked after `failures`, from the latest failure:
/// none below the threshold, then `base * 2^(n - max)` capped at `cap`.
pub fn lockout_secs(failures: u32, max_failures: u32, base: i64, cap: i64) -> i64 {
    if failures < max_failures {
        return 0;
    }
    let doublings = (failures - max_failures).min(30);
    base.saturating_mul(1_i64 << doublings).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_doubles_from_one_minute_and_caps_at_fifteen() {
        let l = |n| lockout_secs(n, 5, 60, 900);
        assert_eq!(
            [l(0), l(4), l(5), l(6), l(7), l(8), l(9), l(40)],
            [0, 0, 60, 120, 240, 480, 900, 900]
        );
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        assert_eq!(client_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(client_key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
        assert_eq!(client_key("203.0.113.9"), "203.0.113.9");
    }

    #[test]
    fn windows_align_to_their_length() {
        let cap = fixed_window("k".into(), 3, 3600, 7300);
        assert_eq!((cap.window_start, cap.expires_at), (7200, 10800));
    }
}
