//! Scores how likely two requests are about the same principal applicant, and says why
//! in words a caseworker can check.
//!
//! The evidence adds up as log-odds: identifiers a family keeps (case number, phone,
//! email) weigh most; the name after normalization counts with the date of birth; household
//! size and location only nudge. A clearly different given name or birth year pulls the
//! score down even when a phone is shared, because family members often share one.

use chrono::Datelike;

use super::normalize::NameToken;
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
        BirthMatch::SameDate => 3.0,
        BirthMatch::Swapped => 2.0,
        BirthMatch::SameYear => 1.5,
        BirthMatch::Unknown | BirthMatch::YearApart => 0.0,
        BirthMatch::OtherDateSameYear => -2.0,
        BirthMatch::Different => -4.0,
    };

    let name = name_similarity(&new.name, &earlier.name);
    logit += match name {
        n if n >= 0.95 => 5.5,
        n if n >= 0.90 => 4.5,
        n if n >= 0.85 => 2.0,
        n if n >= 0.75 => -2.0,
        _ => -6.0,
    };
    let birth_words = match birth {
        BirthMatch::SameDate => Some("same date of birth"),
        BirthMatch::Swapped => Some("same date of birth with day and month swapped"),
        BirthMatch::SameYear => Some("same birth year"),
        _ => None,
    };
    match (name >= 0.85, birth_words) {
        (true, Some(b)) => reasons.push(format!("name ~ {name:.2} + {b}")),
        (true, None) => reasons.push(format!("name ~ {name:.2}")),
        (false, Some(b)) => reasons.push(b.to_string()),
        (false, None) => {}
    }

    match (new.household_size, earlier.household_size) {
        (Some(a), Some(b)) if a == b => {
            logit += 0.5;
            reasons.push("same household size".to_string());
        }
        (Some(a), Some(b)) if a.abs_diff(b) >= 3 => logit -= 0.5,
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

/// How alike two tokens are. Across scripts only the skeletons can be compared, since
/// Arabic script does not write short vowels.
fn token_similarity(a: &NameToken, b: &NameToken) -> f64 {
    // A skeleton of one letter says too little (Ali and Wali are both `l`).
    if a.from_arabic != b.from_arabic && a.skeleton.len() >= 2 && b.skeleton.len() >= 2 {
        strsim::jaro_winkler(&a.skeleton, &b.skeleton)
    } else {
        strsim::jaro_winkler(&a.folded, &b.folded)
    }
}

/// How alike two names are, in any token order: each token of the shorter name is paired
/// with its best unused match in the other. The weakest pair counts most, so one shared
/// surname cannot make brothers look alike; extra tokens (a middle name, a father's name)
/// cost a little, a name of one token against a full name more.
pub fn name_similarity(a: &[NameToken], b: &[NameToken]) -> f64 {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return 0.0;
    }
    let mut pairs: Vec<(f64, usize, usize)> = Vec::with_capacity(short.len() * long.len());
    for (i, s) in short.iter().enumerate() {
        for (j, l) in long.iter().enumerate() {
            pairs.push((token_similarity(s, l), i, j));
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
    let mut used_short = vec![false; short.len()];
    let mut used_long = vec![false; long.len()];
    let mut best = Vec::with_capacity(short.len());
    for (sim, i, j) in pairs {
        if !used_short[i] && !used_long[j] {
            used_short[i] = true;
            used_long[j] = true;
            best.push(sim);
        }
    }
    let min = best.iter().copied().fold(1.0, f64::min);
    let mean = best.iter().sum::<f64>() / best.len() as f64;
    let mut sim = 0.7 * min + 0.3 * mean;
    let extra = (long.len() - short.len()).min(2);
    sim *= 0.97f64.powi(extra as i32);
    if short.len() == 1 && long.len() > 1 {
        sim *= 0.85;
    } else if long.len() > short.len() && !used_long[0] {
        // The longer name's given name is not in the shorter one: a son named after his
        // father ("Qasim Mahmood Karimi" against "Mahmood Karimi").
        sim *= 0.9;
    }
    sim
}

#[cfg(test)]
mod tests {
    use super::super::normalize::name_tokens;
    use super::*;
    use chrono::NaiveDate;

    fn sim(a: &str, b: &str) -> f64 {
        name_similarity(&name_tokens(a), &name_tokens(b))
    }

    fn person(name: &str, born: &str, phone: &str) -> Profile {
        Profile::new(super::super::ProfileInput {
            full_name: name,
            birth: NaiveDate::parse_from_str(born, "%Y-%m-%d")
                .ok()
                .map(Birth::Date),
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
        let a = person("Mohammad Karimi", "1988-02-01", "+93 700 123 456");
        let b = person("Muhammad Kareemi", "1988-01-02", "0700123456");
        let m = assess(&b, &a);
        assert!(m.score > 0.99, "{m:?}");
        assert_eq!(
            m.reasons,
            [
                "same phone",
                "name ~ 1.00 + same date of birth with day and month swapped",
                "same household size",
                "same location"
            ]
        );
    }
}
