//! Reading a mail sent to the task-force mailbox: MIME, encoded words, transfer encodings
//! and charsets by `mail-parser`; then what the product needs to know of it: who sent it,
//! what it answers, whether a person or a machine wrote it, its text (HTML turned into
//! plain text, so no markup reaches a page) and its files. Nothing here stores or logs.

use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use crate::domain::fields::{ascii_digit, ContactEmail};
use crate::domain::{CaseReference, Language};

/// How big a mail and each of its files may be.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub mail_bytes: usize,
    pub file_bytes: usize,
}

/// Why a mail could not be read. Kept with the raw mail for staff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("the mail is {size} bytes, over the limit of {limit} bytes (MAIL_MAX_BYTES)")]
    TooLarge { size: usize, limit: usize },
    #[error("this is not a mail message: no headers could be read")]
    NotAMessage,
    #[error("the MIME structure is broken: {0}")]
    BrokenMime(String),
    #[error("the mail has no sender address (From) to answer or match")]
    NoSender,
}

/// Who or what wrote a mail, by its headers (RFC 3834 and the conventions of mail
/// software): a person gets an acknowledgment; nothing automatic ever does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Writer {
    Person,
    /// An out-of-office or other automatic answer.
    AutoReply,
    /// Mail sent by a program (lists, bulk mail, mailer daemons, our own mail); the reason
    /// names the header.
    Automatic(&'static str),
    /// A delivery-status report about a mail we sent.
    Bounce(Bounce),
}

/// What a delivery-status report (RFC 3464) says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bounce {
    /// The Message-IDs the report quotes (of the mail that was not delivered).
    pub about: Vec<String>,
    /// The address that could not be reached.
    pub recipient: Option<String>,
    /// `Status:` (e.g. 5.1.1) and the diagnostic, for staff.
    pub status: Option<String>,
    pub diagnostic: Option<String>,
}

/// A file that came with a mail.
#[derive(Debug, Clone)]
pub struct File {
    pub filename: String,
    /// The type the mail claims.
    pub declared_type: String,
    pub data: Vec<u8>,
}

/// A mail, read.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// `<…>` stripped; `None` when the mail has none.
    pub message_id: Option<String>,
    pub from: ContactEmail,
    pub from_name: Option<String>,
    /// Every address it was sent to (To, Cc, Delivered-To, X-Original-To), lower-case.
    pub recipients: Vec<String>,
    pub subject: String,
    /// The Message-IDs it answers (In-Reply-To, then References).
    pub answers: Vec<String>,
    /// The text, as plain text.
    pub text: String,
    pub files: Vec<File>,
    pub writer: Writer,
}

impl Inbound {
    /// The references to cases in the subject (`TF-XXXX-XXXX`, as people type them).
    pub fn subject_references(&self) -> Vec<CaseReference> {
        references_in(&self.subject)
    }

    /// The language to answer in: Arabic script in the subject or text means `arabic`
    /// (Dari unless configured otherwise), else English.
    pub fn language(&self, arabic: Language) -> Language {
        let arabic_script = |s: &str| s.chars().any(|c| matches!(c, '\u{0600}'..='\u{06FF}'));
        if arabic_script(&self.subject) || arabic_script(&self.text) {
            arabic
        } else {
            Language::En
        }
    }

    /// The domain of the sender's address, lower-case.
    pub fn sender_domain(&self) -> String {
        domain_of(self.from.as_str())
    }
}

/// The ledger key of a raw mail: its Message-ID when it has one, else a SHA-256 of its bytes.
/// The same mail delivered twice has the same key; read without parsing, so that even
/// unreadable mail has one.
pub fn ledger_key(raw: &[u8]) -> String {
    match head_message_id(raw) {
        Some(id) => format!("mid:{id}"),
        None => format!("sha256:{}", hex(&Sha256::digest(raw))),
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The Message-ID in the header block of `raw`, found line by line (folded values too).
fn head_message_id(raw: &[u8]) -> Option<String> {
    let end = find(raw, b"\r\n\r\n")
        .or_else(|| find(raw, b"\n\n"))
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("message-id") {
            continue;
        }
        let mut value = value.to_string();
        while lines
            .peek()
            .is_some_and(|l| l.starts_with(' ') || l.starts_with('\t'))
        {
            value.push_str(lines.next().unwrap_or_default());
        }
        return clean_id(&value);
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A Message-ID without its angle brackets and spaces; `None` when nothing is left.
fn clean_id(raw: &str) -> Option<String> {
    let id = raw
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!id.is_empty() && !id.contains(char::is_whitespace)).then(|| id.to_string())
}

/// Reads `raw`. `own_domain`: the domain of our Message-IDs, so that our own mail coming
/// back is known as automatic.
pub fn read(raw: &[u8], limits: Limits, own_domain: &str) -> Result<Inbound, Unreadable> {
    if raw.len() > limits.mail_bytes {
        return Err(Unreadable::TooLarge {
            size: raw.len(),
            limit: limits.mail_bytes,
        });
    }
    let message = MessageParser::default()
        .parse(raw)
        .filter(|m| !m.headers().is_empty())
        .ok_or(Unreadable::NotAMessage)?;
    check_boundaries(&message, raw)?;
    let (from, from_name) = sender(&message).ok_or(Unreadable::NoSender)?;
    let message_id = message.message_id().and_then(clean_id);
    let mut answers = ids(message.in_reply_to());
    answers.extend(ids(message.references()));
    answers.dedup();
    let mut recipients = Vec::new();
    for addresses in [message.to(), message.cc()].into_iter().flatten() {
        recipients.extend(addresses_of(addresses));
    }
    for name in ["Delivered-To", "X-Original-To", "Envelope-To"] {
        if let Some(v) = message.header_raw(name) {
            recipients.extend(v.split(',').filter_map(clean_address));
        }
    }
    let writer = writer_of(&message, &from, message_id.as_deref(), own_domain);
    Ok(Inbound {
        message_id,
        from,
        from_name,
        recipients,
        subject: message.subject().unwrap_or_default().trim().to_string(),
        answers,
        text: text_of(&message),
        files: files_of(&message),
        writer,
    })
}

/// A multipart mail whose boundary never appears was cut or garbled on its way: reading
/// it as one text would show staff MIME noise, so it is kept for them as it is instead.
fn check_boundaries(message: &Message, raw: &[u8]) -> Result<(), Unreadable> {
    let Some(ct) = message.content_type() else {
        return Ok(());
    };
    if !ct.ctype().eq_ignore_ascii_case("multipart") {
        return Ok(());
    }
    let Some(boundary) = ct.attribute("boundary").filter(|b| !b.is_empty()) else {
        return Err(Unreadable::BrokenMime(
            "a multipart mail without a boundary".into(),
        ));
    };
    let marker = format!("--{boundary}");
    if find(raw, marker.as_bytes()).is_none() {
        return Err(Unreadable::BrokenMime(
            "its parts' boundary never appears in the mail".into(),
        ));
    }
    Ok(())
}

/// The From address (else Sender, else Return-Path) and its display name.
fn sender(message: &Message) -> Option<(ContactEmail, Option<String>)> {
    let pick = |a: Option<&Address>| {
        let a = a?.first()?;
        let email = ContactEmail::parse(a.address.as_deref()?).ok()?;
        let name = a
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        Some((email, name))
    };
    pick(message.from())
        .or_else(|| pick(message.sender()))
        .or_else(|| {
            let a = ContactEmail::parse(message.return_address()?).ok()?;
            Some((a, None))
        })
}

fn addresses_of(a: &Address) -> Vec<String> {
    a.iter()
        .filter_map(|a| a.address.as_deref().and_then(clean_address))
        .collect()
}

fn clean_address(raw: &str) -> Option<String> {
    let a = raw
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    a.contains('@').then(|| a.to_ascii_lowercase())
}

fn domain_of(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default()
}

/// The Message-IDs in an In-Reply-To or References header.
fn ids(value: &HeaderValue) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => t.split_whitespace().filter_map(clean_id).collect(),
        HeaderValue::TextList(l) => l
            .iter()
            .flat_map(|t| t.split_whitespace())
            .filter_map(clean_id)
            .collect(),
        _ => Vec::new(),
    }
}

fn header_text<'a>(message: &'a Message, name: &'a str) -> Option<&'a str> {
    message.header_raw(name).map(str::trim)
}

/// Who wrote it: the automatic signs first (a bounce is also automatic), else a person.
fn writer_of(
    message: &Message,
    from: &ContactEmail,
    message_id: Option<&str>,
    own_domain: &str,
) -> Writer {
    if let Some(bounce) = bounce_of(message) {
        return Writer::Bounce(bounce);
    }
    let auto = header_text(message, "Auto-Submitted").map(str::to_ascii_lowercase);
    if auto
        .as_deref()
        .is_some_and(|a| a.starts_with("auto-replied"))
        || message.header_raw("X-Autoreply").is_some()
        || message.header_raw("X-Autorespond").is_some()
        || is_auto_reply_subject(message.subject().unwrap_or_default())
    {
        return Writer::AutoReply;
    }
    if auto.as_deref().is_some_and(|a| a != "no") {
        return Writer::Automatic("Auto-Submitted");
    }
    if let Some(p) = header_text(message, "Precedence") {
        if ["bulk", "junk", "list"].contains(&p.to_ascii_lowercase().as_str()) {
            return Writer::Automatic("Precedence");
        }
    }
    if message.header_raw("X-Auto-Response-Suppress").is_some() {
        return Writer::Automatic("X-Auto-Response-Suppress");
    }
    if message.header_raw("List-Id").is_some() || message.header_raw("List-Unsubscribe").is_some() {
        return Writer::Automatic("List-Id");
    }
    if let Some(rp) = header_text(message, "Return-Path") {
        if rp
            .trim_matches(|c: char| c == '<' || c == '>' || c.is_whitespace())
            .is_empty()
        {
            return Writer::Automatic("Return-Path");
        }
    }
    let local = from.as_str().split('@').next().unwrap_or_default();
    if local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster") {
        return Writer::Automatic("From");
    }
    if !own_domain.is_empty()
        && message_id.is_some_and(|id| domain_of(id) == own_domain.to_ascii_lowercase())
    {
        return Writer::Automatic("Message-ID");
    }
    Writer::Person
}

/// The subjects out-of-office answers carry when their software sets no header.
fn is_auto_reply_subject(subject: &str) -> bool {
    let s = subject.trim().to_lowercase();
    [
        "automatic reply:",
        "auto:",
        "out of office",
        "autoreply:",
        "auto-reply:",
    ]
    .iter()
    .any(|p| s.starts_with(p))
}

/// A `multipart/report` delivery-status report: the fields of its status part and the
/// Message-ID of the mail it returns.
fn bounce_of(message: &Message) -> Option<Bounce> {
    let ct = message.content_type()?;
    let is_report = ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        && ct
            .attribute("report-type")
            .is_none_or(|t| t.eq_ignore_ascii_case("delivery-status"));
    if !is_report {
        return None;
    }
    let mut bounce = Bounce::default();
    for part in message.parts.iter().skip(1) {
        let (ctype, sub) = part
            .content_type()
            .map(|c| {
                (
                    c.ctype().to_ascii_lowercase(),
                    c.subtype().unwrap_or_default().to_ascii_lowercase(),
                )
            })
            .unwrap_or_default();
        match (ctype.as_str(), sub.as_str()) {
            ("message", "delivery-status") => {
                let text = String::from_utf8_lossy(part.contents());
                for line in text.lines() {
                    let Some((name, value)) = line.split_once(':') else {
                        continue;
                    };
                    let value = value.trim();
                    match name.trim().to_ascii_lowercase().as_str() {
                        "final-recipient" | "original-recipient" if bounce.recipient.is_none() => {
                            let a = value.rsplit(';').next().unwrap_or(value);
                            bounce.recipient = clean_address(a);
                        }
                        "status" => bounce.status = Some(value.to_string()),
                        "diagnostic-code" => {
                            let d = value.rsplit(';').next().unwrap_or(value).trim();
                            bounce.diagnostic = Some(d.chars().take(300).collect());
                        }
                        _ => {}
                    }
                }
            }
            ("message", "rfc822") | ("message", "global") => {
                if let Some(id) = part.message().and_then(|m| m.message_id()) {
                    bounce.about.extend(clean_id(id));
                }
            }
            ("text", "rfc822-headers") => {
                bounce.about.extend(head_message_id(part.contents()));
            }
            _ => {}
        }
    }
    bounce.about.extend(ids(message.in_reply_to()));
    Some(bounce)
}

/// The mail's text: its text parts (HTML ones turned into text), joined.
fn text_of(message: &Message) -> String {
    let mut parts = Vec::new();
    for i in 0..message.text_body_count() {
        if let Some(t) = message.body_text(i) {
            let t = t.trim();
            if !t.is_empty() {
                parts.push(t.replace("\r\n", "\n"));
            }
        }
    }
    parts.join("\n\n")
}

/// The files: attachments and inline binaries that are not the text itself.
fn files_of(message: &Message) -> Vec<File> {
    message
        .attachments()
        .filter(|p| !matches!(p.body, PartType::Message(_)) || p.attachment_name().is_some())
        .map(|p| {
            let declared_type = p
                .content_type()
                .map(|c| match c.subtype() {
                    Some(s) => format!("{}/{}", c.ctype(), s),
                    None => c.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_ascii_lowercase();
            let data = match &p.body {
                PartType::Message(m) => m.raw_message().to_vec(),
                _ => p.contents().to_vec(),
            };
            File {
                filename: safe_filename(p.attachment_name().unwrap_or("attachment")),
                declared_type,
                data,
            }
        })
        .collect()
}

/// A file name fit for a download header: no path, no control characters, at most 120
/// characters.
pub fn safe_filename(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}

/// What a file is, from its first bytes; the mail's claim is not trusted.
pub fn sniff(data: &[u8]) -> &'static str {
    const SIGNS: &[(&[u8], &str)] = &[
        (b"%PDF-", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xFF\xD8\xFF", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"PK\x03\x04", "application/zip"),
        (
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
            "application/x-ole-storage",
        ),
        (b"II*\0", "image/tiff"),
        (b"MM\0*", "image/tiff"),
    ];
    if let Some((_, t)) = SIGNS.iter().find(|(sign, _)| data.starts_with(sign)) {
        return t;
    }
    if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        return "image/webp";
    }
    let head = &data[..data.len().min(1024)];
    let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
    if lower.contains("<html") || lower.contains("<script") || lower.contains("<svg") {
        return "text/html";
    }
    if std::str::from_utf8(head).is_ok() {
        "text/plain"
    } else {
        "application/octet-stream"
    }
}

/// Every case reference in `text`, in order, each once: `TF`, an optional dash or space, four
/// characters, an optional dash or space, four characters, on word boundaries (any case;
/// O for 0 and I or L for 1, as `CaseReference::parse` reads them).
pub fn references_in(text: &str) -> Vec<CaseReference> {
    let chars: Vec<char> = text.chars().collect();
    let mut found: Vec<CaseReference> = Vec::new();
    let alnum = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric());
    for start in 0..chars.len() {
        if !chars[start].eq_ignore_ascii_case(&'t')
            || !chars
                .get(start + 1)
                .is_some_and(|c| c.eq_ignore_ascii_case(&'f'))
            || (start > 0 && alnum(chars.get(start - 1)))
        {
            continue;
        }
        let mut i = start + 2;
        let mut body = String::new();
        for group in 0..2 {
            if matches!(chars.get(i), Some('-' | ' ')) {
                i += 1;
            }
            for _ in 0..4 {
                match chars.get(i) {
                    Some(c) if c.is_ascii_alphanumeric() => body.push(*c),
                    _ => break,
                }
                i += 1;
            }
            if body.len() != 4 * (group + 1) {
                break;
            }
        }
        if body.len() != 8 || alnum(chars.get(i)) {
            continue;
        }
        if let Some(r) = CaseReference::parse(&body) {
            if !found.contains(&r) {
                found.push(r);
            }
        }
    }
    found
}

/// Case numbers written in `text`: an NVC case number (three letters and ten digits, e.g.
/// `KBL2021123456`) or a number that follows the word COM or "case" (`COM case
/// 2021-445566`, `case no. 123456`), as typed.
pub fn case_numbers_in(text: &str) -> Vec<String> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '(' | ')'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut found = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        let b = w.as_bytes();
        if b.len() == 13
            && b[..3].iter().all(u8::is_ascii_alphabetic)
            && b[3..].iter().all(u8::is_ascii_digit)
        {
            found.push(w.to_string());
            continue;
        }
        let lower = w.to_ascii_lowercase();
        if lower == "com" || lower == "case" {
            let next = words[i + 1..]
                .iter()
                .take(3)
                .map(|n| n.trim_matches(|c: char| !c.is_alphanumeric()))
                .find(|n| n.chars().filter(|c| ascii_digit(*c).is_some()).count() >= 4);
            if let Some(n) = next {
                if n.chars()
                    .all(|c| ascii_digit(c).is_some() || c == '-' || c == '/')
                {
                    found.push(n.to_string());
                }
            }
        }
    }
    found.dedup();
    found
}

/// Phone numbers written in `text` (7 to 15 digits, with the usual separators), as typed.
pub fn phone_numbers_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current = String::new();
    let mut digits = 0;
    let flush = |current: &mut String, digits: &mut usize, found: &mut Vec<String>| {
        if (7..=15).contains(digits) {
            found.push(current.trim().to_string());
        }
        current.clear();
        *digits = 0;
    };
    for c in text.chars() {
        let digit = ascii_digit(c).is_some();
        if digit || (c == '+' && current.is_empty()) {
            current.push(c);
            digits += usize::from(digit);
        } else if !current.is_empty() && matches!(c, ' ' | '-' | '.' | '(' | ')') {
            current.push(c);
        } else {
            flush(&mut current, &mut digits, &mut found);
        }
    }
    flush(&mut current, &mut digits, &mut found);
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMITS: Limits = Limits {
        mail_bytes: 1 << 20,
        file_bytes: 1 << 19,
    };

    fn mail(head: &str, body: &str) -> Vec<u8> {
        format!("{head}\r\n\r\n{body}").into_bytes()
    }

    #[test]
    fn the_ledger_key_is_the_message_id_else_a_hash() {
        let a = mail(
            "From: a@example.org\r\nMessage-ID:\r\n <x1@example.org>",
            "hi",
        );
        assert_eq!(ledger_key(&a), "mid:x1@example.org");
        let b = mail("From: a@example.org", "hi");
        assert!(ledger_key(&b).starts_with("sha256:"));
        assert_eq!(ledger_key(&b), ledger_key(&b.clone()));
    }

    #[test]
    fn automatic_mail_is_known_by_its_headers() {
        let cases = [
            ("Auto-Submitted: auto-generated", "Auto-Submitted"),
            ("Precedence: bulk", "Precedence"),
            ("Precedence: list", "Precedence"),
            ("X-Auto-Response-Suppress: All", "X-Auto-Response-Suppress"),
            ("List-Id: <news.example.org>", "List-Id"),
            ("List-Unsubscribe: <mailto:u@example.org>", "List-Id"),
            ("Return-Path: <>", "Return-Path"),
        ];
        for (header, why) in cases {
            let raw = mail(&format!("From: a@example.org\r\n{header}"), "hi");
            let m = read(&raw, LIMITS, "taskforce.example").unwrap();
            assert_eq!(m.writer, Writer::Automatic(why), "{header}");
        }
        let daemon = mail("From: MAILER-DAEMON@example.org", "hi");
        assert_eq!(
            read(&daemon, LIMITS, "t.example").unwrap().writer,
            Writer::Automatic("From")
        );
        let ours = mail(
            "From: a@example.org\r\nMessage-ID: <1@taskforce.example>",
            "hi",
        );
        assert_eq!(
            read(&ours, LIMITS, "taskforce.example").unwrap().writer,
            Writer::Automatic("Message-ID")
        );
        let person = mail("From: a@example.org\r\nAuto-Submitted: no", "hi");
        assert_eq!(
            read(&person, LIMITS, "t.example").unwrap().writer,
            Writer::Person
        );
        let ooo = mail(
            "From: a@example.org\r\nAuto-Submitted: auto-replied",
            "away",
        );
        assert_eq!(
            read(&ooo, LIMITS, "t.example").unwrap().writer,
            Writer::AutoReply
        );
    }

    #[test]
    fn over_the_limit_and_not_a_mail_are_unreadable() {
        let big = vec![b'a'; 2 << 20];
        assert!(matches!(
            read(&big, LIMITS, ""),
            Err(Unreadable::TooLarge { .. })
        ));
        let no_sender = mail("Subject: hi", "text");
        assert_eq!(
            read(&no_sender, LIMITS, "").unwrap_err(),
            Unreadable::NoSender
        );
    }

    #[test]
    fn references_are_found_as_people_type_them() {
        let r = references_in("Re: TF-7K3M-9Q2X and tf 7k3m 9q2y, not XTF-7K3M-9Q2Z");
        let texts: Vec<_> = r.iter().map(|r| r.as_str().to_string()).collect();
        assert_eq!(texts, ["TF-7K3M-9Q2X", "TF-7K3M-9Q2Y"]);
    }

    #[test]
    fn phone_numbers_are_found_in_text() {
        let p = phone_numbers_in("call +93 70 123 4567 or ۰۷۰۰۱۲۳۴۵۶, case 2024");
        assert_eq!(p, ["+93 70 123 4567", "۰۷۰۰۱۲۳۴۵۶"]);
    }

    #[test]
    fn case_numbers_are_found_in_text() {
        let found =
            case_numbers_in("We refer him, COM case 2021-445566. NVC: KBL2021123456; case no. 12");
        assert_eq!(found, ["2021-445566", "KBL2021123456"]);
    }

    #[test]
    fn files_are_sniffed_by_their_bytes() {
        assert_eq!(sniff(b"%PDF-1.7 ..."), "application/pdf");
        assert_eq!(sniff(b"<html><script>x</script>"), "text/html");
        assert_eq!(sniff(b"plain words"), "text/plain");
        assert_eq!(
            safe_filename("../../etc/pass\"wd"),
            "pass".to_string() + "wd"
        );
        assert_eq!(safe_filename(".."), "attachment");
    }

    proptest! {
        #[test]
        fn reading_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let _ = read(&raw, LIMITS, "taskforce.example");
            let _ = ledger_key(&raw);
        }

        #[test]
        fn a_generated_reference_is_found_in_any_subject(
            pre in "[a-z ]{0,20}", post in "[a-z ]{0,20}", seed in any::<u64>()
        ) {
            use rand::SeedableRng;
            let r = CaseReference::generate(&mut rand::rngs::StdRng::seed_from_u64(seed));
            let found = references_in(&format!("{pre} {} {post}", r.as_str()));
            prop_assert_eq!(found, vec![r]);
        }
    }
}
