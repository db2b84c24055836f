//! The intake contract in JSON Schema: what `IntakeInput::into_request` and the parsers of
//! `fields` accept, said so that a client (or a fuzzer) can check a request before sending
//! it. Published as the request schemas of the OpenAPI document.
//!
//! The patterns are written in the syntax JavaScript, Python's `re` and Rust's `regex` read
//! alike (classes of `\uXXXX` escapes, `\p{Alpha}`, no look-around), and say exactly what
//! the parser takes, trimming included, so that a schema-valid request is stored and any
//! other refused. Where a rule cannot be said exactly the pattern takes less than the
//! parser, never more; the tests below hold each pattern to its parser.

use chrono::{Datelike, NaiveDate};
use serde_json::{json, Value};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use super::fields::PersonName;
use super::intake::{
    ApplicantInput, IntakeInput, ReferralInput, SivInput, SubmitterInput, UrgentInput,
    DESCRIPTION_MAX_CHARS, HOUSEHOLD_MAX, SHORT_TEXT_MAX_CHARS,
};
use super::vocab::{
    Calendar, Language, Location, Program, ReferralProgram, SivStatus, SubmitterKind, UsTie,
};

/// What `char::is_whitespace`, and so `str::trim`, takes: Unicode `White_Space`.
const WS: &str =
    r"[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";
/// What `clean_text` keeps: no control characters, no bidi overrides or isolates.
const TEXT_CHAR: &str = r"[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]";
/// What `clean_text` keeps and is not white space: a field holding one is not blank.
const VISIBLE_CHAR: &str =
    r"[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028-\u202F\u205F\u2066-\u2069\u3000]";

/// What `clean_multiline` keeps: the same, with tabs and line breaks.
const LINES_CHAR: &str =
    r"[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]";
/// A digit as `fields::ascii_digit` reads it: ASCII, Arabic-Indic or Persian.
const DIGIT: &str = r"[0-9\u0660-\u0669\u06F0-\u06F9]";

/// `core` with the white space the parser trims around it.
fn trimmed(core: &str) -> String {
    format!("^{WS}*(?:{core}){WS}*$")
}

/// `core`, or nothing but white space: an optional field the parser reads as absent.
fn trimmed_or_blank(core: &str) -> String {
    format!("^{WS}*(?:{core})?{WS}*$")
}

/// Text without control characters, except in the white space trimmed around it.
fn text_pattern() -> String {
    trimmed(&format!("{TEXT_CHAR}*"))
}

/// Such text, not blank.
fn visible_text_pattern() -> String {
    trimmed(&format!("{TEXT_CHAR}*{VISIBLE_CHAR}{TEXT_CHAR}*"))
}

/// `PersonName::parse`: such text with a letter; blank too where the name is optional.
fn name_pattern(optional: bool) -> String {
    let name = format!(r"{TEXT_CHAR}*\p{{Alpha}}{TEXT_CHAR}*");
    if optional {
        trimmed_or_blank(&name)
    } else {
        trimmed(&name)
    }
}

/// Free text of at most `max` characters once trimmed; tabs and line breaks allowed.
/// (The parser counts a CRLF as one character, and after composing to NFC.)
fn lines_pattern(max: usize) -> String {
    trimmed(&format!("{LINES_CHAR}{{0,{max}}}"))
}

/// `PhoneNumber::parse`: an optional leading `+`, 6 to 20 digits, the usual separators.
fn phone_core() -> String {
    let separator = r"[ ()./\u00A0-]";
    format!(r"[+\uFF0B]?{separator}*(?:{DIGIT}{separator}*){{6,20}}")
}

/// `CaseNumber::parse`: 4 to 30 Latin letters and digits, with separators.
fn case_number_core() -> String {
    let separator = r"[ ./_-]";
    format!(r"{separator}*(?:[A-Za-z0-9\u0660-\u0669\u06F0-\u06F9]{separator}*){{4,30}}")
}

/// Addresses `ContactEmail::parse` takes: an ASCII dot-atom of at most 64 characters at a
/// domain of two to four ASCII labels. (The parser takes more: quoted local parts,
/// international domains, longer labels.)
fn email_core() -> String {
    let atext = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
    let label = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,18}[A-Za-z0-9])?";
    format!(
        r"(?:{atext}{{1,64}}|{atext}{{1,20}}(?:\.{atext}{{1,20}}){{1,2}})@{label}(?:\.{label}){{1,3}}"
    )
}

/// Four-digit years from `first` to `last`, decade by decade.
fn years(first: i32, last: i32) -> String {
    let decades: Vec<String> = (first / 10..=last / 10)
        .map(|decade| {
            let low = if decade * 10 < first { first % 10 } else { 0 };
            let top = if decade * 10 + 9 <= last {
                9
            } else {
                last % 10
            };
            format!("{decade}[{low}-{top}]")
        })
        .collect();
    format!("(?:{})", decades.join("|"))
}

/// A day as `YYYY-MM-DD`, `YYYY/MM/DD` or `DD/MM/YYYY`, or a year alone, in any of the
/// three digit scripts; `month_day` is the (month, day) of each separator, `-` or `/`.
fn written_date(year: &str, month_day: impl Fn(&str) -> String, day_month: &str) -> String {
    let ymd = format!("{year}-{}|{year}/{}", month_day("-"), month_day("/"));
    any_script_digits(&format!("{ymd}|(?:{day_month})/{year}|{year}"))
}

/// Gregorian dates `BirthDate::parse` takes on `today`: real days (and years alone) from
/// 1900 to the last full year. (The parser also takes this year up to today, 29 February
/// and one-digit fields.)
fn date_core(today: NaiveDate) -> String {
    let year = years(1900, today.year() - 1);
    let day28 = "(?:0[1-9]|1[0-9]|2[0-8])";
    let month = "(?:0[1-9]|1[0-2])";
    let not_feb = "(?:0[13-9]|1[0-2])";
    let long = "(?:0[13578]|1[02])";
    let month_day =
        |sep: &str| format!("(?:{month}{sep}{day28}|{not_feb}{sep}(?:29|30)|{long}{sep}31)");
    let day_month = format!("{day28}/{month}|(?:29|30)/{not_feb}|31/{long}");
    written_date(&year, month_day, &day_month)
}

/// Solar Hijri dates `BirthDate::parse` takes on `today`: real days (and years alone) of
/// the years from 1279 (which began on 21 March 1900) to the last full one; Farvardin to
/// Shahrivar have 31 days, Mehr to Bahman 30, Esfand 29. (The parser also takes this year
/// up to today, 30 Esfand of leap years and one-digit fields.)
fn solar_hijri_core(today: NaiveDate) -> String {
    let year = years(1279, crate::domain::birth::to_solar_hijri(today).0 - 1);
    let day29 = "(?:0[1-9]|1[0-9]|2[0-9])";
    let month = "(?:0[1-9]|1[0-2])";
    let month_day =
        |sep: &str| format!("(?:{month}{sep}{day29}|(?:0[1-9]|1[01]){sep}30|0[1-6]{sep}31)");
    let day_month = format!("{day29}/{month}|30/(?:0[1-9]|1[01])|31/0[1-6]");
    written_date(&year, month_day, &day_month)
}

/// Rewrites every ASCII digit of `template` (alone, or in a `[...]` class of digits and
/// digit ranges) to match the same digit in any of the three scripts.
fn any_script_digits(template: &str) -> String {
    let scripts = |d: u32| [0x660 + d, 0x6F0 + d];
    let digit = |c: char| c.to_digit(10).expect("a digit");
    let mut out = String::new();
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let [arabic, persian] = scripts(digit(c));
            out.push_str(&format!(r"[{c}\u{arabic:04X}\u{persian:04X}]"));
        } else if c == '[' {
            let mut class = String::new();
            for c in chars.by_ref() {
                if c == ']' {
                    break;
                }
                class.push(c);
            }
            let mut items = class.clone();
            let members: Vec<char> = class.chars().collect();
            let mut i = 0;
            while i < members.len() {
                let (from, to) = if members.get(i + 1) == Some(&'-') {
                    i += 3;
                    (members[i - 3], members[i - 1])
                } else {
                    i += 1;
                    (members[i - 1], members[i - 1])
                };
                for (a, b) in scripts(digit(from)).into_iter().zip(scripts(digit(to))) {
                    items.push_str(&format!(r"\u{a:04X}-\u{b:04X}"));
                }
            }
            out.push_str(&format!("[{items}]"));
        } else {
            out.push(c);
        }
    }
    out
}

/// A schema written as JSON, carried through utoipa as is.
fn schema(value: Value) -> RefOr<Schema> {
    let Value::Object(keywords) = value else {
        unreachable!("a schema is a JSON object")
    };
    ObjectBuilder::new()
        .schema_type(SchemaType::AnyValue)
        .extensions(Some(keywords.into_iter().collect()))
        .build()
        .into()
}

fn component(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn nullable(name: &str) -> Value {
    json!({ "oneOf": [component(name), {"type": "null"}] })
}

/// A text field that is optional and blank when absent.
fn optional(pattern: String) -> Value {
    json!({ "type": ["string", "null"], "pattern": pattern })
}

/// A person's name: at most 200 characters as sent, without control characters, with a
/// letter.
fn name(required: bool) -> Value {
    let pattern = name_pattern(!required);
    let max = PersonName::MAX_CHARS;
    if required {
        json!({ "type": "string", "maxLength": max, "pattern": pattern })
    } else {
        json!({ "type": ["string", "null"], "maxLength": max, "pattern": pattern })
    }
}

/// An organization's or referrer's name: at most 200 characters as sent.
fn short_text(required: bool) -> Value {
    let max = SHORT_TEXT_MAX_CHARS;
    if required {
        json!({ "type": "string", "maxLength": max, "pattern": visible_text_pattern() })
    } else {
        json!({ "type": ["string", "null"], "maxLength": max, "pattern": text_pattern() })
    }
}

/// The same field, given: not blank (and so, for a phone or address, valid).
fn given(field: &str, pattern: String) -> Value {
    json!({ "required": [field], "properties": { field: { "type": "string", "pattern": pattern } } })
}

impl PartialSchema for IntakeInput {
    fn schema() -> RefOr<Schema> {
        let phone = trimmed(&phone_core());
        let email = trimmed(&email_core());
        schema(json!({
            "type": "object",
            "description": "A request for the task force. Every other field may be left out or sent as `null`; text fields that are blank count as left out. A list in place of an object, an unknown field or a field given twice is refused.",
            "additionalProperties": false,
            "required": ["submitter", "applicant", "consent"],
            "properties": {
                "submitter": component("SubmitterInput"),
                "applicant": component("ApplicantInput"),
                "siv": nullable("SivInput"),
                "referral": nullable("ReferralInput"),
                "claimed_programs": {
                    "type": ["array", "null"],
                    "items": component("Program"),
                    "description": "Programs the applicant claims to be eligible for; absent or `null`: none."
                },
                "us_tie": nullable("UsTie"),
                "urgent": nullable("UrgentInput"),
                "description": optional(lines_pattern(DESCRIPTION_MAX_CHARS)),
                "consent": {
                    "type": "boolean",
                    "enum": [true],
                    "description": "The requester agrees that the task force and its referral partners may store and use this information; without it nothing is stored."
                },
                "language": {
                    "oneOf": [component("Language"), {"type": "null"}],
                    "description": "The language mail to the requester is written in; English when absent."
                }
            },
            // At least one way to reach someone.
            "anyOf": [
                { "required": ["applicant"], "properties": { "applicant": given("phone", phone.clone()) } },
                { "required": ["applicant"], "properties": { "applicant": given("whatsapp", phone.clone()) } },
                { "required": ["applicant"], "properties": { "applicant": given("email", email.clone()) } },
                { "required": ["submitter"], "properties": { "submitter": given("phone", phone) } },
                { "required": ["submitter"], "properties": { "submitter": given("email", email) } }
            ]
        }))
    }
}

impl ToSchema for IntakeInput {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        fn add<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            schemas.push((T::name().into_owned(), T::schema()));
        }
        add::<SubmitterInput>(schemas);
        add::<ApplicantInput>(schemas);
        add::<SivInput>(schemas);
        add::<ReferralInput>(schemas);
        add::<UrgentInput>(schemas);
        add::<SubmitterKind>(schemas);
        add::<Location>(schemas);
        add::<SivStatus>(schemas);
        add::<ReferralProgram>(schemas);
        add::<Program>(schemas);
        add::<UsTie>(schemas);
        add::<Language>(schemas);
        add::<Calendar>(schemas);
    }
}

impl PartialSchema for SubmitterInput {
    fn schema() -> RefOr<Schema> {
        schema(json!({
            "type": "object",
            "description": "Who sends the request. Organizations and agency offices give `organization`; sponsors their own `name`.",
            "additionalProperties": false,
            "required": ["kind"],
            "properties": {
                "kind": component("SubmitterKind"),
                "name": name(false),
                "email": optional(trimmed_or_blank(&email_core())),
                "phone": optional(trimmed_or_blank(&phone_core())),
                "organization": short_text(false)
            },
            "oneOf": [
                { "properties": { "kind": { "enum": ["self"] } } },
                { "properties": { "kind": { "enum": ["sponsor"] }, "name": name(true) }, "required": ["name"] },
                {
                    "properties": {
                        "kind": { "enum": ["organization", "agency_office"] },
                        "organization": short_text(true)
                    },
                    "required": ["organization"]
                }
            ]
        }))
    }
}

impl ToSchema for SubmitterInput {}

impl PartialSchema for ApplicantInput {
    fn schema() -> RefOr<Schema> {
        let today = chrono::Utc::now().date_naive();
        schema(json!({
            "type": "object",
            "description": "The principal applicant.",
            "additionalProperties": false,
            "required": ["full_name", "location"],
            "properties": {
                "full_name": name(true),
                "date_of_birth": {
                    "type": ["string", "null"],
                    "description": "`YYYY-MM-DD`, `YYYY/MM/DD`, `DD/MM/YYYY` or the year alone (`YYYY`, when only the year is known), in the calendar `date_of_birth_calendar` names, in ASCII, Arabic-Indic or Persian digits; from 1900 to today."
                },
                "date_of_birth_calendar": {
                    "oneOf": [component("Calendar"), {"type": "null"}],
                    "description": "The calendar `date_of_birth` is written in: `gregorian` (when absent) or `hijri_shamsi`, the Solar Hijri calendar of the Tazkira (1369-10-11 is 1 January 1991)."
                },
                "phone": optional(trimmed_or_blank(&phone_core())),
                "whatsapp": optional(trimmed_or_blank(&phone_core())),
                "email": optional(trimmed_or_blank(&email_core())),
                "location": component("Location"),
                "household_size": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "maximum": HOUSEHOLD_MAX,
                    "description": "People in the household, the applicant included."
                }
            },
            // The date's pattern depends on its calendar.
            "anyOf": [
                {
                    "properties": {
                        "date_of_birth_calendar": { "enum": ["gregorian", null] },
                        "date_of_birth": { "pattern": trimmed_or_blank(&date_core(today)) }
                    }
                },
                {
                    "required": ["date_of_birth_calendar"],
                    "properties": {
                        "date_of_birth_calendar": { "enum": ["hijri_shamsi"] },
                        "date_of_birth": { "pattern": trimmed_or_blank(&solar_hijri_core(today)) }
                    }
                }
            ]
        }))
    }
}

impl ToSchema for ApplicantInput {}

impl PartialSchema for SivInput {
    fn schema() -> RefOr<Schema> {
        schema(json!({
            "type": "object",
            "description": "The applicant's Special Immigrant Visa case, if any.",
            "additionalProperties": false,
            "properties": {
                "status": nullable("SivStatus"),
                "case_number": optional(trimmed_or_blank(&case_number_core()))
            }
        }))
    }
}

impl ToSchema for SivInput {}

impl PartialSchema for ReferralInput {
    fn schema() -> RefOr<Schema> {
        schema(json!({
            "type": "object",
            "description": "A refugee-program referral the applicant holds, if any.",
            "additionalProperties": false,
            "properties": {
                "program": nullable("ReferralProgram"),
                "referred_by": short_text(false)
            }
        }))
    }
}

impl ToSchema for ReferralInput {}

impl PartialSchema for UrgentInput {
    fn schema() -> RefOr<Schema> {
        schema(json!({
            "type": "object",
            "description": "Immediate danger or urgent medical need; absent or `null` is `false`.",
            "additionalProperties": false,
            "properties": {
                "danger": { "type": ["boolean", "null"] },
                "medical": { "type": ["boolean", "null"] }
            }
        }))
    }
}

impl ToSchema for UrgentInput {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::birth::{from_solar_hijri, BirthDate};
    use crate::domain::fields::{
        clean_multiline, clean_text, CaseNumber, ContactEmail, PhoneNumber,
    };
    use proptest::prelude::*;
    use regex_automata::meta::Regex;

    fn regex(pattern: &str) -> Regex {
        Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"))
    }

    /// The patterns, compiled once: a Unicode class takes a while to compile unoptimized.
    struct Compiled {
        phone: Regex,
        phone_given: Regex,
        case_number: Regex,
        short_text: Regex,
        visible_text: Regex,
        name: Regex,
        optional_name: Regex,
        lines: Regex,
        email: Regex,
        date: Regex,
        solar_hijri: Regex,
    }

    fn compiled() -> &'static Compiled {
        static COMPILED: std::sync::OnceLock<Compiled> = std::sync::OnceLock::new();
        COMPILED.get_or_init(|| Compiled {
            phone: regex(&trimmed_or_blank(&phone_core())),
            phone_given: regex(&trimmed(&phone_core())),
            case_number: regex(&trimmed_or_blank(&case_number_core())),
            short_text: regex(&text_pattern()),
            visible_text: regex(&visible_text_pattern()),
            name: regex(&name_pattern(false)),
            optional_name: regex(&name_pattern(true)),
            lines: regex(&lines_pattern(DESCRIPTION_MAX_CHARS)),
            email: regex(&trimmed(&email_core())),
            date: regex(&trimmed(&date_core(today()))),
            solar_hijri: regex(&trimmed(&solar_hijri_core(today()))),
        })
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    /// White space and what looks like it, around a value: what `trim` takes (Unicode
    /// White_Space) next to what it leaves (a Python-only space, a zero-width space, NUL).
    const EDGES: &[char] = &[
        ' ', '\t', '\n', '\r', '\u{B}', '\u{85}', '\u{A0}', '\u{3000}', '\u{2028}', '\u{1C}',
        '\u{200B}', '\u{0}',
    ];
    /// What breaks a value: control characters, bidi overrides and isolates.
    const INVISIBLE: &[char] = &[
        '\t', '\n', '\u{0}', '\u{7}', '\u{7F}', '\u{9F}', '\u{202E}', '\u{2066}',
    ];
    const DIGITS: &[char] = &[
        '0', '4', '9', '\u{0660}', '\u{0669}', '\u{06F0}', '\u{06F5}',
    ];
    const LETTERS: &[char] = &[
        'a', 'Z', '\u{E9}', '\u{0645}', '\u{0416}', '\u{064B}', '\u{2167}',
    ];

    fn pick(set: &'static [char]) -> BoxedStrategy<char> {
        proptest::sample::select(set).boxed()
    }

    /// A value between edges, `body` characters after an optional `head`, and one in
    /// `1 + noise` of any other kind (none when `noise` is 0).
    fn framed_after(
        head: BoxedStrategy<String>,
        body: BoxedStrategy<char>,
        len: std::ops::Range<usize>,
        noise: u32,
    ) -> impl Strategy<Value = String> {
        let edge = || proptest::collection::vec(pick(EDGES), 0..3);
        let ch = if noise == 0 {
            body
        } else {
            prop_oneof![
                5 * noise => body,
                1 => pick(EDGES),
                1 => pick(INVISIBLE),
                1 => pick(DIGITS),
                1 => pick(LETTERS),
                1 => pick(&['+', '\u{FF0B}', '-', '(', '.', '/', '_', '@', '!', '\u{200B}']),
            ]
            .boxed()
        };
        (edge(), head, proptest::collection::vec(ch, len), edge()).prop_map(
            |(before, head, body, after)| {
                before
                    .into_iter()
                    .chain(head.chars())
                    .chain(body)
                    .chain(after)
                    .collect()
            },
        )
    }

    fn framed(
        body: BoxedStrategy<char>,
        len: std::ops::Range<usize>,
        noise: u32,
    ) -> impl Strategy<Value = String> {
        framed_after(Just(String::new()).boxed(), body, len, noise)
    }

    fn phone_like() -> impl Strategy<Value = String> {
        let body = prop_oneof![
            6 => pick(DIGITS),
            2 => pick(&[' ', '-', '(', ')', '.', '/', '\u{A0}']),
        ]
        .boxed();
        // A plus first, or after a separator (which the parser refuses), or none.
        let plus = || {
            proptest::sample::select(&["", "+", "\u{FF0B}", "(+", "-+", " +"][..])
                .prop_map(String::from)
                .boxed()
        };
        // Short numbers with noise, and numbers around the most digits allowed.
        prop_oneof![
            framed_after(plus(), body.clone(), 0..30, 3),
            framed_after(plus(), body, 20..36, 0),
        ]
    }

    fn case_number_like() -> impl Strategy<Value = String> {
        let body = prop_oneof![
            3 => pick(DIGITS),
            3 => pick(&['a', 'Q', 'z']),
            2 => pick(&[' ', '-', '/', '.', '_']),
        ];
        framed(body.boxed(), 0..40, 3)
    }

    /// Text of any length around the limits of names and short text.
    fn text_like() -> impl Strategy<Value = String> {
        let body = || {
            prop_oneof![
                4 => pick(LETTERS),
                2 => pick(&[' ', '\u{A0}', '1', '\u{1F600}', '\u{200B}', '-']),
            ]
            .boxed()
        };
        prop_oneof![framed(body(), 0..12, 2), framed(body(), 196..205, 0)]
    }

    /// How `Checker::optional` reads an optional field: blank is absent, the rest parsed.
    fn optional_ok<T, E>(raw: &str, parse: impl FnOnce(&str) -> Result<T, E>) -> bool {
        let trimmed = raw.trim();
        trimmed.is_empty() || parse(trimmed).is_ok()
    }

    /// `Checker::text`: at most `max` characters as sent, then `Checker::optional`.
    fn text_ok<T, E>(raw: &str, max: usize, parse: impl FnOnce(&str) -> Result<T, E>) -> bool {
        raw.chars().count() <= max && optional_ok(raw, parse)
    }

    fn within(raw: &str, max: usize) -> bool {
        raw.chars().count() <= max
    }

    proptest! {
        #[test]
        fn the_phone_pattern_is_the_phone_parser(s in phone_like()) {
            let (optional, given) = (&compiled().phone, &compiled().phone_given);
            prop_assert_eq!(optional.is_match(&s), optional_ok(&s, |s| PhoneNumber::parse(s, None)), "{:?}", s);
            prop_assert_eq!(given.is_match(&s), PhoneNumber::parse(s.trim(), None).is_ok(), "{:?}", s);
        }

        #[test]
        fn the_case_number_pattern_is_the_case_number_parser(s in case_number_like()) {
            prop_assert_eq!(compiled().case_number.is_match(&s), optional_ok(&s, CaseNumber::parse), "{:?}", s);
        }

        /// Each text pattern, with the schema's `maxLength`, is the rule of its field.
        #[test]
        fn the_text_patterns_are_the_text_rules(s in text_like()) {
            let p = compiled();
            let max = SHORT_TEXT_MAX_CHARS;
            prop_assert_eq!(
                p.short_text.is_match(&s) && within(&s, max),
                text_ok(&s, max, clean_text),
                "{:?}", s
            );
            // An organization that must be named: the same, not blank.
            prop_assert_eq!(
                p.visible_text.is_match(&s) && within(&s, max),
                text_ok(&s, max, clean_text) && !s.trim().is_empty(),
                "{:?}", s
            );
            let max = PersonName::MAX_CHARS;
            prop_assert_eq!(
                p.optional_name.is_match(&s) && within(&s, max),
                text_ok(&s, max, PersonName::parse),
                "{:?}", s
            );
            prop_assert_eq!(
                p.name.is_match(&s) && within(&s, max),
                text_ok(&s, max, PersonName::parse) && !s.trim().is_empty(),
                "{:?}", s
            );
            // Free text: what the pattern takes, the parser takes.
            if p.lines.is_match(&s) {
                prop_assert!(optional_ok(&s, clean_multiline), "{:?}", s);
            }
        }

        #[test]
        fn the_email_pattern_takes_only_addresses_the_parser_takes(
            s in "[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,70}@[a-z0-9.-]{1,30}",
            pad in "[ \t\u{A0}]{0,2}",
        ) {
            let sent = format!("{pad}{s}{pad}");
            if compiled().email.is_match(&sent) {
                prop_assert!(ContactEmail::parse(sent.trim()).is_ok(), "{:?}", sent);
            }
        }

        #[test]
        fn the_date_patterns_take_only_dates_the_parser_takes(s in "[0-9\u{0660}-\u{0669}\u{06F0}-\u{06F9}/-]{4,11}") {
            if compiled().date.is_match(&s) {
                prop_assert!(BirthDate::parse(&s, Calendar::Gregorian, today()).is_ok(), "{:?}", s);
            }
            if compiled().solar_hijri.is_match(&s) {
                prop_assert!(BirthDate::parse(&s, Calendar::HijriShamsi, today()).is_ok(), "{:?}", s);
            }
        }

        #[test]
        fn the_date_patterns_take_every_real_day_of_a_past_year(
            day in 0u32..365 * 125,
            form in 0u32..4,
            scripts in proptest::collection::vec(0u32..3, 10),
        ) {
            let date = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Days::new(day.into());
            prop_assume!(date.year() < today().year());
            prop_assume!(!(date.month() == 2 && date.day() == 29));
            let format = ["%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%Y"][form as usize];
            let written = in_scripts(&date.format(format).to_string(), &scripts);
            prop_assert!(compiled().date.is_match(&written), "{:?}", written);
            prop_assert!(BirthDate::parse(&written, Calendar::Gregorian, today()).is_ok());
        }

        #[test]
        fn the_solar_hijri_pattern_takes_every_real_day_of_a_past_year(
            y in 1279i32..1405, m in 1u32..=12, d in 1u32..=31,
            form in 0u32..4,
            scripts in proptest::collection::vec(0u32..3, 10),
        ) {
            prop_assume!(from_solar_hijri(y, m, d).is_some() && !(m == 12 && d == 30));
            let written = match form {
                0 => format!("{y}-{m:02}-{d:02}"),
                1 => format!("{y}/{m:02}/{d:02}"),
                2 => format!("{d:02}/{m:02}/{y}"),
                _ => format!("{y}"),
            };
            let written = in_scripts(&written, &scripts);
            prop_assert!(compiled().solar_hijri.is_match(&written), "{:?}", written);
            prop_assert!(BirthDate::parse(&written, Calendar::HijriShamsi, today()).is_ok());
        }
    }

    /// `s` with each digit in the script `scripts` names for it, in turn.
    fn in_scripts(s: &str, scripts: &[u32]) -> String {
        s.chars()
            .zip(scripts.iter().cycle())
            .map(|(c, script)| match (c.to_digit(10), script) {
                (Some(d), 1) => char::from_u32(0x660 + d).unwrap(),
                (Some(d), 2) => char::from_u32(0x6F0 + d).unwrap(),
                _ => c,
            })
            .collect()
    }

    #[test]
    fn the_date_pattern_ends_with_the_last_full_year() {
        let pattern = &compiled().date;
        assert!(pattern.is_match("1900-01-01"));
        assert!(pattern.is_match("31/12/2025"));
        assert!(!pattern.is_match("2026-01-01"));
        assert!(!pattern.is_match("1899-12-31"));
        assert!(!pattern.is_match("1990-02-30"));
        assert!(!pattern.is_match("1990-13-01"));
        assert!(pattern.is_match("1990"));
        assert!(!pattern.is_match("1369"));
        let shamsi = &compiled().solar_hijri;
        assert!(shamsi.is_match("1279-01-01"));
        assert!(shamsi.is_match("۱۳۶۹/۱۰/۱۱"));
        assert!(shamsi.is_match("1404-12-29"));
        assert!(!shamsi.is_match("1405-01-01"));
        assert!(!shamsi.is_match("1278-12-29"));
        assert!(!shamsi.is_match("1369-07-31"));
        assert!(!shamsi.is_match("1990-05-01"));
    }

    #[test]
    fn every_schema_is_json_schema_of_the_contract() {
        let mut schemas = Vec::new();
        IntakeInput::schemas(&mut schemas);
        schemas.push(("IntakeInput".into(), IntakeInput::schema()));
        for (name, schema) in schemas {
            let json = serde_json::to_value(&schema).unwrap();
            assert!(json.is_object(), "{name}");
            // Every pattern in it compiles.
            fn patterns(value: &Value, out: &mut Vec<String>) {
                match value {
                    Value::Object(map) => {
                        for (key, v) in map {
                            match (key.as_str(), v) {
                                ("pattern", Value::String(p)) => out.push(p.clone()),
                                _ => patterns(v, out),
                            }
                        }
                    }
                    Value::Array(items) => items.iter().for_each(|v| patterns(v, out)),
                    _ => {}
                }
            }
            let mut found = Vec::new();
            patterns(&json, &mut found);
            for p in found {
                regex(&p);
            }
        }
        let intake = serde_json::to_value(IntakeInput::schema()).unwrap();
        assert_eq!(
            intake["required"],
            json!(["submitter", "applicant", "consent"])
        );
        assert_eq!(intake["additionalProperties"], false);
    }
}
