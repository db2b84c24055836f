//! Answers matching asks again and again, remembered. A surge repeats a few hundred
//! spellings, and each new request is compared with dozens of earlier ones: the same
//! names are folded and the same pairs of tokens measured many times a second.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::{LazyLock, Mutex, PoisonError};

/// Remembered answers, shared by all threads (one copy, whatever the number of threads),
/// up to a bound on the number of answers; when full it starts afresh.
///
/// An answer is filed under a 64-bit hash of its question, not the question itself: a
/// key of 8 bytes per answer (16 in all for a distance) and no allocation per question.
/// The hash is keyed afresh by each process, so no one can make up names whose questions
/// share a hash. By chance a question meets another's answer with odds of one in 2^64 per
/// answer held: for the pairs of tokens duplicate scoring measures, a thousand intakes a
/// second day and night would see one pair scored as another about once in 40 years.
pub(super) struct Memo<V> {
    answers: Mutex<Option<HashMap<u64, V>>>,
    max_entries: usize,
}

/// The key of this process's hashes.
static QUESTIONS: LazyLock<RandomState> = LazyLock::new(RandomState::new);

impl<V: Clone> Memo<V> {
    /// A memo of at most `max_entries` answers.
    pub const fn new(max_entries: usize) -> Self {
        Memo {
            answers: Mutex::new(None),
            max_entries,
        }
    }

    /// The answer to `question`, computed by `compute` only the first time it is asked.
    /// `compute` runs without the lock held.
    pub fn get_or<Q: Hash + ?Sized>(&self, question: &Q, compute: impl FnOnce() -> V) -> V {
        let key = QUESTIONS.hash_one(question);
        let lock = || self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(answer) = lock().as_ref().and_then(|answers| answers.get(&key)) {
            return answer.clone();
        }
        let answer = compute();
        let mut answers = lock();
        // All the room at once: growing would copy the table, and leave the old one to
        // the allocator, as often as it doubles.
        let answers = answers.get_or_insert_with(|| HashMap::with_capacity(self.max_entries));
        if answers.len() >= self.max_entries {
            answers.clear();
        }
        answers.insert(key, answer.clone());
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX_ENTRIES: usize = 64;

    #[test]
    fn computes_once_per_key_and_stays_bounded() {
        let memo = Memo::new(MAX_ENTRIES);
        let mut computed = 0;
        for round in 0..2 {
            for i in 0..10 {
                let answer = memo.get_or(&format!("key {i}"), || {
                    computed += 1;
                    i * 2
                });
                assert_eq!(answer, i * 2, "round {round}");
            }
        }
        assert_eq!(computed, 10);
        for i in 0..(2 * MAX_ENTRIES) {
            memo.get_or(&i.to_string(), || i);
        }
        let held = memo
            .answers
            .lock()
            .unwrap()
            .as_ref()
            .map_or(0, HashMap::len);
        assert!(held <= MAX_ENTRIES, "{held} entries");
    }
}
