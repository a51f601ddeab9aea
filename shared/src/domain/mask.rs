//! Masking an address for display (`d******z@example.com`).

/// Masks an email for display: `dmitriyz@example.com` -> `d******z@example.com`.
///
/// The first and last characters of the local part stay, every hidden character
/// becomes one `*`; a local part of one character shows as `*`, of two as `a*`.
pub fn mask_email(email: &str) -> String {
    let (local, domain) = match email.rsplit_once('@') {
        Some(parts) => parts,
        None => (email, ""),
    };
    let chars: Vec<char> = local.chars().collect();
    let masked: String = match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n => {
            let mut s = String::with_capacity(n);
            s.push(chars[0]);
            s.extend(std::iter::repeat_n('*', n - 2));
            s.push(chars[n - 1]);
            s
        }
    };
    if email.contains('@') {
        format!("{masked}@{domain}")
    } else {
        masked
    }
}

#[cfg(test)]
mod tests {
    use super::mask_email;

    #[test]
    fn masks_like_the_contract() {
        for (input, expected) in [
            ("dmitriyz@example.com", "d******z@example.com"),
            ("a@b.c", "*@b.c"),
            ("ab@b.c", "a*@b.c"),
            ("abc@b.c", "a*c@b.c"),
            ("t@t.t", "*@t.t"),
            ("Jo.Hn@Example.com", "J***n@Example.com"),
        ] {
            assert_eq!(mask_email(input), expected, "{input}");
        }
    }
}
