//! Reading a JSON body of the API: its media type and size, then the contract's types,
//! naming every field at fault, each in the contract's words.

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

use super::errors::ApiError;
use crate::domain::FieldError;

/// Reads a JSON body: 415 unless it says JSON, 413 past the limit.
pub async fn read_json_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::BytesMut, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "application/json" && !(mime.starts_with("application/") && mime.ends_with("+json"))
    {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::TooLarge(limit));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::MalformedJson(vec![FieldError::new("", "the body could not be read")])
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses JSON into `T`, naming the fields at fault: syntax errors are 400, a body that
/// is JSON but does not fit the contract (wrong type, unknown field) is 422 with every such
/// field named at once, so a partner's client can mend them all in one round.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // Anything but white space after the value is not JSON either.
    let not_json = |e: serde_json::Error| ApiError::MalformedJson(vec![described(&[], e)]);
    let de = &mut serde_json::Deserializer::from_slice(body);
    let first = match serde_path_to_error::deserialize::<_, T>(&mut *de) {
        Ok(v) => return de.end().map(|()| v).map_err(not_json),
        Err(e) => e,
    };
    if first.inner().classify() != serde_json::error::Category::Data {
        return Err(ApiError::MalformedJson(vec![field_error(first)]));
    }
    // Serde stops at the first misfit. Read the body as plain JSON and ask again with each
    // misfit taken out, until the rest fits.
    let de = &mut serde_json::Deserializer::from_slice(body);
    let mut value = serde_path_to_error::deserialize::<_, serde_json::Value>(&mut *de)
        .map_err(|e| ApiError::MalformedJson(vec![field_error(e)]))?;
    de.end().map_err(not_json)?;
    let mut errors = Vec::new();
    let mut removed = Removed::default();
    while errors.len() < MAX_FIELD_ERRORS {
        let Err(e) = serde_path_to_error::deserialize::<_, T>(&value) else {
            break;
        };
        let steps = steps_of(e.path());
        // What is left unfit as a whole (an array that became too short) was said already.
        if steps.is_empty() && !errors.is_empty() {
            break;
        }
        let sent = removed.as_sent(&steps);
        errors.push(described(&sent, e.into_inner()));
        if !take_out(&mut value, &steps, &sent, &mut removed) {
            break;
        }
    }
    // A misfit that plain JSON hides (a field given twice reads as the last one).
    if errors.is_empty() {
        errors.push(field_error(first));
    }
    Err(ApiError::Invalid(errors))
}

/// Most contract errors one answer names.
const MAX_FIELD_ERRORS: usize = 20;

fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let steps = steps_of(e.path());
    described(&steps, e.into_inner())
}

/// A parse error at `steps` as a field error: the path (empty for the whole body) and
/// serde's words without the position, reworded for people.
fn described(steps: &[Step], e: serde_json::Error) -> FieldError {
    let mut field = path_text(steps);
    let mut message = plain_message(e);
    // Serde names a field given twice or left out in its words only, at the object
    // holding it.
    for (prefix, words) in [
        ("duplicate field `", "is given more than once; send it once"),
        ("missing field `", "is required"),
    ] {
        if let Some(name) = message
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix('`'))
        {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(name);
            message = words.to_string();
            break;
        }
    }
    FieldError::new(field, message)
}

fn plain_message(e: serde_json::Error) -> String {
    let message = e.to_string();
    let message = match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    in_contract_words(&message).unwrap_or(message)
}

/// One step of a path into a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    Unknown,
}

fn steps_of(path: &serde_path_to_error::Path) -> Vec<Step> {
    use serde_path_to_error::Segment;
    path.iter()
        .map(|segment| match segment {
            Segment::Map { key } => Step::Key(key.clone()),
            Segment::Enum { variant } => Step::Key(variant.clone()),
            Segment::Seq { index } => Step::Index(*index),
            Segment::Unknown => Step::Unknown,
        })
        .collect()
}

/// A path as the contract names fields: `applicant.phone`, `claimed_programs[1]`.
fn path_text(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Index(index) => out.push_str(&format!("[{index}]")),
            Step::Key(key) if out.is_empty() => out.push_str(key),
            Step::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Step::Unknown if out.is_empty() => out.push('?'),
            Step::Unknown => out.push_str(".?"),
        }
    }
    out
}

/// How many elements `take_out` removed from each array, the array named by its path as
/// sent. Serde reads a list front to back, so every element removed from it came before
/// the next misfit it reports: that misfit's index as sent is its index now plus the count.
#[derive(Default)]
struct Removed(Vec<(Vec<Step>, usize)>);

impl Removed {
    /// `steps` (indices as they are now) as the path in the body as sent.
    fn as_sent(&self, steps: &[Step]) -> Vec<Step> {
        let mut sent = Vec::with_capacity(steps.len());
        for step in steps {
            let step = match step {
                Step::Index(now) => Step::Index(now + self.count(&sent)),
                other => other.clone(),
            };
            sent.push(step);
        }
        sent
    }

    fn count(&self, array: &[Step]) -> usize {
        self.0
            .iter()
            .find(|(at, _)| at.as_slice() == array)
            .map_or(0, |(_, n)| *n)
    }

    fn record(&mut self, array: &[Step]) {
        match self.0.iter_mut().find(|(at, _)| at.as_slice() == array) {
            Some((_, n)) => *n += 1,
            None => self.0.push((array.to_vec(), 1)),
        }
    }
}

/// Removes the value at `steps` (an object's key or an array's element; `sent` is the
/// same path as sent) from `value`; `false` when there is nothing there to remove. Every
/// field of the contract is optional or has a default, so the rest can be asked again.
fn take_out(
    value: &mut serde_json::Value,
    steps: &[Step],
    sent: &[Step],
    removed: &mut Removed,
) -> bool {
    let Some((last, parents)) = steps.split_last() else {
        return false;
    };
    let mut at = value;
    for step in parents {
        let next = match (step, at) {
            (Step::Key(key), serde_json::Value::Object(map)) => map.get_mut(key),
            (Step::Index(index), serde_json::Value::Array(items)) => items.get_mut(*index),
            _ => None,
        };
        let Some(next) = next else {
            return false;
        };
        at = next;
    }
    match (last, at) {
        (Step::Key(key), serde_json::Value::Object(map)) => map.remove(key).is_some(),
        (Step::Index(index), serde_json::Value::Array(items)) if *index < items.len() => {
            items.remove(*index);
            if let Some((_, array)) = sent.split_last() {
                removed.record(array);
            }
            true
        }
        _ => false,
    }
}

/// Serde's words for a value that does not fit ("invalid type: string \"five\", expected
/// i64") in the contract's ("must be a whole number, not text"): a client sees what the
/// field should be, never the Rust type behind it.
fn in_contract_words(message: &str) -> Option<String> {
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ")?;
        let want = wanted(expected);
        return Some(match sent(got) {
            Some(got) => format!("must be {want}, not {got}"),
            None => format!("must be {want}"),
        });
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        let (_, expected) = rest.split_once(", expected ")?;
        return Some(match wanted(expected) {
            // A whole number past what any field of the contract holds.
            "a whole number" => "is out of range".to_string(),
            want => format!("must be {want}"),
        });
    }
    if let Some(rest) = message.strip_prefix("invalid length ") {
        let (_, expected) = rest.split_once(", expected ")?;
        return Some(format!("must be {}", wanted(expected)));
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (_, known) = rest.split_once('`')?;
        // The known names are the ones serde quotes: "expected one of `a`, `b`".
        let names: Vec<&str> = known.split('`').skip(1).step_by(2).collect();
        return Some(if names.is_empty() {
            "is not a field of the contract".to_string()
        } else {
            format!(
                "is not a field of the contract; the fields here are: {}",
                names.join(", ")
            )
        });
    }
    None
}

/// What serde expected, as the contract says it.
fn wanted(expected: &str) -> &str {
    match expected {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" | "a whole number" => "a whole number",
        "f32" | "f64" => "a number",
        "a boolean" => "true or false",
        "a string" | "a borrowed string" => "a text string",
        "a sequence" => "a list",
        "a map" | "an object" => "an object",
        e if e.starts_with("struct ") => "an object",
        e if e.starts_with("one of: ") => e,
        _ => "a value the contract allows here",
    }
}

/// What was sent, as the contract says it; `None` when serde's words say nothing a
/// client would recognise. Text is not echoed: the field names it, and it may be long.
fn sent(got: &str) -> Option<String> {
    let quoted = |prefix: &str| {
        got.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('`'))
            .and_then(|rest| rest.strip_suffix('`'))
            .map(str::to_string)
    };
    match got {
        "null" | "unit value" => Some("null".to_string()),
        "sequence" => Some("a list".to_string()),
        "map" => Some("an object".to_string()),
        g if g.starts_with("string ") => Some("text".to_string()),
        _ => quoted("boolean ")
            .or_else(|| quoted("integer ").map(|n| format!("the number {n}")))
            .or_else(|| quoted("floating point ").map(|n| format!("the number {n}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IntakeInput;
    use proptest::prelude::*;

    fn fields(body: &serde_json::Value) -> Vec<String> {
        match parse_json::<IntakeInput>(body.to_string().as_bytes()) {
            Err(ApiError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected invalid fields, got {other:?}"),
        }
    }

    proptest! {
        /// Whatever mix of good and bad programs is sent, exactly the bad ones are named,
        /// each by its index in the list as sent.
        #[test]
        fn every_bad_list_element_is_named_by_its_index_as_sent(
            picks in proptest::collection::vec((any::<bool>(), 0usize..4), 1..12)
        ) {
            let good = ["siv", "p1", "p2", "parole"];
            let list: Vec<serde_json::Value> = picks
                .iter()
                .map(|&(ok, n)| if ok { good[n].into() } else { format!("bad{n}").into() })
                .collect();
            let bad: Vec<String> = picks
                .iter()
                .enumerate()
                .filter(|(_, (ok, _))| !ok)
                .map(|(i, _)| format!("claimed_programs[{i}]"))
                .collect();
            let body = serde_json::json!({"claimed_programs": list, "consent": "yes"});
            let mut expected = bad;
            expected.push("consent".to_string());
            let mut got = fields(&body);
            got.sort();
            expected.sort();
            prop_assert_eq!(got, expected);
        }
    }

    /// Every name the contract gives a field, at any depth, so that generated bodies
    /// reach the nested parts.
    const KEYS: &[&str] = &[
        "submitter",
        "applicant",
        "siv",
        "referral",
        "claimed_programs",
        "us_tie",
        "urgent",
        "description",
        "consent",
        "language",
        "kind",
        "name",
        "email",
        "phone",
        "organization",
        "full_name",
        "date_of_birth",
        "date_of_birth_calendar",
        "whatsapp",
        "location",
        "household_size",
        "status",
        "case_number",
        "program",
        "referred_by",
        "danger",
        "medical",
    ];

    /// Values the contract allows somewhere, so that some fields fit and the rest is asked.
    const WORDS: &[&str] = &[
        "self",
        "hijri_shamsi",
        "sponsor",
        "organization",
        "agency_office",
        "pakistan",
        "border",
        "none",
        "in_process",
        "approved",
        "p1",
        "p2",
        "siv",
        "parole",
        "citizen",
        "lpr",
        "en",
        "fa-AF",
        "ps",
        "Ahmad Karimi",
        "+93 700 123 456",
        "1990-05-01",
    ];

    /// What serde or Rust would call things; a client must never read these, nor the name
    /// of a domain type. Generated text is drawn from letters that cannot spell any of them.
    const RUST_WORDS: &[&str] = &[
        "struct",
        "enum",
        "variant",
        "newtype",
        "tuple",
        "sequence",
        "map",
        "unit value",
        "floating point",
        "Option",
        "Vec",
        "String",
        "str`",
        "bool",
        "i8",
        "i16",
        "i32",
        "i64",
        "i128",
        "isize",
        "u8",
        "u16",
        "u32",
        "u64",
        "u128",
        "usize",
        "f32",
        "f64",
    ];

    /// The name of every struct and enum of `src/domain`, read from the source, so that a
    /// type added later is covered too.
    fn domain_type_names() -> &'static [String] {
        static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        NAMES.get_or_init(|| {
            let mut names = Vec::new();
            let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src/domain");
            let mut dirs = vec![std::path::PathBuf::from(root)];
            while let Some(dir) = dirs.pop() {
                for entry in std::fs::read_dir(&dir).expect("src/domain is readable") {
                    let path = entry.expect("a directory entry").path();
                    if path.is_dir() {
                        dirs.push(path);
                        continue;
                    }
                    let source = std::fs::read_to_string(&path).expect("a source file");
                    let words: Vec<&str> = source
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .filter(|w| !w.is_empty())
                        .collect();
                    for pair in words.windows(2) {
                        if matches!(pair[0], "struct" | "enum")
                            && pair[1].starts_with(char::is_uppercase)
                        {
                            names.push(pair[1].to_string());
                        }
                    }
                }
            }
            assert!(names.iter().any(|n| n == "SivStatus"), "{names:?}");
            names
        })
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => proptest::sample::select(KEYS).prop_map(String::from),
            1 => "[a-h_]{1,4}",
        ]
    }

    fn object(
        values: impl Strategy<Value = serde_json::Value>,
    ) -> impl Strategy<Value = serde_json::Value> {
        proptest::collection::vec((key(), values), 0..8)
            .prop_map(|pairs| serde_json::Value::Object(pairs.into_iter().collect()))
    }

    /// Any JSON shape, of a depth serde reads without hitting its recursion limit.
    fn json_shape() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            proptest::num::f64::NORMAL.prop_map(Value::from),
            proptest::sample::select(WORDS).prop_map(Value::from),
            "[a-h ]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                object(inner),
            ]
        })
    }

    proptest! {
        /// Whatever shape a body has, every answer is the body's fit or the contract's
        /// words for each misfit, never serde's words for the Rust types behind it.
        #[test]
        fn no_answer_names_a_rust_type(
            body in prop_oneof![1 => json_shape(), 3 => object(json_shape())]
        ) {
            match parse_json::<IntakeInput>(body.to_string().as_bytes()) {
                Ok(_) => {}
                Err(ApiError::Invalid(errors)) => {
                    prop_assert!(!errors.is_empty());
                    for e in errors {
                        prop_assert!(!e.message.is_empty(), "{body}: {e:?}");
                        let names = domain_type_names().iter().map(String::as_str);
                        for word in RUST_WORDS.iter().copied().chain(names) {
                            prop_assert!(
                                !e.message.contains(word),
                                "{word:?} in {:?} at {:?} for {body}", e.message, e.field
                            );
                        }
                    }
                }
                Err(other) => prop_assert!(false, "{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn misfits_are_told_in_the_contracts_words() {
        for (body, field, message) in [
            (
                serde_json::json!({"siv": {"status": 3}}),
                "siv.status",
                "must be one of: none, in_process, approved, not the number 3",
            ),
            (
                serde_json::json!({"applicant": {"household_size": "five"}}),
                "applicant.household_size",
                "must be a whole number, not text",
            ),
            (
                serde_json::json!({"applicant": {"household_size": 4.5}}),
                "applicant.household_size",
                "must be a whole number, not the number 4.5",
            ),
            (
                serde_json::json!({"applicant": {"household_size": [4]}}),
                "applicant.household_size",
                "must be a whole number, not a list",
            ),
            (
                serde_json::json!({"consent": "yes"}),
                "consent",
                "must be true or false, not text",
            ),
            (
                serde_json::json!({"urgent": 1}),
                "urgent",
                "must be an object, not the number 1",
            ),
            (
                serde_json::json!({"referral": "p1"}),
                "referral",
                "must be an object, not text",
            ),
            (
                serde_json::json!({"claimed_programs": {}}),
                "claimed_programs",
                "must be a list, not an object",
            ),
            (
                serde_json::json!({"description": []}),
                "description",
                "must be a text string, not a list",
            ),
            (
                serde_json::json!({"urgent": {"now": true}}),
                "urgent.now",
                "is not a field of the contract; the fields here are: danger, medical",
            ),
        ] {
            assert_eq!(
                errors(&body),
                [(field.to_string(), message.to_string())],
                "{body}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_named_together() {
        let body = serde_json::json!({
            "applicant": {"nickname": "A", "household_size": true, "location": "mars"},
            "urgent": {"danger": 1},
            "extra": null,
        });
        let mut got = fields(&body);
        got.sort();
        assert_eq!(
            got,
            [
                "applicant.household_size",
                "applicant.location",
                "applicant.nickname",
                "extra",
                "urgent.danger"
            ]
        );
    }

    fn errors(body: &serde_json::Value) -> Vec<(String, String)> {
        match parse_json::<IntakeInput>(body.to_string().as_bytes()) {
            Err(ApiError::Invalid(errors)) => {
                errors.into_iter().map(|e| (e.field, e.message)).collect()
            }
            other => panic!("expected invalid fields, got {other:?}"),
        }
    }

    #[test]
    fn a_body_that_is_not_an_object_is_one_error() {
        for body in [
            serde_json::json!([1, 2]),
            serde_json::json!([{"kind": "self"}, {"full_name": "A"}]),
            serde_json::json!([]),
            serde_json::json!("text"),
        ] {
            let got = errors(&body);
            assert_eq!(got.len(), 1, "{body}: {got:?}");
            assert_eq!(got[0].0, "", "{body}");
            assert!(got[0].1.starts_with("must be an object"), "{body}: {got:?}");
        }
    }

    /// Serde would read a struct from a list by position; every part of the contract is
    /// an object, at every depth.
    #[test]
    fn a_list_where_a_part_is_wanted_is_named() {
        let parts = [
            (
                "submitter",
                serde_json::json!(["self", null, null, null, null]),
            ),
            (
                "applicant",
                serde_json::json!(["Ahmad Karimi", null, "+93700123456"]),
            ),
            ("siv", serde_json::json!(["approved", "COM-123456"])),
            ("referral", serde_json::json!(["p1", "UNHCR"])),
            ("urgent", serde_json::json!([true, false])),
            ("siv", serde_json::json!([])),
        ];
        for (part, list) in parts {
            let body = serde_json::json!({ part: list, "consent": true });
            assert_eq!(
                errors(&body),
                [(
                    part.to_string(),
                    "must be an object, not a list".to_string()
                )],
                "{body}"
            );
        }
    }

    #[test]
    fn a_list_sent_as_null_is_an_empty_list() {
        let input: IntakeInput = parse_json(br#"{"claimed_programs": null}"#).unwrap();
        assert!(input.claimed_programs.is_empty());
        assert_eq!(
            fields(&serde_json::json!({"claimed_programs": ["siv", "x"]})),
            ["claimed_programs[1]"]
        );
    }

    #[test]
    fn a_field_given_twice_is_named() {
        for (body, field) in [
            (&br#"{"consent": true, "consent": false}"#[..], "consent"),
            (
                br#"{"applicant": {"phone": "1", "phone": "2"}}"#,
                "applicant.phone",
            ),
        ] {
            match parse_json::<IntakeInput>(body) {
                Err(ApiError::Invalid(errors)) => {
                    assert_eq!(errors.len(), 1);
                    assert_eq!(errors[0].field, field);
                    assert!(errors[0].message.contains("more than once"));
                }
                other => panic!("expected invalid fields, got {other:?}"),
            }
        }
    }

    #[test]
    fn trailing_characters_are_not_json() {
        assert!(matches!(
            parse_json::<IntakeInput>(b"{} x"),
            Err(ApiError::MalformedJson(_))
        ));
        assert!(parse_json::<IntakeInput>(b"{}  \n").is_ok());
    }
}
