//! The correspondence's rules: what a message may hold, the placeholders a saved reply or
//! a caseworker's text may use, and the per-case Reply-To address. Pure: no HTTP, SQL or mail.

use std::fmt;

/// Most characters an answer from the requester may hold (the status page says so).
pub const ANSWER_LIMIT: usize = 4_000;
/// Most characters a message from the task force may hold, placeholders filled in.
pub const MESSAGE_LIMIT: usize = 10_000;

/// A message body: trimmed, not empty, at most `limit` characters. Plain text; every page
/// and mail escapes it where it is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

/// Why a body was refused, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is {0} characters long; at most {1} are allowed")]
    TooLong(usize, usize),
}

impl MessageBody {
    pub fn parse(raw: &str, limit: usize) -> Result<Self, BodyError> {
        // Line ends as one kind (a form sends CR LF), counted as the textarea counts them.
        let text = raw.trim().replace("\r\n", "\n");
        if text.is_empty() {
            return Err(BodyError::Empty);
        }
        let n = text.chars().count();
        if n > limit {
            return Err(BodyError::TooLong(n, limit));
        }
        Ok(MessageBody(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The placeholders a text to the requester may hold.
pub const PLACEHOLDERS: &[&str] = &["reference", "guidance", "status_page"];

/// A `{name}` in a text that is not one of `PLACEHOLDERS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPlaceholder(pub String);

impl fmt::Display for UnknownPlaceholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{{}}} is not a placeholder; use {{reference}}, {{guidance}} or {{status_page}}",
            self.0
        )
    }
}

/// Every `{word}` in `text`, in order (a brace that opens no word is plain text).
fn placeholders(text: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(open) = text[from..].find('{').map(|i| from + i) {
            let rest = &text[open + 1..];
            let word_len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if word_len > 0 && rest[word_len..].starts_with('}') {
                from = open + word_len + 2;
                return Some((open, from, &rest[..word_len]));
            }
            from = open + 1;
        }
        None
    })
}

/// Refuses a text that names a placeholder there is no value for.
pub fn check_placeholders(text: &str) -> Result<(), UnknownPlaceholder> {
    match placeholders(text).find(|(_, _, name)| !PLACEHOLDERS.contains(name)) {
        Some((_, _, name)) => Err(UnknownPlaceholder(name.to_string())),
        None => Ok(()),
    }
}

/// The values a text's placeholders are filled with.
pub struct Filled<'a> {
    pub reference: &'a str,
    pub guidance: &'a str,
    /// Absolute: the requester reads it in a mail or on another device.
    pub status_page: &'a str,
}

/// `text` with its placeholders filled in (call `check_placeholders` first; an unknown one
/// is left as typed).
pub fn fill(text: &str, values: &Filled) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, name) in placeholders(text) {
        let value = match name {
            "reference" => values.reference,
            "guidance" => values.guidance,
            "status_page" => values.status_page,
            _ => continue,
        };
        out.push_str(&text[at..start]);
        out.push_str(value);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// The Reply-To of a case's mail: `reply_to` with the case's token as a sub-address
/// (`taskforce+TOKEN@example.org`), so that a reply names its case by the token alone.
pub fn reply_address(reply_to: &str, token: &str) -> String {
    match reply_to.rsplit_once('@') {
        Some((local, domain)) => format!("{local}+{token}@{domain}"),
        None => reply_to.to_string(),
    }
}

/// The token in `address` when it is `reply_to` with a sub-address (the inverse of
/// `reply_address`); any case of letters, as mail servers may change it.
pub fn token_of(reply_to: &str, address: &str) -> Option<String> {
    let (local, domain) = reply_to.rsplit_once('@')?;
    let (a_local, a_domain) = address.rsplit_once('@')?;
    if !a_domain.eq_ignore_ascii_case(domain) {
        return None;
    }
    let (base, token) = a_local.split_once('+')?;
    (base.eq_ignore_ascii_case(local) && !token.is_empty()).then(|| token.to_ascii_lowercase())
}

/// A new reply token: 128 random bits in lower-case hex, safe in a mail's local part.
pub fn new_reply_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_reply_address_gives_back_its_token() {
        let a = super::reply_address("taskforce@example.org", "ab12");
        assert_eq!(
            super::token_of("taskforce@example.org", &a).as_deref(),
            Some("ab12")
        );
        assert_eq!(
            super::token_of("taskforce@example.org", "TASKFORCE+AB12@Example.org").as_deref(),
            Some("ab12")
        );
        assert_eq!(
            super::token_of("taskforce@example.org", "other+ab12@example.org"),
            None
        );
        assert_eq!(
            super::token_of("taskforce@example.org", "taskforce@example.org"),
            None
        );
    }

    use super::*;

    #[test]
    fn bodies_are_trimmed_and_limited() {
        assert_eq!(
            MessageBody::parse("  hello\r\nthere ", 11)
                .unwrap()
                .as_str(),
            "hello\nthere"
        );
        assert_eq!(MessageBody::parse(" \n ", 10), Err(BodyError::Empty));
        assert_eq!(
            MessageBody::parse(&"ب".repeat(11), 10),
            Err(BodyError::TooLong(11, 10))
        );
        assert!(MessageBody::parse(&"ب".repeat(10), 10).is_ok());
    }

    #[test]
    fn known_placeholders_are_filled_and_unknown_ones_refused() {
        let values = Filled {
            reference: "TF-7K3M-9QXD",
            guidance: "Ask UNHCR.",
            status_page: "https://t.example/status",
        };
        let text = "Re {reference}: {guidance} See {status_page}. {not a word} {}";
        assert_eq!(check_placeholders(text), Ok(()));
        assert_eq!(
            fill(text, &values),
            "Re TF-7K3M-9QXD: Ask UNHCR. See https://t.example/status. {not a word} {}"
        );
        let err = check_placeholders("Hello {name}, {reference}").unwrap_err();
        assert_eq!(err, UnknownPlaceholder("name".into()));
        assert!(err.to_string().contains("{name} is not a placeholder"));
        // A value is never read again for placeholders.
        let tricky = Filled {
            guidance: "{reference}",
            ..values
        };
        assert_eq!(fill("{guidance}", &tricky), "{reference}");
    }

    #[test]
    fn the_reply_address_carries_the_token_as_a_sub_address() {
        assert_eq!(
            reply_address("taskforce@example.org", "abc123"),
            "taskforce+abc123@example.org"
        );
        let token = new_reply_token();
        assert_eq!(token.len(), 32);
        assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
