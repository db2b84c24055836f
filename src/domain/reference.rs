//! Reference numbers given to requesters: `TF-` and two groups of four characters from
//! Crockford's base-32 alphabet (no I, L, O or U), drawn at random: about 10^12 values,
//! not sequential, not guessable, and easy to read out over a bad phone line.

use rand::Rng;
use std::fmt;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CaseReference(String);

impl CaseReference {
    pub fn generate(rng: &mut impl Rng) -> Self {
        let mut s = String::from("TF-");
        for i in 0..8 {
            if i == 4 {
                s.push('-');
            }
            s.push(ALPHABET[rng.random_range(0..32)] as char);
        }
        CaseReference(s)
    }

    /// Accepts what people type: any case, spaces or no dashes, O for 0 and I/L for 1.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut body: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            })
            .collect();
        if body.starts_with("TF") && body.len() == 10 {
            body.drain(..2);
        }
        if body.len() != 8 || !body.bytes().all(|b| ALPHABET.contains(&b)) {
            return None;
        }
        Some(CaseReference(format!("TF-{}-{}", &body[..4], &body[4..])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An opaque, unguessable token (128 random bits, hex) for links that must not carry any
/// personal data or a guessable number.
/// The applicant's status-check code: 8 characters of the same alphabet as references.
pub fn status_code(rng: &mut impl Rng) -> String {
    (0..8)
        .map(|_| ALPHABET[rng.random_range(0..32)] as char)
        .collect()
}

/// The stored form of a status-check code: SHA-256 (hex) of the code as typed, upper-cased
/// and without spaces or dashes, so "7k3m-9qxd" matches "7K3M9QXD".
pub fn status_code_hash(code: &str) -> String {
    use sha2::{Digest, Sha256};
    let normal: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    Sha256::digest(normal.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn random_token(rng: &mut impl Rng) -> String {
    let bytes: [u8; 16] = rng.random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_references_have_the_printed_shape() {
        let mut rng = rand::rng();
        for _ in 0..200 {
            let r = CaseReference::generate(&mut rng);
            assert_eq!(r.as_str().len(), 12);
            assert!(r.as_str().starts_with("TF-"));
            assert_eq!(CaseReference::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn typed_variants_are_understood() {
        let want = CaseReference::parse("TF-7K3M-9QXD").unwrap();
        assert_eq!(CaseReference::parse("tf 7k3m 9qxd"), Some(want.clone()));
        assert_eq!(CaseReference::parse("7K3M9QXD"), Some(want));
        assert_eq!(
            CaseReference::parse("TF-0O1I-L000").unwrap().as_str(),
            "TF-0011-1000"
        );
        assert_eq!(CaseReference::parse("TF-7K3M-9QX"), None);
        assert_eq!(CaseReference::parse("TF-7K3M-9QXU"), None);
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_is_idempotent(s in "\\PC{0,20}") {
            if let Some(r) = CaseReference::parse(&s) {
                prop_assert_eq!(CaseReference::parse(r.as_str()), Some(r));
            }
        }
    }
}
