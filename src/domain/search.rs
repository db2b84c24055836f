//! What staff type into the person search, read once: a name in any script, spelling and
//! order, phone numbers in any format, email addresses, COM/NVC case numbers, a reference,
//! a birth year or date in either calendar, or a mix ("karimi 1364 0700 123 456"). The
//! result is a profile that duplicate matching can find and score, so a search is ranked
//! by the same evidence as a possible duplicate.

use chrono::{Datelike, NaiveDate};

use super::birth::{from_solar_hijri, to_solar_hijri, BirthDate};
use super::dedup::{Birth, Profile, ProfileInput};
use super::fields::{ascii_digits, CaseNumber};
use super::reference::CaseReference;
use super::vocab::{BirthPrecision, Calendar};

/// A search, read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonQuery {
    pub reference: Option<CaseReference>,
    /// The words that are not numbers, addresses or references, in the order typed.
    pub name: String,
    pub birth: Option<Birth>,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub case_numbers: Vec<String>,
}

/// A token that is part of a number: digits and what people put between them.
fn numeric(token: &str) -> bool {
    token.chars().any(|c| c.is_ascii_digit())
        && token
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '(' | ')' | '-' | '.'))
}

impl PersonQuery {
    pub fn parse(raw: &str, today: NaiveDate) -> PersonQuery {
        let mut q = PersonQuery::default();
        let mut words: Vec<String> = Vec::new();
        let mut number = String::new();
        let ascii = ascii_digits(raw);
        let tokens: Vec<&str> = ascii
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .filter(|t| !t.is_empty())
            .collect();
        for token in tokens {
            let date = (token.matches('-').count() == 2)
                .then(|| read_date(token, today))
                .flatten();
            if numeric(token) && date.is_none() {
                let year = (token.len() == 4)
                    .then(|| read_year(token, today))
                    .flatten();
                if let (true, Some(year)) = (number.is_empty(), year) {
                    q.birth = Some(year);
                    continue;
                }
                // A phone written in groups (`+93 700 123 456`) is one number; a `+` or
                // `00` starts another.
                if token.starts_with('+') || token.starts_with("00") {
                    q.take_number(&mut number, today);
                }
                number.push_str(token);
                continue;
            }
            q.take_number(&mut number, today);
            if token.contains('@') {
                q.emails.push(token.to_lowercase());
            } else if let Some(reference) = token
                .get(..2)
                .filter(|tf| tf.eq_ignore_ascii_case("tf"))
                .and_then(|_| CaseReference::parse(token))
            {
                q.reference = Some(reference);
            } else if let Some(birth) = date.or_else(|| read_date(token, today)) {
                q.birth = Some(birth);
            } else if token.chars().any(|c| c.is_ascii_digit()) {
                if let Ok(case) = CaseNumber::parse(token) {
                    q.case_numbers.push(case.as_str().to_string());
                }
            } else {
                words.push(token.to_string());
            }
        }
        q.take_number(&mut number, today);
        q.name = words.join(" ");
        q
    }

    /// The number gathered so far: a year (four digits), else a phone or case number.
    fn take_number(&mut self, number: &mut String, today: NaiveDate) {
        let digits: String = number.chars().filter(char::is_ascii_digit).collect();
        if digits.len() == 4 && !number.starts_with('+') {
            if let Some(year) = read_year(&digits, today) {
                self.birth = Some(year);
            }
        } else if digits.len() >= 6 {
            self.phones.push(number.clone());
            self.case_numbers.push(digits);
        }
        number.clear();
    }

    /// Nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.reference.is_none()
            && self.name.is_empty()
            && self.birth.is_none()
            && self.phones.is_empty()
            && self.emails.is_empty()
            && self.case_numbers.is_empty()
    }

    /// The person searched for, as duplicate matching compares people.
    pub fn profile(&self) -> Profile {
        let phones: Vec<&str> = self.phones.iter().map(String::as_str).collect();
        let emails: Vec<&str> = self.emails.iter().map(String::as_str).collect();
        let cases: Vec<&str> = self.case_numbers.iter().map(String::as_str).collect();
        Profile::new(ProfileInput {
            full_name: &self.name,
            birth: self.birth,
            phones: &phones,
            emails: &emails,
            case_numbers: &cases,
            household_size: None,
            location: None,
        })
    }
}

/// A year alone: Gregorian from 1900 to this year, else a Solar Hijri year (as the
/// Gregorian year it starts in).
fn read_year(digits: &str, today: NaiveDate) -> Option<Birth> {
    let year: i32 = digits.parse().ok()?;
    if (1900..=today.year()).contains(&year) {
        return Some(Birth::Year(year));
    }
    if (1279..=to_solar_hijri(today).0).contains(&year) {
        return Some(Birth::Year(from_solar_hijri(year, 1, 1)?.year()));
    }
    None
}

/// A whole date in whichever calendar it makes sense in (Gregorian first).
fn read_date(token: &str, today: NaiveDate) -> Option<Birth> {
    [Calendar::Gregorian, Calendar::HijriShamsi]
        .into_iter()
        .filter_map(|calendar| BirthDate::parse(token, calendar, today).ok())
        .find(|b| b.precision == BirthPrecision::Day)
        .map(BirthDate::birth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::birth::tests::{today, ymd};

    #[test]
    fn a_mix_is_read_part_by_part() {
        let q = PersonQuery::parse("karimi Mohammad 1364 +93 700 123 456", today());
        assert_eq!(q.name, "karimi Mohammad");
        assert_eq!(q.birth, Some(Birth::Year(1985)));
        assert_eq!(q.phones, ["+93700123456"]);
        let q = PersonQuery::parse(
            "۰۷۰۰ ۱۲۳ ۴۵۶ a@Example.org ISB-2021-555 tf-wegd-sg27",
            today(),
        );
        assert_eq!(q.phones, ["0700123456"]);
        assert_eq!(q.emails, ["a@example.org"]);
        assert_eq!(q.case_numbers, ["0700123456", "ISB2021555"]);
        assert_eq!(
            q.reference.map(|r| r.to_string()).as_deref(),
            Some("TF-WEGD-SG27")
        );
        assert!(q.name.is_empty());
    }

    #[test]
    fn dates_are_read_in_either_calendar() {
        let q = PersonQuery::parse("عبدالرحمن ۱۳۶۹/۱۰/۱۱", today());
        assert_eq!(q.birth, Some(Birth::Date(ymd(1991, 1, 1))));
        assert_eq!(q.name, "عبدالرحمن");
        let q = PersonQuery::parse("1990-05-01 Rahimi", today());
        assert_eq!(q.birth, Some(Birth::Date(ymd(1990, 5, 1))));
        assert_eq!(
            PersonQuery::parse("1985", today()).birth,
            Some(Birth::Year(1985))
        );
        assert!(PersonQuery::parse("  ", today()).is_empty());
    }
}
