//! Measures the matcher on the labelled pairs in `tests/data/dedup_pairs.csv` (synthetic
//! people, made by `tests/data/make_dedup_pairs.py`) and fails if precision or recall
//! at the default threshold drops below what was measured when the threshold was chosen.
//!
//! `cargo test dedup::evaluation -- --nocapture` prints the figures, a threshold sweep and
//! the pairs it gets wrong. With `DEDUP_PAIRS=FILE` it also measures a held-out set of the
//! same format (`make_dedup_pairs.py --seed N --out FILE`) and prints the same, so that a
//! change can be checked against pairs it was not tuned on.

use chrono::NaiveDate;

use super::{assess, Birth, Profile, ProfileInput, DEFAULT_THRESHOLD};

const PAIRS: &str = include_str!("../../../tests/data/dedup_pairs.csv");

/// Just below what was measured at the default threshold on the committed set (0.993 and
/// 0.970, counting only pairs a blocking key finds); see the README.
const MIN_PRECISION: f64 = 0.99;
const MIN_RECALL: f64 = 0.96;

struct Pair {
    id: String,
    /// The two names as written, to show with the pairs it gets wrong.
    names: (String, String),
    same: bool,
    scenario: String,
    a: Profile,
    b: Profile,
}

fn birth(raw: &str) -> Option<Birth> {
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Some(Birth::Date(d));
    }
    raw.parse().ok().map(Birth::Year)
}

fn profile(f: &[&str]) -> Profile {
    let some = |s: &str| (!s.is_empty()).then_some(s.to_string());
    let (phone, email, case) = (f[2], f[3], f[4]);
    let phones: Vec<&str> = [phone].into_iter().filter(|s| !s.is_empty()).collect();
    let emails: Vec<&str> = [email].into_iter().filter(|s| !s.is_empty()).collect();
    let cases: Vec<&str> = [case].into_iter().filter(|s| !s.is_empty()).collect();
    let location = some(f[6]);
    Profile::new(ProfileInput {
        full_name: f[0],
        birth: birth(f[1]),
        phones: &phones,
        emails: &emails,
        case_numbers: &cases,
        household_size: f[5].parse().ok(),
        location: location.as_deref(),
    })
}

fn pairs(csv: &str) -> Vec<Pair> {
    csv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 17, "a row of 17 plain fields: {line}");
            Pair {
                id: f[0].to_string(),
                names: (f[3].to_string(), f[10].to_string()),
                same: match f[1] {
                    "same" => true,
                    "different" => false,
                    other => panic!("label {other:?}"),
                },
                scenario: f[2].to_string(),
                a: profile(&f[3..10]),
                b: profile(&f[10..17]),
            }
        })
        .collect()
}

/// Whether intake would find one request of the pair from the other: a blocking key in
/// common.
fn shares_a_key(pair: &Pair) -> bool {
    let a = pair.a.blocking_keys();
    pair.b.blocking_keys().iter().any(|k| a.contains(k))
}

/// (precision, recall, true positives, false positives, false negatives)
fn measure(scored: &[(f64, &Pair)], threshold: f64) -> (f64, f64, usize, usize, usize) {
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (score, pair) in scored {
        match (*score >= threshold, pair.same) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => {}
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    (precision, recall, tp, fp, fn_)
}

/// Prints the sweep and the pairs wrong at the default threshold; returns precision and
/// recall at the default threshold.
fn report(pairs: &[Pair]) -> (f64, f64) {
    let scored: Vec<(f64, &Pair)> = pairs
        .iter()
        .map(|p| (assess(&p.b, &p.a).score, p))
        .collect();

    for t in [0.5, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98] {
        let (p, r, tp, fp, fn_) = measure(&scored, t);
        println!("threshold {t:.2}: precision {p:.3} recall {r:.3} (tp {tp}, fp {fp}, fn {fn_})");
    }
    for (score, pair) in &scored {
        let predicted = *score >= DEFAULT_THRESHOLD;
        if predicted != pair.same {
            let m = assess(&pair.b, &pair.a);
            println!(
                "{} pair {} ({}): score {score:.3} {:?} [{} / {}]",
                if pair.same { "missed" } else { "false alarm" },
                pair.id,
                pair.scenario,
                m.reasons,
                pair.names.0,
                pair.names.1,
            );
        }
    }
    let same: Vec<&Pair> = pairs.iter().filter(|p| p.same).collect();
    let unfound: Vec<&str> = same
        .iter()
        .filter(|p| !shares_a_key(p))
        .map(|p| p.id.as_str())
        .collect();
    println!(
        "pairs of the same person that share no blocking key (never compared): {} of {} {unfound:?}",
        unfound.len(),
        same.len()
    );
    // Intake only scores the requests a blocking key finds: a pair without one is missed
    // whatever its score.
    let found: Vec<(f64, &Pair)> = scored
        .iter()
        .map(|&(score, pair)| (if shares_a_key(pair) { score } else { 0.0 }, pair))
        .collect();
    let (precision, recall, ..) = measure(&found, DEFAULT_THRESHOLD);
    println!("at the default threshold {DEFAULT_THRESHOLD}: precision {precision:.3}, recall {recall:.3}");
    (precision, recall)
}

#[test]
fn precision_and_recall_on_the_labelled_pairs() {
    if let Ok(path) = std::env::var("DEDUP_PAIRS") {
        let text = std::fs::read_to_string(&path).expect("DEDUP_PAIRS names a readable file");
        println!("held-out pairs in {path}:");
        report(&pairs(&text));
        println!("the committed pairs:");
    }
    let pairs = pairs(PAIRS);
    assert!(pairs.len() >= 500, "at least 500 labelled pairs");
    let (precision, recall) = report(&pairs);
    assert!(
        precision >= MIN_PRECISION,
        "precision {precision:.3} < {MIN_PRECISION}"
    );
    assert!(recall >= MIN_RECALL, "recall {recall:.3} < {MIN_RECALL}");
}
