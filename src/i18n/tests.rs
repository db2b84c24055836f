//! The catalogs are complete: every language has every key, every key the code and the
//! templates use exists, and the translations are translations, not English copies.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use fluent_syntax::ast::Entry;

use super::*;
use crate::domain::vocab::{Program, ReferralProgram, SivStatus, SubmitterKind, UsTie};
use crate::domain::{Category, Location, Problem};

fn keys_of(source: &str) -> BTreeSet<String> {
    let resource = fluent_syntax::parser::parse(source)
        .unwrap_or_else(|(_, errors)| panic!("catalog does not parse: {errors:?}"));
    resource
        .body
        .iter()
        .filter_map(|e| match e {
            Entry::Message(m) => Some(m.id.name.to_string()),
            _ => None,
        })
        .collect()
}

fn english_keys() -> BTreeSet<String> {
    keys_of(SOURCES[0].1)
}

#[test]
fn every_language_has_exactly_the_english_keys() {
    let english = english_keys();
    for (lang, source) in SOURCES {
        let keys = keys_of(source);
        let missing: Vec<_> = english.difference(&keys).collect();
        let extra: Vec<_> = keys.difference(&english).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "locales/{lang}/main.ftl: missing {missing:?}, not in English {extra:?}"
        );
    }
}

#[test]
fn catalogs_load_without_errors() {
    for (lang, _) in SOURCES {
        assert!(!Tr(*lang).t("language-name").is_empty(), "{lang}");
    }
}

fn is_arabic_script(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

#[test]
fn dari_and_pashto_are_written_in_their_own_words() {
    let english = english_keys();
    for lang in [Language::FaAf, Language::Ps] {
        for key in &english {
            let en = message(Language::En, key, None);
            let text = message(lang, key, None);
            assert_ne!(text, en, "{lang} {key} is the English text");
            assert!(
                text.chars().any(is_arabic_script),
                "{lang} {key} has no Arabic-script text: {text}"
            );
        }
    }
    // The two are different languages, not one text twice.
    let same = english
        .iter()
        .filter(|k| message(Language::FaAf, k, None) == message(Language::Ps, k, None))
        .count();
    assert!(
        same <= 2,
        "{same} messages are identical in Dari and Pashto"
    );
}

#[test]
fn plurals_read_right_in_every_language() {
    for lang in [Language::En, Language::FaAf, Language::Ps] {
        let one = Tr(lang).t_count("error-summary-title", "count", 1);
        let three = Tr(lang).t_count("error-summary-title", "count", 3);
        assert_ne!(one, three, "{lang}");
        assert!(three.contains('3'), "{lang}: {three}");
    }
}

/// Every `.t("key")`, `.t_with("key"` and `.t_count("key"` in the templates and the code.
fn used_keys() -> BTreeSet<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect(&root.join("templates"), &mut files);
    collect(&root.join("src"), &mut files);
    let mut used = BTreeSet::new();
    for file in files {
        if file.starts_with(root.join("src/i18n")) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for call in [".t(\"", ".t_with(\"", ".t_count(\""] {
            for (at, _) in text.match_indices(call) {
                let rest = &text[at + call.len()..];
                let key = &rest[..rest.find('"').unwrap()];
                used.insert((key.to_string(), file.display().to_string()));
            }
        }
    }
    used
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn every_key_the_templates_and_code_use_is_in_the_english_catalog() {
    let english = english_keys();
    let used = used_keys();
    assert!(used.len() > 50, "the scan found only {} keys", used.len());
    let missing: Vec<_> = used.iter().filter(|(k, _)| !english.contains(k)).collect();
    assert!(missing.is_empty(), "keys missing from English: {missing:?}");
}

#[test]
fn every_answer_option_category_error_and_guidance_has_a_key() {
    let english = english_keys();
    let mut wanted = Vec::new();
    let groups: [(&str, Vec<&str>); 7] = [
        (
            "submitter_kind",
            SubmitterKind::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "location",
            Location::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "siv_status",
            SivStatus::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "referral_program",
            ReferralProgram::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        ("program", Program::ALL.iter().map(|v| v.as_str()).collect()),
        ("us_tie", UsTie::ALL.iter().map(|v| v.as_str()).collect()),
        (
            "calendar",
            crate::domain::vocab::Calendar::ALL
                .iter()
                .map(|v| v.as_str())
                .collect(),
        ),
    ];
    for (group, values) in groups {
        wanted.extend(values.into_iter().map(|v| option_key(group, v)));
    }
    for c in Category::ALL {
        wanted.push(format!("category-{c}"));
        wanted.push(format!("guidance-{c}"));
        wanted.push(format!("next-steps-{c}"));
    }
    for p in Problem::ALL {
        wanted.push(format!("error-{}", p.code()));
    }
    let missing: Vec<_> = wanted.iter().filter(|k| !english.contains(*k)).collect();
    assert!(missing.is_empty(), "keys missing from English: {missing:?}");
}

#[test]
fn a_missing_key_falls_back_to_english_then_to_the_key() {
    assert_eq!(message(Language::Ps, "no-such-key", None), "no-such-key");
    assert_eq!(
        Tr(Language::En).t_with("mail-ack-subject", "reference", "TF-7K3M-9QXD"),
        "Your request TF-7K3M-9QXD has been received"
    );
}

/// In right-to-left text a phone number or date written left to right must be isolated
/// (U+2066 … U+2069), or the bidi algorithm moves its `+` or its parts: "+93 70 …" would
/// read "93 70 …+".
#[test]
fn left_to_right_examples_in_dari_and_pashto_are_isolated() {
    for lang in [Language::FaAf, Language::Ps] {
        for key in [
            "h-applicant-phone",
            "calendar-gregorian",
            "calendar-hijri_shamsi",
        ] {
            let text = Tr(lang).t(key);
            let example = text
                .find(|c: char| c == '+' || c.is_ascii_digit() || ('۰'..='۹').contains(&c))
                .expect("an example");
            assert!(
                text[..example].ends_with('\u{2066}'),
                "{lang} {key}: the example is not isolated: {text:?}"
            );
            assert!(text.contains('\u{2069}'), "{lang} {key}: {text:?}");
        }
    }
}
