//! How alike two names are. Per token, a spelling distance that knows what
//! transliterations of one name vary in (short vowels, a dropped `h`, `t`/`d`, a typist's
//! swapped letters) and what Arabic script leaves out (short vowels); per name, the
//! pairing of tokens in any order, with two tokens of one name allowed to stand for one of
//! the other (`Gul Ahmad` / `Gulahmad`).

use std::sync::LazyLock;

use super::memo::Memo;
use super::normalize::{is_vowel, name_tokens, NameToken};

/// Whether each letter of a folded word is a vowel. A first `u` or `i` before a vowel is
/// the consonant `w` or `y` it was folded from (Wali, Yusuf); in Arabic script a first waw
/// or yeh always is (ولی).
fn vowels(word: &[char], abjad: bool) -> Vec<bool> {
    (0..word.len())
        .map(|i| {
            let glide = i == 0
                && matches!(word[0], 'u' | 'i')
                && (abjad || word.get(1).is_some_and(|c| is_vowel(*c)));
            is_vowel(word[i]) && !glide
        })
        .collect()
}

/// A folded word with what the comparison needs to know of it.
struct Spelling {
    letters: Vec<char>,
    vowel: Vec<bool>,
    /// Written in Arabic script: short vowels are missing, long ones are written.
    abjad: bool,
}

impl Spelling {
    fn of(token: &NameToken) -> Self {
        let letters: Vec<char> = token.folded.chars().collect();
        let vowel = vowels(&letters, token.from_arabic);
        Spelling {
            letters,
            vowel,
            abjad: token.from_arabic,
        }
    }

    /// Leaving out letter `i`, which the other spelling does not have.
    fn indel_cost(&self, i: usize, other: &Spelling) -> f64 {
        let last = i + 1 == self.letters.len();
        if i == 0 || (last && self.vowel[i]) {
            // Zahir / Zahra, Karim / Karima, Ahmad / Ahmadi.
            return WORD_EDGE;
        }
        if self.vowel[i] {
            if self.abjad {
                // A long vowel (alif, waw, yeh) that the other spelling leaves out.
                return 0.6;
            }
            if other.abjad {
                // A short vowel: Arabic script does not write it.
                return 0.1;
            }
            // Latin spellings of one name seldom differ in whether a vowel is there.
            return 0.75;
        }
        if self.letters[i] == 'h' {
            // Zabihullah / Zabiullah.
            return 0.5;
        }
        1.0
    }
}

/// Writing letter `i` of `a` as letter `j` of `b`.
fn substitution_cost(a: &Spelling, i: usize, b: &Spelling, j: usize) -> f64 {
    let (x, y) = (a.letters[i], b.letters[j]);
    if x == y {
        0.0
    } else if a.vowel[i] && b.vowel[j] {
        let long_u = |s: &Spelling, k: usize, c: char| s.abjad && k > 0 && c == 'u';
        if long_u(a, i, x) || long_u(b, j, y) {
            // A written waw is a long u, as telling as a consonant (محمود is not
            // Mohammad).
            1.0
        } else {
            // Tareq / Tariq, Hekmat / Hikmat, Yousaf / Yusuf.
            0.25
        }
    } else if i == 0 || j == 0 {
        WORD_EDGE
    } else if matches!(
        (x.min(y), x.max(y)),
        ('d', 't') | ('s', 'z') | ('g', 'k') | ('h', 'x')
    ) {
        // Ahmet / Ahmad, and letters one script has two of where the other has one.
        0.6
    } else {
        1.0
    }
}

/// Adding, dropping, changing or moving the first letter, or adding or dropping a final
/// vowel: people rarely mistype a word's edges, and names that differ there are different
/// names (Ali / Wali, Ahmad / Mahmood, Hamid / Ahmad; Zahir / Zahra, Karim / Karima).
const WORD_EDGE: f64 = 1.5;

/// Two swapped neighbours, the commonest typing error.
const TRANSPOSITION: f64 = 0.7;

/// The cheapest way to spell `a` as `b` (restricted Damerau-Levenshtein with the costs
/// above).
fn spelling_distance(a: &Spelling, b: &Spelling) -> f64 {
    let (n, m) = (a.letters.len(), b.letters.len());
    // One table in one allocation, row after row: `d[at(i, j)]` is the distance from the
    // first `i` letters of `a` to the first `j` of `b`.
    let at = |i: usize, j: usize| i * (m + 1) + j;
    let mut d = vec![0.0f64; (n + 1) * (m + 1)];
    for i in 1..=n {
        d[at(i, 0)] = d[at(i - 1, 0)] + a.indel_cost(i - 1, b);
    }
    for j in 1..=m {
        d[at(0, j)] = d[at(0, j - 1)] + b.indel_cost(j - 1, a);
    }
    for i in 1..=n {
        for j in 1..=m {
            let mut best = (d[at(i - 1, j)] + a.indel_cost(i - 1, b))
                .min(d[at(i, j - 1)] + b.indel_cost(j - 1, a))
                .min(d[at(i - 1, j - 1)] + substitution_cost(a, i - 1, b, j - 1));
            let (x, y) = (a.letters[i - 1], b.letters[j - 1]);
            // Swapped letters are a typist's slip within one script; across scripts a
            // "swap" would only pair a short vowel with a written one.
            let same_script = a.abjad == b.abjad;
            if same_script
                && i > 1
                && j > 1
                && x != y
                && x == b.letters[j - 2]
                && a.letters[i - 2] == y
            {
                let moved = if i == 2 || j == 2 {
                    WORD_EDGE
                } else {
                    TRANSPOSITION
                };
                best = best.min(d[at(i - 2, j - 2)] + moved);
            }
            d[at(i, j)] = best;
        }
    }
    d[at(n, m)]
}

/// How alike two tokens are, in [0, 1]: 1 less the spelling distance per letter of the
/// longer. Spelling variants come out at 0.9 and above, a typo in a name of five or more
/// letters about 0.8 to 0.9, different names mostly below 0.75.
pub fn token_similarity(a: &NameToken, b: &NameToken) -> f64 {
    if a.folded == b.folded {
        return 1.0;
    }
    // Every pair of spellings a surge repeats, with their joined readings (a few hundred
    // names make tens of thousands of pairs): about a megabyte when full.
    static MEASURED: Memo<f64> = Memo::new(32_768);
    MEASURED.get_or(&(question(a), question(b)), || measure(a, b))
}

/// A token as the memos ask about it: its script and its folded spelling.
fn question(token: &NameToken) -> (bool, &str) {
    (token.from_arabic, token.folded.as_str())
}

fn measure(a: &NameToken, b: &NameToken) -> f64 {
    let (x, y) = (Spelling::of(a), Spelling::of(b));
    let longest = x.letters.len().max(y.letters.len());
    if longest == 0 {
        return 0.0;
    }
    (1.0 - spelling_distance(&x, &y) / longest as f64).max(0.0)
}

/// How two names compare.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NameMatch {
    /// In [0, 1]. The weakest pair of tokens counts most, so one shared surname cannot make
    /// brothers look alike; extra tokens (a middle name, a father's name) cost a little, a
    /// name of one token against a full name more.
    pub similarity: f64,
    /// The least alike pair of tokens.
    pub weakest: f64,
    /// Tokens of the shorter name, each paired with one of the longer.
    pub paired: usize,
    /// Tokens of the longer name left over (a father's name, a middle name).
    pub unpaired: usize,
    /// Pairs of alike tokens that are among the commonest names, which many people share.
    pub common: usize,
    /// The longer name has more tokens and its first, the given name, is not among the
    /// paired ones: a son named with his father's name ("Qasim Mahmood Karimi" against
    /// "Mahmood Karimi"). A leading Mohammad does not count (see [`is_muhammad`]).
    pub given_unpaired: bool,
}

/// The given names and surnames that a large share of applicants bear: a match on them
/// says less about the person.
const COMMON_NAMES: &[&str] = &[
    "Mohammad",
    "Ahmad",
    "Ahmed",
    "Ali",
    "Hussain",
    "Abdullah",
    "Mahmood",
    "Ahmadi",
    "Mohammadi",
    "Karimi",
    "Rahimi",
    "Noori",
    "Hashimi",
    "Hussaini",
    "Sadat",
];

static COMMON: LazyLock<Vec<NameToken>> =
    LazyLock::new(|| COMMON_NAMES.iter().flat_map(|n| name_tokens(n)).collect());

static MUHAMMAD: LazyLock<Vec<NameToken>> = LazyLock::new(|| name_tokens("Mohammad"));

/// Mohammad before a given name (Mohammad Ahmad) is often left out, so a name that
/// starts with it and another without it can be the same person's.
fn is_muhammad(token: &NameToken) -> bool {
    MUHAMMAD.iter().any(|m| token_similarity(token, m) >= 0.9)
}

/// A common name however it is spelled (Ahmet is Ahmad).
fn is_common(token: &NameToken) -> bool {
    static COMMON_SPELLINGS: Memo<bool> = Memo::new(4096);
    COMMON_SPELLINGS.get_or(&question(token), || {
        COMMON.iter().any(|c| token_similarity(token, c) >= 0.85)
    })
}

/// Compares two names in any token order, where neighbouring tokens of one name may also
/// be read as one token of the other (`Gul Ahmad` / `Gulahmad`, `Sher Ali` / `Sherali`):
/// the reading that makes them most alike counts.
pub fn compare_names(a: &[NameToken], b: &[NameToken]) -> NameMatch {
    let mut best = pair_tokens(a, b);
    let mut consider = |m: NameMatch| {
        if m.similarity > best.similarity {
            best = m;
        }
    };
    for x in joined_readings(a) {
        consider(pair_tokens(&x, b));
    }
    for y in joined_readings(b) {
        consider(pair_tokens(a, &y));
    }
    best
}

/// Names longer than this are read with one pair of tokens joined at a time only, so that
/// the readings stay few.
const MAX_TOKENS_TO_JOIN_FREELY: usize = 6;

/// How alike two names are, in [0, 1] (see [`NameMatch::similarity`]).
pub fn name_similarity(a: &[NameToken], b: &[NameToken]) -> f64 {
    compare_names(a, b).similarity
}

/// Each other way of reading a name with neighbouring tokens joined (`Sher Ali Gul Ahmad`
/// as `Sherali Gulahmad`): every choice of the gaps to close.
fn joined_readings(name: &[NameToken]) -> Vec<Vec<NameToken>> {
    let gaps = name.len().saturating_sub(1);
    let choices: Vec<u32> = if name.len() <= MAX_TOKENS_TO_JOIN_FREELY {
        (1..1u32 << gaps).collect()
    } else {
        (0..gaps).map(|g| 1 << g).collect()
    };
    choices
        .into_iter()
        .map(|closed| {
            let mut out: Vec<NameToken> = Vec::with_capacity(name.len());
            for (i, token) in name.iter().enumerate() {
                match out.last_mut() {
                    Some(prev) if i > 0 && closed & (1 << (i - 1)) != 0 => {
                        *prev = prev.joined_with(token);
                    }
                    _ => out.push(token.clone()),
                }
            }
            out
        })
        .collect()
}

/// Pairs each token of the shorter name with its best unused match in the other.
fn pair_tokens(a: &[NameToken], b: &[NameToken]) -> NameMatch {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut out = NameMatch {
        similarity: 0.0,
        weakest: 0.0,
        paired: short.len(),
        unpaired: long.len() - short.len(),
        common: 0,
        given_unpaired: false,
    };
    if short.is_empty() {
        return out;
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
            if sim >= 0.9 && (is_common(&short[i]) || is_common(&long[j])) {
                out.common += 1;
            }
        }
    }
    let min = best.iter().copied().fold(1.0, f64::min);
    let mean = best.iter().sum::<f64>() / best.len() as f64;
    let mut sim = 0.7 * min + 0.3 * mean;
    sim *= 0.97f64.powi(out.unpaired.min(2) as i32);
    if short.len() == 1 && long.len() > 1 {
        sim *= 0.85;
    } else if long.len() > short.len() && !used_long[0] && !is_muhammad(&long[0]) {
        out.given_unpaired = true;
        sim *= 0.9;
    }
    out.similarity = sim;
    out.weakest = min;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn token(raw: &str) -> NameToken {
        let mut t = name_tokens(raw);
        assert_eq!(t.len(), 1, "{raw} is one token");
        t.remove(0)
    }

    fn tsim(a: &str, b: &str) -> f64 {
        token_similarity(&token(a), &token(b))
    }

    fn sim(a: &str, b: &str) -> f64 {
        name_similarity(&name_tokens(a), &name_tokens(b))
    }

    #[test]
    fn vowel_spellings_of_one_name_are_alike() {
        for (a, b) in [
            ("Tareq", "Tariq"),
            ("Hekmat", "Hikmat"),
            ("Belal", "Bilal"),
            ("Edris", "Idris"),
            ("Taheri", "Tahiri"),
            ("Haidari", "Heidari"),
            ("Yousafzai", "Yusufzai"),
            ("Naser", "Nasir"),
            ("Sakineh", "Sakina"),
            ("Zabihullah", "Zabiullah"),
            ("Waheeed", "Waheed"),
        ] {
            assert!(tsim(a, b) >= 0.9, "{a} / {b}: {}", tsim(a, b));
        }
    }

    #[test]
    fn arabic_script_is_alike_its_latin_spellings() {
        for (a, b) in [
            ("اسماعیل", "Ismael"),
            ("مصطفی", "Mostafa"),
            ("فاطمه", "Fatemeh"),
            ("عمر", "Omar"),
            ("هارون", "Haroon"),
        ] {
            assert!(tsim(a, b) >= 0.9, "{a} / {b}: {}", tsim(a, b));
        }
    }

    #[test]
    fn a_typo_is_nearer_than_another_name() {
        for (typo, name) in [
            ("Erdis", "Edris"),
            ("Prawana", "Parwana"),
            ("Stanerzai", "Stanekzai"),
        ] {
            let s = tsim(typo, name);
            assert!((0.75..0.95).contains(&s), "{typo} / {name}: {s}");
        }
    }

    #[test]
    fn different_names_stay_apart() {
        for (a, b) in [
            ("Ahmad", "Mahmood"),
            ("Hamid", "Ahmad"),
            ("Karim", "Rahim"),
            ("Ali", "Wali"),
            ("علی", "Wali"),
            ("Jawad", "Fawad"),
            ("Nasir", "Zahir"),
            ("ظاهر", "Zahra"),
        ] {
            assert!(tsim(a, b) < 0.8, "{a} / {b}: {}", tsim(a, b));
        }
        // The same consonants, told apart only by the long vowel Arabic script writes.
        assert!(tsim("محمود", "Mohammad") < tsim("محمود", "Mahmood") - 0.1);
    }

    #[test]
    fn compound_names_written_together_or_apart_are_alike() {
        assert!(sim("Gul Ahmad Sultani", "Gulahmad Sultani") > 0.95);
        assert!(sim("Sultani Sher Ali", "Sherali Sultani") > 0.95);
        assert!(sim("گل احمد سلطانی", "Gulahmad Sultani") > 0.9);
        assert!(sim("Sher Ali Gul Ahmad Nazari", "Sherali Gulahmad Nazari") > 0.95);
    }

    proptest! {
        #[test]
        fn similarity_is_symmetric_and_bounded(a in "[A-Za-z]{1,12}", b in "[A-Za-z]{1,12}") {
            let (x, y) = (name_tokens(&a), name_tokens(&b));
            prop_assume!(x.len() == 1 && y.len() == 1);
            let s = token_similarity(&x[0], &y[0]);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert!((s - token_similarity(&y[0], &x[0])).abs() < 1e-9);
        }

        #[test]
        fn a_name_is_wholly_alike_itself(a in "[A-Za-z]{2,10}( [A-Za-z]{2,10}){0,3}") {
            let t = name_tokens(&a);
            prop_assume!(!t.is_empty());
            prop_assert!((name_similarity(&t, &t) - 1.0).abs() < 1e-9);
        }
    }
}
