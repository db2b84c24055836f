//! Category and priority, derived from a request's answers. Pure: the same facts always give
//! the same result, and every request gets exactly one category and one priority.
//!
//! Category precedence, first match wins:
//!
//! | # | category            | when                                                        |
//! |---|---------------------|-------------------------------------------------------------|
//! | 1 | `urgent_protection` | someone faces immediate danger or needs urgent medical care  |
//! | 2 | `amcit_lpr`         | U.S. citizen, permanent resident or immediate family         |
//! | 3 | `siv_approved`      | SIV approved                                                |
//! | 4 | `siv_pending`       | SIV applied, in process                                     |
//! | 5 | `refugee_referral`  | holds a P-1 or P-2 referral                                 |
//! | 6 | `border_arrival`    | at or near the Afghanistan-Pakistan border                  |
//! | 7 | `no_referral`       | claims SIV / P-1 / P-2 / parole eligibility, nothing on file |
//! | 8 | `other`             | anything else                                               |
//!
//! Why this order: safety first; then a U.S. tie, because consular services own those cases
//! whatever else applies; then a program already on file, because the desk for that program
//! can act on it; then the physical situation at the border; then unbacked claims.
//!
//! Priority: `urgent` for danger or medical need; `high` for an unaccompanied-age applicant
//! (under 18), a household of 8 or more, someone at the border, or an approved SIV holder
//! waiting to travel; `normal` otherwise.

use chrono::NaiveDate;

use super::fields::age_on;
use super::intake::NewCaseRequest;
use super::vocab::{Category, Location, Priority, ReferralProgram, SivStatus, UsTie};

/// Households this large are prioritised.
pub const LARGE_HOUSEHOLD: u16 = 8;
/// Applicants younger than this are prioritised.
pub const MINOR_AGE: u32 = 18;

/// The answers classification looks at, and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub danger: bool,
    pub medical: bool,
    pub us_tie: UsTie,
    pub siv_status: SivStatus,
    pub referral_program: ReferralProgram,
    pub location: Location,
    pub claims_program: bool,
    pub applicant_age: Option<u32>,
    pub household_size: Option<u16>,
}

impl Facts {
    pub fn of(request: &NewCaseRequest, today: NaiveDate) -> Facts {
        Facts {
            danger: request.danger,
            medical: request.medical,
            us_tie: request.us_tie,
            siv_status: request.siv_status,
            referral_program: request.referral_program,
            location: request.applicant.location,
            claims_program: !request.claimed_programs.is_empty(),
            applicant_age: request
                .applicant
                .date_of_birth
                .map(|b| age_on(b.date, today)),
            household_size: request.applicant.household_size,
        }
    }
}

/// The derived category and priority, each with the reason a caseworker reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub category: Category,
    pub category_reason: &'static str,
    pub priority: Priority,
    pub priority_reason: String,
}

pub fn classify(f: &Facts) -> Classification {
    let (category, category_reason) = if f.danger || f.medical {
        (
            Category::UrgentProtection,
            "someone faces immediate danger or needs urgent medical care",
        )
    } else if f.us_tie != UsTie::None {
        (
            Category::AmcitLpr,
            "U.S. citizen, permanent resident or immediate family of one",
        )
    } else if f.siv_status == SivStatus::Approved {
        (Category::SivApproved, "Special Immigrant Visa approved")
    } else if f.siv_status == SivStatus::InProcess {
        (
            Category::SivPending,
            "Special Immigrant Visa application in process, not yet approved",
        )
    } else if f.referral_program != ReferralProgram::None {
        (Category::RefugeeReferral, "holds a P-1 or P-2 referral")
    } else if f.location == Location::Border {
        (
            Category::BorderArrival,
            "at or near the Afghanistan-Pakistan border",
        )
    } else if f.claims_program {
        (
            Category::NoReferral,
            "claims program eligibility with no referral or application on file",
        )
    } else {
        (Category::Other, "no program, tie or urgent need given")
    };

    let mut reasons = Vec::new();
    let priority = if f.danger || f.medical {
        if f.danger {
            reasons.push("immediate danger".to_string());
        }
        if f.medical {
            reasons.push("urgent medical need".to_string());
        }
        Priority::Urgent
    } else {
        if let Some(age) = f.applicant_age.filter(|a| *a < MINOR_AGE) {
            reasons.push(format!("applicant is a minor ({age})"));
        }
        if let Some(n) = f.household_size.filter(|n| *n >= LARGE_HOUSEHOLD) {
            reasons.push(format!("large household ({n} people)"));
        }
        if f.location == Location::Border {
            reasons.push("at the border".to_string());
        }
        if f.siv_status == SivStatus::Approved {
            reasons.push("approved SIV waiting to travel".to_string());
        }
        if reasons.is_empty() {
            Priority::Normal
        } else {
            Priority::High
        }
    };
    let priority_reason = if reasons.is_empty() {
        "no urgency factors".to_string()
    } else {
        reasons.join(", ")
    };

    Classification {
        category,
        category_reason,
        priority,
        priority_reason,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn base() -> Facts {
        Facts {
            danger: false,
            medical: false,
            us_tie: UsTie::None,
            siv_status: SivStatus::None,
            referral_program: ReferralProgram::None,
            location: Location::Pakistan,
            claims_program: false,
            applicant_age: Some(35),
            household_size: Some(4),
        }
    }

    /// Each row sets the facts of one precedence level *and* of every level below it, so
    /// the row only passes if the higher rule wins.
    #[test]
    fn precedence_table() {
        let everything = Facts {
            danger: true,
            medical: true,
            us_tie: UsTie::Lpr,
            siv_status: SivStatus::Approved,
            referral_program: ReferralProgram::P2,
            location: Location::Border,
            claims_program: true,
            ..base()
        };
        let rows: Vec<(Facts, Category)> = vec![
            (everything, Category::UrgentProtection),
            (
                Facts {
                    danger: false,
                    medical: true,
                    ..everything
                },
                Category::UrgentProtection,
            ),
            (
                Facts {
                    danger: false,
                    medical: false,
                    ..everything
                },
                Category::AmcitLpr,
            ),
            (
                Facts {
                    danger: false,
                    medical: false,
                    us_tie: UsTie::None,
                    ..everything
                },
                Category::SivApproved,
            ),
            (
                Facts {
                    danger: false,
                    medical: false,
                    us_tie: UsTie::None,
                    siv_status: SivStatus::InProcess,
                    ..everything
                },
                Category::SivPending,
            ),
            (
                Facts {
                    danger: false,
                    medical: false,
                    us_tie: UsTie::None,
                    siv_status: SivStatus::None,
                    ..everything
                },
                Category::RefugeeReferral,
            ),
            (
                Facts {
                    location: Location::Border,
                    claims_program: true,
                    ..base()
                },
                Category::BorderArrival,
            ),
            (
                Facts {
                    claims_program: true,
                    ..base()
                },
                Category::NoReferral,
            ),
            (base(), Category::Other),
        ];
        for (facts, expected) in rows {
            assert_eq!(classify(&facts).category, expected, "{facts:?}");
        }
    }

    #[test]
    fn every_us_tie_is_consular() {
        for tie in [UsTie::Citizen, UsTie::Lpr, UsTie::ImmediateFamily] {
            let f = Facts {
                us_tie: tie,
                siv_status: SivStatus::InProcess,
                ..base()
            };
            assert_eq!(classify(&f).category, Category::AmcitLpr);
        }
    }

    #[test]
    fn priority_rules() {
        let normal = classify(&base());
        assert_eq!(normal.priority, Priority::Normal);
        assert_eq!(normal.priority_reason, "no urgency factors");

        let minor = classify(&Facts {
            applicant_age: Some(16),
            ..base()
        });
        assert_eq!(minor.priority, Priority::High);
        assert_eq!(minor.priority_reason, "applicant is a minor (16)");

        let big = classify(&Facts {
            household_size: Some(8),
            location: Location::Border,
            ..base()
        });
        assert_eq!(big.priority, Priority::High);
        assert_eq!(
            big.priority_reason,
            "large household (8 people), at the border"
        );

        let seven = classify(&Facts {
            household_size: Some(7),
            ..base()
        });
        assert_eq!(seven.priority, Priority::Normal);

        let danger = classify(&Facts {
            danger: true,
            applicant_age: Some(10),
            ..base()
        });
        assert_eq!(danger.priority, Priority::Urgent);
        assert_eq!(danger.priority_reason, "immediate danger");
    }

    pub(crate) fn any_facts() -> impl Strategy<Value = Facts> {
        (
            any::<(bool, bool, bool)>(),
            prop::sample::select(UsTie::ALL),
            prop::sample::select(SivStatus::ALL),
            prop::sample::select(ReferralProgram::ALL),
            prop::sample::select(Location::ALL),
            prop::option::of(0u32..100),
            prop::option::of(1u16..=50),
        )
            .prop_map(
                |((danger, medical, claims_program), us_tie, siv, referral, location, age, hh)| {
                    Facts {
                        danger,
                        medical,
                        us_tie,
                        siv_status: siv,
                        referral_program: referral,
                        location,
                        claims_program,
                        applicant_age: age,
                        household_size: hh,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn urgent_priority_exactly_when_urgent_protection(f in any_facts()) {
            let c = classify(&f);
            prop_assert_eq!(c.priority == Priority::Urgent, c.category == Category::UrgentProtection);
            prop_assert!(!c.priority_reason.is_empty());
        }

        #[test]
        fn danger_always_outranks_everything(f in any_facts()) {
            let c = classify(&Facts { danger: true, ..f });
            prop_assert_eq!(c.category, Category::UrgentProtection);
        }

        #[test]
        fn other_only_when_nothing_applies(f in any_facts()) {
            let c = classify(&f);
            let nothing = !f.danger && !f.medical && f.us_tie == UsTie::None
                && f.siv_status == SivStatus::None && f.referral_program == ReferralProgram::None
                && f.location != Location::Border && !f.claims_program;
            prop_assert_eq!(c.category == Category::Other, nothing);
        }
    }
}
