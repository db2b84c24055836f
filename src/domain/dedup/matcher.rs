//! Scores how likely two requests are about the same principal applicant, and says why
//! in words a caseworker can check.
//!
//! The evidence adds up as log-odds: identifiers a family keeps (case number, phone,
//! email) weigh most; the name after normalization counts with the date of birth; household
//! size and location only nudge. A clearly different given name or birth year pulls the
//! score down even when a phone is shared, because family members often share one. A name
//! counts by how alike its least alike tokens are and by how many people bear it: the same
//! rare name is strong evidence, the same common one (Mohammad Ahmadi) much less.

use chrono::Datelike;

use super::similarity::{compare_names, NameMatch};
use super::{Birth, Profile};

/// How two requests compare: a score in [0, 1] and the evidence for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub score: f64,
    pub reasons: Vec<String>,
}

/// Log-odds before any evidence: two requests picked by a blocking key are usually
/// different people.
const PRIOR: f64 = -4.0;

/// Compares a new request with an earlier one.
pub fn assess(new: &Profile, earlier: &Profile) -> Assessment {
    let mut logit = PRIOR;
    let mut reasons = Vec::new();

    let shares = |a: &[String], b: &[String]| a.iter().any(|x| b.contains(x));
    if shares(&new.case_numbers, &earlier.case_numbers) {
        logit += 6.0;
        reasons.push("same case number".to_string());
    }
    if shares(&new.phones, &earlier.phones) {
        logit += 4.0;
        reasons.push("same phone".to_string());
    } else if !new.phones.is_empty() && !earlier.phones.is_empty() {
        // People change numbers, so this is weak evidence against.
        logit -= 1.0;
    }
    if shares(&new.emails, &earlier.emails) {
        logit += 4.0;
        reasons.push("same email".to_string());
    }

    let birth = compare_births(new.birth, earlier.birth);
    logit += match birth {
        BirthMatch::SameDate => 4.0,
        BirthMatch::Swapped => 2.5,
        BirthMatch::SameYear => 1.5,
        // A guessed year, or one converted from the solar hijri calendar.
        BirthMatch::YearApart => 0.5,
        BirthMatch::Unknown => 0.0,
        BirthMatch::OtherDateSameYear => -3.0,
        BirthMatch::Different => -4.0,
    };

    let names = compare_names(&new.name, &earlier.name);
    let name_weight = name_weight(&names);
    logit += name_weight;
    let name = names.similarity;
    let birth_words = match birth {
        BirthMatch::SameDate => Some("same date of birth"),
        BirthMatch::Swapped => Some("same date of birth with day and month swapped"),
        BirthMatch::SameYear => Some("same birth year"),
        _ => None,
    };
    let name_words = (name_weight > 0.0).then(|| {
        if names.common >= names.paired {
            format!("name ~ {name:.2} (common)")
        } else {
            format!("name ~ {name:.2}")
        }
    });
    match (name_words, birth_words) {
        (Some(n), Some(b)) => reasons.push(format!("{n} + {b}")),
        (Some(n), None) => reasons.push(n),
        (None, Some(b)) => reasons.push(b.to_string()),
        (None, None) => {}
    }

    match (new.household_size, earlier.household_size) {
        (Some(a), Some(b)) if a == b => {
            logit += 0.5;
            reasons.push("same household size".to_string());
        }
        // A family grows or shrinks by one or two between reports, rarely by more.
        (Some(a), Some(b)) if a.abs_diff(b) >= 3 => logit -= 1.5,
        _ => {}
    }
    if new.location.is_some() && new.location == earlier.location {
        logit += 0.3;
        reasons.push("same location".to_string());
    }

    let score = 1.0 / (1.0 + (-logit).exp());
    Assessment {
        score: (score * 1000.0).round() / 1000.0,
        reasons,
    }
}

/// What the names add to the log-odds.
///
/// Every token of the shorter name must have a partner in the other: the least alike pair
/// decides, from a spelling variant (Tareq / Tariq, 0.9 and above) through a typo (0.75 to
/// 0.9) to a different name (below 0.75: brothers, cousins, a spouse), which counts
/// strongly against whatever else is shared. On top of that: the same common name says
/// less (namesakes abound in a surge), a father's name given in one report only costs a
/// little, and a longer name whose given name is missing from the shorter one is most
/// likely a son named with his father's name.
fn name_weight(m: &NameMatch) -> f64 {
    if m.paired == 0 {
        // No name on one side: it tells nothing either way.
        return 0.0;
    }
    if m.paired == 1 {
        // One token, a surname or a given name alone, says little for; a different one
        // still says against.
        return if m.weakest >= 0.9 { 1.0 } else { -6.0 };
    }
    let mut weight = match m.weakest {
        w if w >= 0.9 => 7.0,
        w if w >= 0.85 => 5.5,
        w if w >= 0.8 => 4.0,
        w if w >= 0.75 => 1.5,
        _ => return -6.0,
    };
    if m.given_unpaired {
        // Most likely a son; the same person with a title or prefix this code does not
        // know only when the date of birth or an identifier says so.
        weight -= 6.5;
    }
    if m.common >= m.paired {
        weight -= 3.5;
    }
    weight - 0.3 * m.unpaired.min(2) as f64
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BirthMatch {
    SameDate,
    /// 03/05 typed as 05/03.
    Swapped,
    SameYear,
    /// Two full dates in one year that differ: two people, or a typo.
    OtherDateSameYear,
    /// One year apart: a guessed or converted (solar hijri) year.
    YearApart,
    Different,
    Unknown,
}

fn compare_births(a: Option<Birth>, b: Option<Birth>) -> BirthMatch {
    let (Some(a), Some(b)) = (a, b) else {
        return BirthMatch::Unknown;
    };
    if let (Birth::Date(x), Birth::Date(y)) = (a, b) {
        if x == y {
            return BirthMatch::SameDate;
        }
        if x.year() == y.year() && x.day() == y.month() && x.month() == y.day() {
            return BirthMatch::Swapped;
        }
        if x.year() == y.year() {
            return BirthMatch::OtherDateSameYear;
        }
    }
    match a.year().abs_diff(b.year()) {
        0 => BirthMatch::SameYear,
        1 => BirthMatch::YearApart,
        _ => BirthMatch::Different,
    }
}

#[cfg(test)]
mod tests {
    use super::super::normalize::name_tokens;
    use super::super::similarity::name_similarity;
    use super::*;
    use chrono::NaiveDate;

    fn sim(a: &str, b: &str) -> f64 {
        name_similarity(&name_tokens(a), &name_tokens(b))
    }

    /// `born` is a date, a year or empty; so is `phone`.
    fn person(name: &str, born: &str, phone: &str) -> Profile {
        let birth = NaiveDate::parse_from_str(born, "%Y-%m-%d")
            .ok()
            .map(Birth::Date)
            .or_else(|| born.parse().ok().map(Birth::Year));
        Profile::new(super::super::ProfileInput {
            full_name: name,
            birth,
            phones: &[phone],
            emails: &[],
            case_numbers: &[],
            household_size: Some(5),
            location: Some("pakistan"),
        })
    }

    #[test]
    fn spelling_variants_and_order_are_alike() {
        assert!(sim("Mohammad Karimi", "Karimi Muhammad") > 0.95);
        assert!(sim("Abdul Rahman Ahmadzai", "Abdurrahman Ahmadzai") > 0.95);
        assert!(sim("Haji Gul Ahmad", "Gul Ahmed") > 0.9);
        assert!(sim("محمد کریمی", "Mohammed Kareemi") > 0.95);
    }

    #[test]
    fn brothers_sharing_a_surname_are_not_alike() {
        assert!(sim("Ahmad Karimi", "Mahmood Karimi") < 0.85);
        assert!(sim("Ahmad Shah Karimi", "Wali Shah Karimi") < 0.85);
        assert!(sim("Ahmad", "Ahmad Karimi") < 0.9);
    }

    #[test]
    fn a_shared_family_phone_does_not_make_brothers_duplicates() {
        let a = person("Ahmad Karimi", "1988-02-01", "+93 700 123 456");
        let b = person("Mahmood Karimi", "1992-07-12", "0700123456");
        let m = assess(&b, &a);
        assert!(m.score < 0.2, "{m:?}");
        assert_eq!(m.reasons[0], "same phone");
    }

    #[test]
    fn the_same_person_spelled_differently_is_a_duplicate() {
        let a = person("Jamshid Stanikzai", "1988-02-01", "+93 700 123 456");
        let b = person("Jamsheed Stanekzai", "1988-01-02", "0700123456");
        let m = assess(&b, &a);
        assert!(m.score > 0.99, "{m:?}");
        assert_eq!(
            m.reasons,
            [
                "same phone",
                "name ~ 0.98 + same date of birth with day and month swapped",
                "same household size",
                "same location"
            ]
        );
    }

    fn flagged(a: &Profile, b: &Profile) -> bool {
        assess(b, a).score >= crate::domain::dedup::DEFAULT_THRESHOLD
    }

    #[test]
    fn a_rare_name_is_evidence_on_its_own_a_common_one_is_not() {
        // No date of birth on one side, a new phone number: only the name speaks.
        let a = person("Jamshid Stanikzai", "", "+93 700 123 456");
        let b = person("جمشید ستانکزی", "1979", "+93 701 555 444");
        assert!(flagged(&a, &b), "{:?}", assess(&b, &a));
        // The same for a name that thousands bear, even born the same year.
        let a = person("Mohammad Ahmadi", "1979-03-01", "+93 700 123 456");
        let b = person("Muhammad Ahmady", "1979", "+93 701 555 444");
        let m = assess(&b, &a);
        assert!(!flagged(&a, &b), "{m:?}");
        assert!(m.reasons[0].starts_with("name ~ 1.00 (common)"), "{m:?}");
        // A common name with a shared phone is still a duplicate.
        let b = person("Muhammad Ahmady", "1979", "0700123456");
        assert!(flagged(&a, &b));
    }

    #[test]
    fn a_typo_counts_when_something_else_agrees() {
        let a = person("Farid Amiri", "1959-02-08", "");
        let typo = person("Faered Amiri", "1959", "");
        assert!(flagged(&a, &typo), "{:?}", assess(&typo, &a));
        let other_year = person("Faered Amiri", "1971", "");
        assert!(!flagged(&a, &other_year));
    }

    #[test]
    fn a_son_named_with_his_fathers_name_is_not_his_father() {
        let father = person("Qasim Rahimi", "", "+93 700 123 456");
        let son = person("Wali Qasim Rahimi", "", "0700123456");
        assert!(!flagged(&father, &son), "{:?}", assess(&son, &father));
        // A father's name written in one report only is the same person.
        let same = person("Qasim Nasir Rahimi", "", "0700123456");
        assert!(flagged(&father, &same), "{:?}", assess(&same, &father));
        // So is a name with a leading Mohammad, which is often left out, or with a title
        // this code does not know, once the date of birth agrees.
        let a = person("Ahmad Karimi", "1990-05-01", "+93 700 123 456");
        let b = person("Mohammad Ahmad Karimi", "", "0700123456");
        assert!(flagged(&a, &b), "{:?}", assess(&b, &a));
        let b = person("Sardar Ahmad Karimi", "1990-05-01", "0700123456");
        assert!(flagged(&a, &b), "{:?}", assess(&b, &a));
    }

    #[test]
    fn names_written_together_or_apart_match() {
        let a = person("Gulahmad Sultani", "1995-07-02", "");
        let b = person("Gul Ahmad Sultani", "1995", "");
        assert!(flagged(&a, &b), "{:?}", assess(&b, &a));
    }
}
