//! The public form's fields: flat names (`applicant_full_name`) for the JSON contract's
//! dotted paths (`applicant.full_name`), read into the same `IntakeInput` the API uses.

use std::collections::HashMap;

use crate::domain::fields::ascii_digits;
use crate::domain::intake::{ApplicantInput, ReferralInput, SivInput, SubmitterInput, UrgentInput};
use crate::domain::vocab::Program;
use crate::domain::{FieldError, IntakeInput, Problem};

/// What the browser sent, kept as typed so an invalid form comes back filled in.
pub type FormValues = HashMap<String, String>;

/// The form field that shows an error about a JSON path.
pub fn form_name(path: &str) -> String {
    path.replace('.', "_")
}

/// The form's fields in the order it asks them, so the error summary reads top to bottom.
pub const FIELDS: &[&str] = &[
    "submitter_kind",
    "submitter_name",
    "submitter_organization",
    "submitter_email",
    "submitter_phone",
    "applicant_full_name",
    "applicant_date_of_birth",
    "applicant_date_of_birth_calendar",
    "applicant_phone",
    "applicant_whatsapp",
    "applicant_email",
    "applicant_location",
    "applicant_household_size",
    "siv_status",
    "siv_case_number",
    "referral_program",
    "referral_referred_by",
    "us_tie",
    "description",
    "consent",
];

/// The calendar the date of birth is written in: the form checks the page language's
/// (`Calendar::default_for`); absent, as from a form rendered before the question existed
/// or a CSV row that leaves it blank, it is Gregorian, as the date was asked then.
pub const CALENDAR: &str = "applicant_date_of_birth_calendar";

/// The form's tick boxes; `yes` (or any non-empty value but `no`) ticks one.
pub const TICK_BOXES: &[&str] = &[
    "claimed_siv",
    "claimed_p1",
    "claimed_p2",
    "claimed_parole",
    "urgent_danger",
    "urgent_medical",
];

/// The catalog key of a field's short name, as the error summary names it.
pub fn label_key(name: &str) -> String {
    format!("field-{name}")
}

/// One radio choice, or a field error when the value is not one of the options.
fn parse_choice<T: serde::de::DeserializeOwned>(
    v: &FormValues,
    errors: &mut Vec<FieldError>,
    name: &str,
    path: &str,
) -> Option<T> {
    let raw = v.get(name).filter(|s| !s.trim().is_empty())?;
    match serde_json::from_value(serde_json::Value::String(raw.clone())) {
        Ok(value) => Some(value),
        Err(_) => {
            errors.push(FieldError::problem(path, Problem::ChoiceInvalid));
            None
        }
    }
}

/// Reads the form into the API's input; choices that are not on the form (a tampered
/// request) and non-numbers become field errors.
pub fn to_input(v: &FormValues) -> (IntakeInput, Vec<FieldError>) {
    let mut errors = Vec::new();
    let text = |name: &str| v.get(name).filter(|s| !s.trim().is_empty()).cloned();
    let on = |name: &str| v.get(name).is_some_and(|s| !s.is_empty() && s != "no");
    let kind = parse_choice(v, &mut errors, "submitter_kind", "submitter.kind");
    let location = parse_choice(v, &mut errors, "applicant_location", "applicant.location");
    let calendar = parse_choice(v, &mut errors, CALENDAR, "applicant.date_of_birth_calendar");
    let siv_status = parse_choice(v, &mut errors, "siv_status", "siv.status");
    let referral_program = parse_choice(v, &mut errors, "referral_program", "referral.program");
    let us_tie = parse_choice(v, &mut errors, "us_tie", "us_tie");

    let household_size = text("applicant_household_size").and_then(|s| {
        match ascii_digits(s.trim()).parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(FieldError::problem(
                    "applicant.household_size",
                    Problem::HouseholdNotNumber,
                ));
                None
            }
        }
    });

    let claimed_programs = [
        ("claimed_siv", Program::Siv),
        ("claimed_p1", Program::P1),
        ("claimed_p2", Program::P2),
        ("claimed_parole", Program::Parole),
    ]
    .into_iter()
    .filter(|(name, _)| on(name))
    .map(|(_, p)| p)
    .collect();

    let input = IntakeInput {
        submitter: Some(SubmitterInput {
            kind,
            name: text("submitter_name"),
            email: text("submitter_email"),
            phone: text("submitter_phone"),
            organization: text("submitter_organization"),
        }),
        applicant: Some(ApplicantInput {
            full_name: text("applicant_full_name"),
            date_of_birth: text("applicant_date_of_birth"),
            date_of_birth_calendar: calendar,
            phone: text("applicant_phone"),
            whatsapp: text("applicant_whatsapp"),
            email: text("applicant_email"),
            location,
            household_size,
        }),
        siv: Some(SivInput {
            status: siv_status,
            case_number: text("siv_case_number"),
        }),
        referral: Some(ReferralInput {
            program: referral_program,
            referred_by: text("referral_referred_by"),
        }),
        claimed_programs,
        us_tie,
        urgent: Some(UrgentInput {
            danger: on("urgent_danger"),
            medical: on("urgent_medical"),
        }),
        description: text("description"),
        consent: Some(on("consent")),
        // Set from the page's language by the caller.
        language: None,
    };
    (input, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Language;

    fn values(pairs: &[(&str, &str)]) -> FormValues {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn tampered_choices_and_words_for_numbers_are_field_errors() {
        let (_, errors) = to_input(&values(&[
            ("submitter_kind", "robot"),
            ("applicant_household_size", "four"),
        ]));
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["submitter.kind", "applicant.household_size"]);
    }

    #[test]
    fn persian_digits_count_as_a_household_size() {
        let (input, errors) = to_input(&values(&[("applicant_household_size", "۶")]));
        assert!(errors.is_empty());
        assert_eq!(input.applicant.unwrap().household_size, Some(6));
    }

    #[test]
    fn every_field_has_a_short_name_in_every_language() {
        for lang in Language::ALL {
            for name in FIELDS {
                let key = label_key(name);
                assert_ne!(
                    crate::i18n::message(*lang, &key, None),
                    key,
                    "{lang} {name}"
                );
            }
        }
        for path in [
            "submitter.kind",
            "applicant.household_size",
            "siv.case_number",
        ] {
            assert!(FIELDS.contains(&form_name(path).as_str()), "{path}");
        }
    }
}
