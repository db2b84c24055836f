//! Value types parsed once at the edge: a name, an email address, a phone number, a case
//! number, a date of birth. Inside the product each is valid by construction.

use chrono::NaiveDate;
use std::fmt;
use unicode_normalization::UnicodeNormalization;

use super::problem::Problem;
use super::vocab::Location;

/// Unicode digits people type on Dari/Pashto keyboards, mapped to ASCII.
pub fn ascii_digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        // Arabic-Indic (U+0660..) and Extended Arabic-Indic / Persian (U+06F0..)
        '\u{0660}'..='\u{0669}' => char::from_digit(c as u32 - 0x0660, 10),
        '\u{06F0}'..='\u{06F9}' => char::from_digit(c as u32 - 0x06F0, 10),
        _ => None,
    }
}

/// Replaces Eastern Arabic and Persian digits with ASCII ones, leaving everything else.
pub fn ascii_digits(raw: &str) -> String {
    raw.chars().map(|c| ascii_digit(c).unwrap_or(c)).collect()
}

/// Trims, collapses inner whitespace, rejects control and bidi-override characters and
/// composes to Unicode NFC, so one name typed on two keyboards is stored the same way.
pub fn clean_text(raw: &str) -> Result<String, Problem> {
    if raw.chars().any(is_forbidden_char) {
        return Err(Problem::InvisibleCharacters);
    }
    Ok(raw
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .nfc()
        .collect())
}

/// Like `clean_text` but keeps line breaks, for free text (also NFC).
pub fn clean_multiline(raw: &str) -> Result<String, Problem> {
    if raw
        .chars()
        .any(|c| is_forbidden_char(c) && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(Problem::InvisibleCharacters);
    }
    Ok(raw.replace("\r\n", "\n").trim().nfc().collect())
}

fn is_forbidden_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A person's name as they wrote it (any script), trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// Counted on the name as given, before white space is collapsed (intake counts it
    /// as sent, white space around it included).
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let cleaned = clean_text(raw)?;
        if cleaned.is_empty() {
            return Err(Problem::NameEmpty);
        }
        if raw.trim().chars().count() > Self::MAX_CHARS {
            return Err(Problem::NameTooLong);
        }
        if !cleaned.chars().any(char::is_alphabetic) {
            return Err(Problem::NoLetters);
        }
        Ok(PersonName(cleaned))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address that a mail can be sent to (no display name, no header tricks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactEmail(String);

impl ContactEmail {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let trimmed = raw.trim();
        if trimmed.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(Problem::EmailSpaces);
        }
        if trimmed.len() > 254 {
            return Err(Problem::EmailTooLong);
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(Problem::EmailInvalid)?;
        let valid = !local.is_empty()
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain.contains('.')
            && trimmed.parse::<lettre::Address>().is_ok();
        if !valid {
            return Err(Problem::EmailInvalid);
        }
        Ok(ContactEmail(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number: in E.164 (`+93700123456`) when libphonenumber's rules read it as a
/// valid number, else as typed, `+` and ASCII digits; 6 to 20 digits either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// `home` is the country a number written without its country code is read in (the
    /// applicant's, `phone_region`). A number the rules do not know is kept as typed
    /// rather than refused: the published contract promises 6 to 20 digits, and a wrong
    /// rule must not turn a person away.
    pub fn parse(raw: &str, home: Option<phonenumber::country::Id>) -> Result<Self, Problem> {
        let trimmed = raw.trim();
        let mut out = String::new();
        for (i, c) in trimmed.chars().enumerate() {
            if let Some(d) = ascii_digit(c) {
                out.push(d);
            } else if (c == '+' || c == '\u{FF0B}') && i == 0 {
                out.push('+');
            } else if !matches!(c, ' ' | '-' | '(' | ')' | '.' | '/' | '\u{00A0}') {
                return Err(Problem::PhoneCharacters);
            }
        }
        let digits = out.chars().filter(char::is_ascii_digit).count();
        if !(6..=20).contains(&digits) {
            return Err(Problem::PhoneDigits);
        }
        match phonenumber::parse(home, &out) {
            Ok(number) if phonenumber::is_valid(&number) => Ok(PhoneNumber(
                number.format().mode(phonenumber::Mode::E164).to_string(),
            )),
            _ => Ok(PhoneNumber(out)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a number written without its country code is read: Afghanistan's and Pakistan's
/// local forms (`0700 123 456`, `0300 1234567`) where the applicant is; elsewhere (and at
/// the border, where either is possible) only a number with its `+` country code is read.
pub fn phone_region(location: Option<Location>) -> Option<phonenumber::country::Id> {
    match location? {
        Location::Afghanistan => Some(phonenumber::country::Id::AF),
        Location::Pakistan => Some(phonenumber::country::Id::PK),
        Location::Border | Location::Elsewhere => None,
    }
}

/// A COM or NVC case number, upper-cased without spaces or dashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNumber(String);

impl CaseNumber {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let mut out = String::new();
        for c in raw.trim().chars() {
            if let Some(d) = ascii_digit(c) {
                out.push(d);
            } else if c.is_ascii_alphabetic() {
                out.push(c.to_ascii_uppercase());
            } else if !matches!(c, ' ' | '-' | '/' | '.' | '_') {
                return Err(Problem::CaseNumberCharacters);
            }
        }
        if !(4..=30).contains(&out.len()) {
            return Err(Problem::CaseNumberLength);
        }
        Ok(CaseNumber(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whole years between `born` and `today`.
pub fn age_on(born: NaiveDate, today: NaiveDate) -> u32 {
    today.years_since(born).unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `s` with its ASCII digits in script 0 (Latin), 1 (Arabic-Indic) or 2 (Persian).
    pub(crate) fn in_script(s: &str, script: u32) -> String {
        let base = match script {
            1 => 0x660,
            2 => 0x6F0,
            _ => return s.to_string(),
        };
        s.chars()
            .map(|c| match c.to_digit(10) {
                Some(d) => char::from_u32(base + d).unwrap_or(c),
                None => c,
            })
            .collect()
    }

    const AF: Option<phonenumber::country::Id> = Some(phonenumber::country::Id::AF);
    const PK: Option<phonenumber::country::Id> = Some(phonenumber::country::Id::PK);

    #[test]
    fn persian_digits_are_accepted_in_phone_numbers() {
        let phone = PhoneNumber::parse("+۹۳ ۷۰۰ ۱۲۳ ۴۵۶", None).unwrap();
        assert_eq!(phone.as_str(), "+93700123456");
    }

    #[test]
    fn local_numbers_are_read_where_the_applicant_is() {
        for (typed, home) in [
            ("0700 123 456", AF),
            ("0093 700 123 456", AF),
            ("+93 (700) 123-456", None),
            ("۰۷۰۰۱۲۳۴۵۶", AF),
            ("٠٧٠٠ ١٢٣ ٤٥٦", AF),
        ] {
            let phone = PhoneNumber::parse(typed, home).unwrap();
            assert_eq!(phone.as_str(), "+93700123456", "{typed}");
        }
        assert_eq!(
            PhoneNumber::parse("0300 1234567", PK).unwrap().as_str(),
            "+923001234567"
        );
        assert_eq!(
            PhoneNumber::parse("0092 300 1234567", PK).unwrap().as_str(),
            "+923001234567"
        );
        // An Afghan number given with its code from Pakistan stays Afghan.
        assert_eq!(
            PhoneNumber::parse("+93 700 123 456", PK).unwrap().as_str(),
            "+93700123456"
        );
        assert_eq!(
            PhoneNumber::parse("+1 202-555-0143", AF).unwrap().as_str(),
            "+12025550143"
        );
        // No country to read a local number in, or one the rules do not know: kept as typed.
        assert_eq!(
            PhoneNumber::parse("0700 123 456", None).unwrap().as_str(),
            "0700123456"
        );
        assert_eq!(
            PhoneNumber::parse("12 34 56", AF).unwrap().as_str(),
            "123456"
        );
        assert_eq!(
            phone_region(Some(Location::Pakistan)),
            PK,
            "Pakistan reads Pakistani numbers"
        );
        assert_eq!(phone_region(Some(Location::Border)), None);
    }

    #[test]
    fn phone_numbers_reject_letters_and_short_input() {
        assert!(PhoneNumber::parse("call me", AF).is_err());
        assert!(PhoneNumber::parse("123", AF).is_err());
        assert!(PhoneNumber::parse("12+345678", AF).is_err());
    }

    #[test]
    fn email_rejects_header_injection_and_garbage() {
        assert!(ContactEmail::parse("a@example.org\r\nBcc: x@evil.test").is_err());
        assert!(ContactEmail::parse("not-an-email").is_err());
        assert!(ContactEmail::parse("a@localhost").is_err());
        assert_eq!(
            ContactEmail::parse(" Ana@Example.ORG ").unwrap().as_str(),
            "Ana@example.org"
        );
    }

    #[test]
    fn names_keep_arabic_script_and_reject_bidi_overrides() {
        assert_eq!(
            PersonName::parse("  محمد   رحیمی ").unwrap().as_str(),
            "محمد رحیمی"
        );
        assert!(PersonName::parse("Ali\u{202E}evil").is_err());
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse("12345").is_err());
    }

    #[test]
    fn names_and_free_text_are_stored_composed() {
        // "آ" typed as alef + combining madda, "é" as e + combining acute.
        let name = PersonName::parse("\u{0627}\u{0653}منه Rene\u{0301}").unwrap();
        assert_eq!(name.as_str(), "\u{0622}منه Ren\u{00E9}");
        assert_eq!(
            clean_multiline("\u{0627}\u{0653}ب\r\nline").unwrap(),
            "\u{0622}ب\nline"
        );
    }

    #[test]
    fn persian_digits_are_accepted_in_case_numbers() {
        assert_eq!(
            CaseNumber::parse("ISB۲۰۲۱-۱۲۳").unwrap().as_str(),
            "ISB2021123"
        );
    }

    #[test]
    fn ages_count_whole_years() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(
            age_on(NaiveDate::from_ymd_opt(2010, 11, 27).unwrap(), today),
            15
        );
    }

    proptest! {
        #[test]
        fn case_numbers_ignore_case_and_separators(s in "[A-Za-z0-9]{4,20}") {
            let plain = CaseNumber::parse(&s).unwrap();
            let dashed: String = s.chars().flat_map(|c| [c, '-']).collect();
            prop_assert_eq!(CaseNumber::parse(&dashed.to_lowercase()).unwrap(), plain);
        }

        #[test]
        fn phone_parsing_is_idempotent(s in "\\+?[0-9 ()-]{6,30}", pk in any::<bool>()) {
            let home = if pk { PK } else { AF };
            if let Ok(p) = PhoneNumber::parse(&s, home) {
                prop_assert_eq!(PhoneNumber::parse(p.as_str(), home).unwrap(), p);
            }
        }

        /// Every way an Afghan mobile number is written gives the one E.164 form.
        #[test]
        fn afghan_mobiles_are_one_number_however_written(
            d in "7[0-9]{8}",
            script in 0u32..3,
            sep in proptest::sample::select(vec!["", " ", "-", "  "]),
        ) {
            let local = format!("0{} {} {}", &d[..3], &d[3..6], &d[6..]).replace(' ', sep);
            let forms = [local, format!("+93{d}"), format!("0093 {d}"), format!("+93 {}-{}", &d[..3], &d[3..])];
            let e164: Vec<String> = forms
                .iter()
                .map(|f| PhoneNumber::parse(&in_script(f, script), AF).unwrap().0)
                .collect();
            prop_assert!(e164.iter().all(|p| p == &e164[0]), "{:?}", e164);
            // A number the rules take is in E.164; from Pakistan the `+93` forms agree.
            if e164[0].starts_with('+') {
                prop_assert_eq!(&e164[0], &format!("+93{d}"));
                prop_assert_eq!(PhoneNumber::parse(&forms[1], PK).unwrap().0, format!("+93{d}"));
            }
        }

        /// Persian and Arabic-Indic digits are the Latin ones, in every numeric field.
        #[test]
        fn every_digit_script_reads_the_same(s in "[0-9]{1,12}", script in 1u32..3) {
            let other = in_script(&s, script);
            prop_assert_eq!(ascii_digits(&other), s.clone());
            let padded = format!("+93{s:0>9}");
            prop_assert_eq!(
                PhoneNumber::parse(&in_script(&padded, script), AF),
                PhoneNumber::parse(&padded, AF)
            );
            let case = format!("COM{s:0>4}");
            prop_assert_eq!(CaseNumber::parse(&in_script(&case, script)), CaseNumber::parse(&case));
        }

        #[test]
        fn names_never_keep_outer_whitespace(s in "\\PC{1,60}") {
            if let Ok(n) = PersonName::parse(&s) {
                prop_assert_eq!(n.as_str().trim(), n.as_str());
                prop_assert!(!n.as_str().contains("  "));
            }
        }
    }
}
