//! Names, phones, emails and case numbers in the forms duplicate matching compares:
//! Arabic script (Dari and Pashto letters included) transliterated to Latin, spelling
//! variants folded (Mohammad / Muhammad / Mohammed / Mohd), honorifics dropped,
//! `Abdul Rahman` / `Abdurrahman` joined, and a vowel-free skeleton that Latin and Arabic
//! script spellings of one name share.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use super::memo::Memo;
use crate::domain::fields::ascii_digits;

/// One name token in comparable form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameToken {
    /// Latin letters with spelling variants folded: `muhamad`, `karimi`, `abdrahman`.
    pub folded: String,
    /// `folded` without vowels (`mhmd`): what Arabic script writes of a name, so the part
    /// a Latin and an Arabic-script spelling have in common.
    pub skeleton: String,
    /// Written in Arabic script, where short vowels are not written.
    pub from_arabic: bool,
}

impl NameToken {
    fn new(folded: String, from_arabic: bool) -> Self {
        let skeleton = folded.chars().filter(|c| !is_vowel(*c)).collect();
        NameToken {
            folded,
            skeleton,
            from_arabic,
        }
    }

    /// This token and the next read as one name (`Gul Ahmad` as `Gulahmad`).
    pub fn joined_with(&self, next: &NameToken) -> NameToken {
        NameToken::new(
            format!("{}{}", self.folded, next.folded),
            self.from_arabic || next.from_arabic,
        )
    }
}

/// Titles people put before or after a name, in folded form (Latin spellings and the
/// folded transliteration of the Dari/Pashto ones). `sayyid` is left out on purpose: it
/// folds to `said`, a given name.
const HONORIFICS: &[&str] = &[
    "haji", "haj", "alhaj", "mr", "mrs", "ms", "mis", "miss", "dr", "duktur", "daktar", "daktr",
    "dakter", "dktur", "eng", "engr", "enginer", "anjnir", "anjinir", "saied", "sied", "seied",
    "sid", "mula", "mului", "maulaui", "maului", "mulaui", "kari", "sahib", "saheb", "sahab",
    "prof", "gen", "jenab", "janab", "enginir", "ustad", "ustaz", "astad", "general", "kapt",
    "kaptain", "sgt", "lt", "maj", "muhtaram",
];

/// Prefixes that belong to the next token: `Abdul Rahman` is one name.
const ABD_PREFIXES: &[&str] = &["abd", "abdu", "abdul", "abdal", "abdel", "abdur", "abdus"];

/// The Arabic article standing alone between two parts of one name (`Zia ul Haq`).
const ARTICLES: &[&str] = &["al", "el", "ul", "ud", "ad", "ur", "us"];

/// `Ullah` / `Allah` written apart belongs to the name before it (`Habib Ullah`).
const ALLAH: &[&str] = &["ula", "ala", "ulah", "alah"];

/// Spellings of Mohammad that folding alone does not bring together.
const MUHAMMAD: &[&str] = &[
    "muhamad", "muhamed", "muhd", "mhd", "md", "mahamad", "muhamat",
];

/// The vowels left after folding (`o` is folded to `u`, `y` to `i`).
pub fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'u')
}

fn is_arabic(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{08A0}'..='\u{08FF}')
}

/// Arabic-script letter to folded Latin. `None` drops the character (hamza, tatweel,
/// diacritics left after decomposition). Short vowels are not written in the script, so
/// only the long vowels come out: alif `a`, waw `u`, yeh `i`.
fn arabic_letter(c: char, first: bool, last: bool) -> Option<&'static str> {
    Some(match c {
        'ا' | 'أ' | 'إ' | 'آ' | 'ٱ' => "a",
        'ب' => "b",
        'پ' => "p",
        'ت' | 'ټ' | 'ط' => "t",
        'ث' | 'س' | 'ص' => "s",
        'ج' => "j",
        'چ' => "ch",
        'ح' => "h",
        'خ' => "x",
        // Pashto ts and dz.
        'څ' => "s",
        'ځ' => "z",
        'د' | 'ډ' => "d",
        'ذ' | 'ز' | 'ض' | 'ظ' => "z",
        'ر' | 'ړ' => "r",
        'ژ' | 'ږ' => "zh",
        'ش' | 'ښ' => "sh",
        // Ain: Latin spellings write it as a vowel or not at all (Ali, Jafar, Saeed).
        'ع' => "a",
        'غ' => "g",
        'ف' => "f",
        'ق' | 'ک' | 'ك' | 'ڪ' => "k",
        'گ' | 'ګ' => "g",
        'ل' => "l",
        'م' => "m",
        'ن' | 'ڼ' => "n",
        'و' | 'ۇ' => "u",
        // A final heh is the vowel of Fatemeh / Fatima; elsewhere it is h.
        'ه' | 'ہ' | 'ھ' if last && !first => "a",
        'ه' | 'ہ' | 'ھ' => "h",
        'ة' | 'ۀ' | 'ە' => "a",
        'ی' | 'ي' | 'ى' | 'ۍ' | 'ئ' | 'ۑ' => "i",
        'ې' => "e",
        _ => return None,
    })
}

/// Folds a word of lower-case Latin letters: digraphs to one letter, the letters that
/// transliterations use interchangeably to one (q/k, w/v/o/u, y/i), doubled letters to
/// one, and the silent final h of Fatemeh / Abdullah.
fn fold_latin(word: &str) -> String {
    let mut s = word.to_string();
    // A long vowel typed with one letter too many (`Waheeed`) is still `ee`.
    while s.contains("eee") {
        s = s.replace("eee", "ee");
    }
    for (from, to) in [
        ("kh", "x"),
        ("gh", "g"),
        ("ph", "f"),
        ("dh", "d"),
        ("th", "t"),
        ("ck", "k"),
        ("ch", "\u{1}"),
        ("c", "k"),
        ("\u{1}", "ch"),
        ("q", "k"),
        ("ee", "i"),
        ("y", "i"),
        ("w", "u"),
        ("v", "u"),
        ("o", "u"),
    ] {
        // Most words hold few of these: replace (and allocate) only where one is.
        if s.contains(from) {
            s = s.replace(from, to);
        }
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if out.ends_with(c) {
            continue;
        }
        out.push(c);
    }
    if out.len() > 2 && out.ends_with('h') && out[..out.len() - 1].ends_with(is_vowel) {
        out.pop();
    }
    if MUHAMMAD.contains(&out.as_str()) {
        out = "muhamad".to_string();
    }
    out
}

/// `Abdul Rahman`, `Abdurrahman`, `Abd al-Rahman` and `عبدالرحمن` all become `abdrahman`
/// (Latin) or `abdrhmn` (Arabic script), with the skeleton `bdrhmn`.
fn canonical_abd(token: &str) -> String {
    let Some(rest) = token.strip_prefix("abd").filter(|r| r.len() >= 2) else {
        return token.to_string();
    };
    let rest = rest.strip_prefix(is_vowel).unwrap_or(rest);
    let mut chars = rest.chars();
    let rest = match (chars.next(), chars.next()) {
        // The article before a consonant (Abdul Rahman); before a vowel the l is the
        // name's own (Abdul Latif).
        (Some('l'), Some(next)) if !is_vowel(next) => &rest[1..],
        _ => rest,
    };
    // `abd` + `d…` or `h…` would fold into a different name (`dd`, `dh`); such names
    // (Abdul Haq) keep their article, in either script alike.
    if rest.starts_with(['d', 'h']) {
        return token.to_string();
    }
    format!("abd{rest}")
}

/// Words of a name as written: lower case, decomposed, marks dropped; hyphens and
/// apostrophes join (`Al-Hashimi`, `Mu'min`), anything else that is not a letter
/// separates.
fn words(raw: &str) -> Vec<(String, bool)> {
    let lowered: String = raw.to_lowercase();
    let mut out = Vec::new();
    let mut word = String::new();
    let mut arabic = false;
    let flush = |word: &mut String, arabic: &mut bool, out: &mut Vec<(String, bool)>| {
        if !word.is_empty() {
            out.push((std::mem::take(word), *arabic));
        }
        *arabic = false;
    };
    for c in lowered.nfkd() {
        if is_combining_mark(c) || matches!(c, '\u{0640}' | '\u{200C}' | '\u{200D}') {
            continue;
        }
        match c {
            '-' | '\'' | '\u{2019}' | '`' | '\u{02BC}' => {}
            'ß' => word.push_str("ss"),
            'ı' => word.push('i'),
            c if c.is_alphabetic() => {
                arabic |= is_arabic(c);
                word.push(c);
            }
            _ => flush(&mut word, &mut arabic, &mut out),
        }
    }
    flush(&mut word, &mut arabic, &mut out);
    out
}

/// One written word to a folded token.
fn fold_word(word: &str, arabic: bool) -> String {
    if !arabic {
        let latin: String = word.chars().filter(|c| c.is_ascii_lowercase()).collect();
        let other: String = word.chars().filter(|c| !c.is_ascii_lowercase()).collect();
        // A word in another alphabet is kept as written, lower-cased.
        return if latin.is_empty() {
            other
        } else {
            fold_latin(&latin)
        };
    }
    let letters: Vec<char> = word.chars().filter(|c| is_arabic(*c)).collect();
    let mut out = String::new();
    for (i, c) in letters.iter().enumerate() {
        if let Some(latin) = arabic_letter(*c, i == 0, i + 1 == letters.len()) {
            out.push_str(latin);
        }
    }
    fold_latin(&out)
}

/// The tokens of a person's name, ready to compare, in written order.
///
/// Joining and folding can, for odd inputs ("ol L.A"), produce a name that would fold
/// further; the result is folded again until it is stable, so that normalizing a
/// normalized name changes nothing.
pub fn name_tokens(raw: &str) -> Vec<NameToken> {
    // Names as people type them, with their tokens: a few hundred bytes each, about a
    // megabyte when full.
    static FOLDED: Memo<Vec<NameToken>> = Memo::new(4096);
    FOLDED.get_or(raw, || fold_name(raw))
}

fn fold_name(raw: &str) -> Vec<NameToken> {
    let mut tokens = tokens_once(raw);
    let arabic = tokens.iter().any(|t| t.from_arabic);
    for _ in 0..4 {
        let text = join(&tokens);
        let again = tokens_once(&text);
        if join(&again) == text {
            break;
        }
        tokens = again
            .into_iter()
            .map(|t| NameToken::new(t.folded, arabic))
            .collect();
    }
    tokens
}

fn join(tokens: &[NameToken]) -> String {
    tokens
        .iter()
        .map(|t| t.folded.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn tokens_once(raw: &str) -> Vec<NameToken> {
    let folded: Vec<(String, bool)> = words(raw)
        .into_iter()
        .map(|(w, arabic)| (fold_word(&w, arabic), arabic))
        .filter(|(w, _)| !w.is_empty())
        .collect();

    // Titles go, unless the name is nothing but titles.
    let named: Vec<(String, bool)> = folded
        .iter()
        .filter(|(w, _)| !HONORIFICS.contains(&w.as_str()))
        .cloned()
        .collect();
    let tokens = if named.is_empty() { folded } else { named };

    let mut joined: Vec<(String, bool)> = Vec::new();
    let mut pending = String::new();
    let mut pending_arabic = false;
    let len = tokens.len();
    for (i, (token, arabic)) in tokens.into_iter().enumerate() {
        let last = i + 1 == len;
        if !last && (ABD_PREFIXES.contains(&token.as_str()) || ARTICLES.contains(&token.as_str())) {
            // An article between two words joins them both; at the start, the next.
            if ARTICLES.contains(&token.as_str()) && pending.is_empty() {
                if let Some((prev, prev_arabic)) = joined.pop() {
                    pending = prev;
                    pending_arabic = prev_arabic;
                }
            }
            pending.push_str(&token);
            pending_arabic |= arabic;
            continue;
        }
        if ALLAH.contains(&token.as_str()) && pending.is_empty() {
            if let Some((prev, prev_arabic)) = joined.last_mut() {
                prev.push_str(&token);
                *prev_arabic |= arabic;
                continue;
            }
        }
        pending.push_str(&token);
        joined.push((std::mem::take(&mut pending), pending_arabic || arabic));
        pending_arabic = false;
    }
    if !pending.is_empty() {
        joined.push((pending, pending_arabic));
    }
    joined
        .into_iter()
        .map(|(w, arabic)| NameToken::new(fold_latin(&canonical_abd(&fold_latin(&w))), arabic))
        .collect()
}

/// A name as one comparable string: its folded tokens joined by spaces.
pub fn normalize_name(raw: &str) -> String {
    join(&name_tokens(raw))
}

/// The national significant number: the last 9 digits, so `+93 700 123 456`,
/// `0093700123456` and `0700123456` agree. Shorter numbers are kept whole; `None` for
/// anything with fewer than 6 digits.
pub fn national_number(raw: &str) -> Option<String> {
    let digits: String = ascii_digits(raw)
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    if digits.len() < 6 {
        return None;
    }
    Some(digits[digits.len().saturating_sub(9)..].to_string())
}

/// An email address compared without case or surrounding space.
pub fn email_key(raw: &str) -> Option<String> {
    let e = raw.trim().to_lowercase();
    e.contains('@').then_some(e)
}

/// A COM / NVC / referral number: letters and digits only, upper case.
pub fn case_number_key(raw: &str) -> Option<String> {
    let key: String = ascii_digits(raw)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (key.len() >= 4).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn skeletons(raw: &str) -> Vec<String> {
        name_tokens(raw).into_iter().map(|t| t.skeleton).collect()
    }

    #[test]
    fn spellings_of_mohammad_fold_together() {
        for name in [
            "Mohammad", "Muhammad", "Mohammed", "Mohamed", "Mohd", "MUHAMMED",
        ] {
            assert_eq!(normalize_name(name), "muhamad", "{name}");
        }
        assert_ne!(normalize_name("Mahmood"), "muhamad");
    }

    #[test]
    fn abd_names_join_however_they_are_written() {
        for name in [
            "Abdul Rahman",
            "Abdurrahman",
            "Abdulrahman",
            "Abd al-Rahman",
            "Abdel Rahman",
        ] {
            assert_eq!(normalize_name(name), "abdrahman", "{name}");
        }
        assert_eq!(normalize_name("Abdul Latif"), "abdlatif");
        assert_eq!(skeletons("عبدالرحمن"), ["bdrhmn"]);
        assert_eq!(skeletons("Abdul Rahman"), ["bdrhmn"]);
    }

    #[test]
    fn arabic_script_shares_the_skeleton_of_the_latin_spelling() {
        for (arabic, latin) in [
            ("محمد", "Mohammad"),
            ("کریمی", "Karimi"),
            ("كريمي", "Kareemi"),
            ("احمد", "Ahmad"),
            ("حسین", "Hussain"),
            ("فاطمه", "Fatima"),
            ("غلام", "Ghulam"),
            ("خان", "Khan"),
            ("شاه", "Shah"),
            ("قاسم", "Qasim"),
            ("نورالحق", "Noor ul Haq"),
            ("حبیب الله", "Habibullah"),
            ("ځدراڼ", "Zadran"),
            ("یوسفزی", "Yousafzai"),
        ] {
            assert_eq!(skeletons(arabic), skeletons(latin), "{arabic} / {latin}");
            assert!(name_tokens(arabic)[0].from_arabic);
        }
    }

    #[test]
    fn honorifics_are_dropped_in_either_script() {
        for name in [
            "Haji Ahmad Karimi",
            "Eng. Ahmad Karimi",
            "Dr Ahmad Karimi",
            "Mr. Ahmad Karimi",
            "Sayed Ahmad Karimi",
            "Mawlawi Ahmad Karimi",
            "Engineer Ahmad Karimi",
            "Ustad Ahmad Karimi",
            "Captain Ahmad Karimi",
            "Sgt. Ahmad Karimi",
        ] {
            assert_eq!(normalize_name(name), "ahmad karimi", "{name}");
        }
        for name in [
            "حاجی احمد کریمی",
            "انجنیر احمد کریمی",
            "داکتر احمد کریمی",
            "سید احمد کریمی",
            "مولوی احمد کریمی",
            "استاد احمد کریمی",
        ] {
            assert_eq!(normalize_name(name), normalize_name("احمد کریمی"), "{name}");
        }
        assert_eq!(
            normalize_name("Haji"),
            "haji",
            "a name that is only a title stays"
        );
    }

    #[test]
    fn diacritics_presentation_forms_and_persian_digits_do_not_matter() {
        assert_eq!(normalize_name("Ḥusayn"), normalize_name("Husayn"));
        assert_eq!(normalize_name("مُحَمَّد"), normalize_name("محمد"));
        // Arabic presentation forms (as some keyboards and PDFs produce them).
        assert_eq!(
            normalize_name("\u{FEE3}\u{FEA4}\u{FEE4}\u{FEA9}"),
            normalize_name("محمد")
        );
        assert_eq!(
            national_number("+۹۳ ۷۰۰ ۱۲۳ ۴۵۶"),
            national_number("0700123456")
        );
    }

    #[test]
    fn phones_compare_by_national_number() {
        assert_eq!(
            national_number("+93 700 123 456").as_deref(),
            Some("700123456")
        );
        assert_eq!(
            national_number("0093-700-123-456").as_deref(),
            Some("700123456")
        );
        assert_eq!(national_number("0700123456").as_deref(), Some("700123456"));
        assert_eq!(
            national_number("+92 300 1234567"),
            national_number("03001234567")
        );
        assert_eq!(national_number("12345"), None);
        assert_eq!(
            case_number_key("isb-2021 555").as_deref(),
            Some("ISB2021555")
        );
        assert_eq!(
            email_key(" A@Example.ORG ").as_deref(),
            Some("a@example.org")
        );
    }

    fn name_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z' .-]{0,40}",
            "[ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیټډړښږځڅۍېڼ ]{0,30}",
            "(Haji |Eng |Dr |Sayed )?(Abdul |Mohd |Mohammad )?[A-Z][a-z]{1,8}( (ul |Al-)?[A-Z][a-z]{1,9}){0,3}",
        ]
    }

    proptest! {
        #[test]
        fn normalizing_is_idempotent(s in name_text()) {
            let once = normalize_name(&s);
            prop_assert_eq!(normalize_name(&once), once.clone());
        }

        #[test]
        fn case_does_not_matter(s in name_text()) {
            prop_assert_eq!(normalize_name(&s.to_uppercase()), normalize_name(&s));
            prop_assert_eq!(normalize_name(&s.to_lowercase()), normalize_name(&s));
        }

        #[test]
        fn whitespace_does_not_matter(s in name_text(), pad in "[ \t\u{00A0}]{1,3}") {
            let spaced = format!("{pad}{}{pad}", s.split(' ').collect::<Vec<_>>().join(&format!(" {pad}")));
            prop_assert_eq!(normalize_name(&spaced), normalize_name(&s));
        }

        #[test]
        fn phones_keep_only_the_national_number(d in "[1-9][0-9]{8}") {
            let international = format!("+93 {} {} {}", &d[..3], &d[3..6], &d[6..]);
            prop_assert_eq!(national_number(&international), national_number(&format!("0{d}")));
        }
    }
}
