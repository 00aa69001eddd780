//! Sign-in addresses: a mobile number (technicians and owners sign in with a code sent by
//! SMS) or an e-mail address (front desks, usually with a password). Parsed into one
//! canonical form so that "+86 138-0013-8000" and "+8613800138000" are the same account.

use serde::{Deserialize, Serialize};

/// A canonical sign-in address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Address {
    /// E.164: `+` and 8 to 15 digits.
    Phone(String),
    /// Lower-cased, at most 254 characters.
    Email(String),
}

impl Address {
    /// Parses what a person typed. Phone numbers need the country code (`+86…`, `+49…`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.contains('@') {
            let lower = s.to_lowercase();
            let (local, domain) = lower.rsplit_once('@').unwrap_or(("", ""));
            // Plain ASCII addresses, as the API document states them: what mail providers
            // give out here, and nothing a mail system could read two ways.
            let local_ok = (1..=64).contains(&local.len())
                && local
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c));
            let labels: Vec<&str> = domain.split('.').collect();
            let domain_ok = labels.len() >= 2
                && labels.iter().all(|l| {
                    (1..=63).contains(&l.len())
                        && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
            return if local_ok && domain_ok && lower.len() <= 254 {
                Ok(Self::Email(lower))
            } else {
                Err(
                    "That e-mail address does not look right; check it (like name@example.com)."
                        .into(),
                )
            };
        }
        let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
        let only_phone_chars = s
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
        if !s.starts_with('+') || !only_phone_chars || !(8..=15).contains(&digits.len()) {
            return Err(
                "Type the mobile number with its country code, like +86 138 0013 8000, or an e-mail address."
                    .into(),
            );
        }
        Ok(Self::Phone(format!("+{digits}")))
    }

    /// The canonical text (what the database keys on).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Phone(s) | Self::Email(s) => s,
        }
    }

    /// The address with most of it hidden, for lists and messages ("+86•••••••8000",
    /// "a•••@example.com").
    pub fn masked(&self) -> String {
        match self {
            Self::Phone(p) => {
                let tail: String = p
                    .chars()
                    .rev()
                    .take(4)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                let head: String = p.chars().take(3).collect();
                format!("{head}•••{tail}")
            }
            Self::Email(e) => match e.split_once('@') {
                Some((l, d)) => format!("{}•••@{d}", l.chars().next().unwrap_or('•')),
                None => "•••".into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_and_emails_have_one_form() {
        assert_eq!(
            Address::parse(" +86 138-0013-8000 ").unwrap(),
            Address::Phone("+8613800138000".into())
        );
        assert_eq!(
            Address::parse("Desk@Example.COM").unwrap(),
            Address::Email("desk@example.com".into())
        );
        for bad in [
            "13800138000",
            "+12",
            "+86 138 abc",
            "a@b",
            "@x.com",
            "a b@x.com",
            "",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Address::parse("+8613800138000").unwrap().masked(),
            "+86•••8000"
        );
    }
}
