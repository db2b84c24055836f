//! A case request as it arrives (`IntakeInput`, the JSON contract and the form's content)
//! and as the product keeps it (`NewCaseRequest`), with the one conversion between them that
//! collects every field error at once.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use super::birth::BirthDate;
use super::fields::{
    clean_multiline, clean_text, phone_region, CaseNumber, ContactEmail, PersonName, PhoneNumber,
};
use super::problem::Problem;
use super::vocab::{
    Calendar, Language, Location, Program, ReferralProgram, SivStatus, Source, SubmitterKind, UsTie,
};

/// Longest free-text description accepted, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 5000;
/// Largest household accepted.
pub const HOUSEHOLD_MAX: i64 = 50;
/// Longest organization or referrer name accepted, in characters as sent.
pub const SHORT_TEXT_MAX_CHARS: usize = 200;

/// The request body of `POST /api/v1/requests`. Required parts are `Option` here so that a
/// missing one becomes a field error next to the others, not a parse failure; the
/// published schema (`contract`) says which are required.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct IntakeInput {
    pub submitter: Option<SubmitterInput>,
    pub applicant: Option<ApplicantInput>,
    pub siv: Option<SivInput>,
    pub referral: Option<ReferralInput>,
    /// Absent or `null`: none claimed.
    #[serde(default, deserialize_with = "null_as_default")]
    pub claimed_programs: Vec<Program>,
    pub us_tie: Option<UsTie>,
    pub urgent: Option<UrgentInput>,
    pub description: Option<String>,
    pub consent: Option<bool>,
    /// The language mail to the requester is written in; English when absent.
    pub language: Option<Language>,
}

/// A list or flag that may also be sent as `null`, like every other optional part of the
/// contract.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct SubmitterInput {
    pub kind: Option<SubmitterKind>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub organization: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct ApplicantInput {
    pub full_name: Option<String>,
    pub date_of_birth: Option<String>,
    /// The calendar `date_of_birth` is written in; Gregorian when absent.
    pub date_of_birth_calendar: Option<Calendar>,
    pub phone: Option<String>,
    pub whatsapp: Option<String>,
    pub email: Option<String>,
    pub location: Option<Location>,
    #[serde(default, deserialize_with = "whole_number")]
    pub household_size: Option<i64>,
}

/// A whole number or `null`. JSON Schema counts `4.0` as a whole number, so it is one here
/// too; one past what an `i64` holds is kept at the nearest end, for the range check.
fn whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    struct Whole;
    impl<'de> serde::de::Visitor<'de> for Whole {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number")
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(i64::try_from(v).unwrap_or(i64::MAX)))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.fract() == 0.0 {
                // `as` saturates: a huge whole number stays huge.
                Ok(Some(v as i64))
            } else {
                Err(E::invalid_type(serde::de::Unexpected::Float(v), &self))
            }
        }
    }
    deserializer.deserialize_option(Whole)
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct SivInput {
    pub status: Option<SivStatus>,
    pub case_number: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct ReferralInput {
    pub program: Option<ReferralProgram>,
    pub referred_by: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct UrgentInput {
    #[serde(default, deserialize_with = "null_as_default")]
    pub danger: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub medical: bool,
}

/// Serde reads a struct from a JSON array as well, field by field in declaration order, so
/// `"siv": ["approved", "COM-1"]` would be taken as a status and a case number. The contract
/// names its fields: each part is read from an object only, with serde's own reading
/// (`remote = "Self"`) behind the check.
macro_rules! objects_only {
    ($($part:ident),+ $(,)?) => {$(
        impl<'de> Deserialize<'de> for $part {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Fields;
                impl<'de> serde::de::Visitor<'de> for Fields {
                    type Value = $part;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("an object")
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<$part, A::Error> {
                        $part::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    }
                }
                deserializer.deserialize_map(Fields)
            }
        }
    )+};
}

objects_only!(
    IntakeInput,
    SubmitterInput,
    ApplicantInput,
    SivInput,
    ReferralInput,
    UrgentInput
);

/// One problem with one field, named by its path in the JSON contract
/// (`applicant.full_name`), with a stable code and English words the person who typed it
/// can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    /// A `Problem` code, or `invalid` for a body that does not fit the contract.
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    /// A value the contract does not accept, described in words (serde's, reworded).
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            code: "invalid",
            message: message.into(),
        }
    }

    /// A known problem with a field.
    pub fn problem(field: impl Into<String>, problem: Problem) -> Self {
        FieldError {
            field: field.into(),
            code: problem.code(),
            message: problem.message().to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Submitter {
    pub kind: SubmitterKind,
    pub name: Option<PersonName>,
    pub email: Option<ContactEmail>,
    pub phone: Option<PhoneNumber>,
    pub organization: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Applicant {
    pub full_name: PersonName,
    pub date_of_birth: Option<BirthDate>,
    pub phone: Option<PhoneNumber>,
    pub whatsapp: Option<PhoneNumber>,
    pub email: Option<ContactEmail>,
    pub location: Location,
    pub household_size: Option<u16>,
}

/// A validated request, ready to classify, route and store.
#[derive(Debug, Clone)]
pub struct NewCaseRequest {
    pub source: Source,
    /// The staff user who entered a walk-in request.
    pub entered_by: Option<String>,
    pub submitter: Submitter,
    pub applicant: Applicant,
    pub siv_status: SivStatus,
    pub siv_case_number: Option<CaseNumber>,
    pub referral_program: ReferralProgram,
    pub referred_by: Option<String>,
    pub claimed_programs: BTreeSet<Program>,
    pub us_tie: UsTie,
    pub danger: bool,
    pub medical: bool,
    pub description: Option<String>,
    /// The requester's language, for the mail they receive.
    pub language: Language,
}

impl NewCaseRequest {
    /// The address an acknowledgment goes to: the applicant's, else the submitter's.
    pub fn reply_email(&self) -> Option<&ContactEmail> {
        self.applicant
            .email
            .as_ref()
            .or(self.submitter.email.as_ref())
    }
}

/// The longest name, and the problem past it.
const NAME: (usize, Problem) = (PersonName::MAX_CHARS, Problem::NameTooLong);
/// The longest organization or referrer name, and the problem past it.
const SHORT_TEXT: (usize, Problem) = (SHORT_TEXT_MAX_CHARS, Problem::TextTooLong);

/// Collects field errors while the parts of a request are parsed.
struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    fn fail(&mut self, field: &str, problem: Problem) {
        self.errors.push(FieldError::problem(field, problem));
    }

    /// Parses an optional text field; blank counts as absent.
    fn optional<T>(
        &mut self,
        field: &str,
        raw: Option<&String>,
        parse: impl FnOnce(&str) -> Result<T, Problem>,
    ) -> Option<T> {
        let raw = raw.map(|s| s.trim()).filter(|s| !s.is_empty())?;
        match parse(raw) {
            Ok(v) => Some(v),
            Err(msg) => {
                self.fail(field, msg);
                None
            }
        }
    }

    /// Parses an optional text field of at most `max` characters as sent, white space
    /// around it included: the length a client can check before sending (`maxLength` in
    /// the published schema). Blank counts as absent.
    fn text<T>(
        &mut self,
        field: &str,
        raw: Option<&String>,
        (max, too_long): (usize, Problem),
        parse: impl FnOnce(&str) -> Result<T, Problem>,
    ) -> Option<T> {
        if raw.is_some_and(|s| s.chars().count() > max) {
            self.fail(field, too_long);
            return None;
        }
        self.optional(field, raw, parse)
    }

    fn short_text(&mut self, field: &str, raw: Option<&String>) -> Option<String> {
        self.text(field, raw, SHORT_TEXT, clean_text)
    }
}

impl IntakeInput {
    /// Parses the input into a request, or returns every field error found.
    pub fn into_request(
        self,
        source: Source,
        today: NaiveDate,
    ) -> Result<NewCaseRequest, Vec<FieldError>> {
        let mut c = Checker { errors: Vec::new() };
        let submitter_in = self.submitter.unwrap_or_default();
        let applicant_in = self.applicant.unwrap_or_default();

        // Numbers written without a country code are read where the applicant is.
        let home = phone_region(applicant_in.location);
        let phone = |raw: &str| PhoneNumber::parse(raw, home);
        let kind = submitter_in.kind;
        if kind.is_none() {
            c.fail("submitter.kind", Problem::SubmitterKindMissing);
        }
        let submitter_name = c.text(
            "submitter.name",
            submitter_in.name.as_ref(),
            NAME,
            PersonName::parse,
        );
        let submitter_email = c.optional(
            "submitter.email",
            submitter_in.email.as_ref(),
            ContactEmail::parse,
        );
        let submitter_phone = c.optional("submitter.phone", submitter_in.phone.as_ref(), phone);
        let organization =
            c.short_text("submitter.organization", submitter_in.organization.as_ref());
        if matches!(
            kind,
            Some(SubmitterKind::Organization | SubmitterKind::AgencyOffice)
        ) && organization.is_none()
            && !c.errors.iter().any(|e| e.field == "submitter.organization")
        {
            c.fail("submitter.organization", Problem::OrganizationMissing);
        }
        if matches!(kind, Some(SubmitterKind::Sponsor))
            && submitter_name.is_none()
            && !c.errors.iter().any(|e| e.field == "submitter.name")
        {
            c.fail("submitter.name", Problem::SponsorNameMissing);
        }

        let full_name_raw = applicant_in.full_name.as_ref();
        let full_name = if full_name_raw.is_none_or(|s| s.trim().is_empty()) {
            c.fail("applicant.full_name", Problem::FullNameMissing);
            None
        } else {
            c.text(
                "applicant.full_name",
                full_name_raw,
                NAME,
                PersonName::parse,
            )
        };
        let date_of_birth = c.optional(
            "applicant.date_of_birth",
            applicant_in.date_of_birth.as_ref(),
            |s| {
                let calendar = applicant_in.date_of_birth_calendar;
                BirthDate::parse(s, calendar.unwrap_or(Calendar::Gregorian), today)
            },
        );
        let applicant_phone = c.optional("applicant.phone", applicant_in.phone.as_ref(), phone);
        let whatsapp = c.optional("applicant.whatsapp", applicant_in.whatsapp.as_ref(), phone);
        let applicant_email = c.optional(
            "applicant.email",
            applicant_in.email.as_ref(),
            ContactEmail::parse,
        );
        let location = applicant_in.location;
        if location.is_none() {
            c.fail("applicant.location", Problem::LocationMissing);
        }
        let household_size = match applicant_in.household_size {
            None => None,
            Some(n) if (1..=HOUSEHOLD_MAX).contains(&n) => Some(n as u16),
            Some(_) => {
                c.fail("applicant.household_size", Problem::HouseholdRange);
                None
            }
        };

        let siv = self.siv.unwrap_or_default();
        let siv_status = siv.status.unwrap_or(SivStatus::None);
        let siv_case_number = c.optional(
            "siv.case_number",
            siv.case_number.as_ref(),
            CaseNumber::parse,
        );

        let referral = self.referral.unwrap_or_default();
        let referral_program = referral.program.unwrap_or(ReferralProgram::None);
        let referred_by = c.short_text("referral.referred_by", referral.referred_by.as_ref());

        let description = c.optional("description", self.description.as_ref(), |s| {
            let text = clean_multiline(s)?;
            if text.chars().count() > DESCRIPTION_MAX_CHARS {
                return Err(Problem::DescriptionTooLong);
            }
            Ok(text)
        });

        let any_contact = [&applicant_phone, &whatsapp, &submitter_phone]
            .iter()
            .any(|p| p.is_some())
            || applicant_email.is_some()
            || submitter_email.is_some();
        let contact_fields_failed = c.errors.iter().any(|e| {
            e.field.ends_with(".email")
                || e.field.ends_with(".phone")
                || e.field.ends_with(".whatsapp")
        });
        if !any_contact && !contact_fields_failed {
            c.fail("applicant.phone", Problem::ContactMissing);
        }

        if self.consent != Some(true) {
            c.fail("consent", Problem::ConsentMissing);
        }

        if !c.errors.is_empty() {
            return Err(c.errors);
        }
        // Every `None` below was reported as an error above.
        let (Some(kind), Some(full_name), Some(location)) = (kind, full_name, location) else {
            return Err(vec![FieldError::new("", "incomplete request")]);
        };
        Ok(NewCaseRequest {
            source,
            entered_by: None,
            submitter: Submitter {
                kind,
                name: submitter_name,
                email: submitter_email,
                phone: submitter_phone,
                organization,
            },
            applicant: Applicant {
                full_name,
                date_of_birth,
                phone: applicant_phone,
                whatsapp,
                email: applicant_email,
                location,
                household_size,
            },
            siv_status,
            siv_case_number,
            referral_program,
            referred_by,
            claimed_programs: self.claimed_programs.into_iter().collect(),
            us_tie: self.us_tie.unwrap_or(UsTie::None),
            danger: self.urgent.map(|u| u.danger).unwrap_or(false),
            medical: self.urgent.map(|u| u.medical).unwrap_or(false),
            description,
            language: self.language.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn minimal() -> IntakeInput {
        serde_json::from_value(serde_json::json!({
            "submitter": {"kind": "self"},
            "applicant": {"full_name": "Ahmad Karimi", "phone": "+93 700 123 456", "location": "pakistan"},
            "consent": true
        }))
        .unwrap()
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn minimal_request_is_accepted_with_defaults() {
        let req = minimal().into_request(Source::PartnerApi, today()).unwrap();
        assert_eq!(req.siv_status, SivStatus::None);
        assert_eq!(req.us_tie, UsTie::None);
        assert!(!req.danger && !req.medical);
        assert_eq!(req.applicant.phone.unwrap().as_str(), "+93700123456");
    }

    #[test]
    fn every_missing_required_part_is_reported_at_once() {
        let errors = IntakeInput::default()
            .into_request(Source::WebForm, today())
            .unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "submitter.kind",
                "applicant.full_name",
                "applicant.location",
                "applicant.phone",
                "consent"
            ]
        );
    }

    #[test]
    fn consent_false_is_refused() {
        let mut input = minimal();
        input.consent = Some(false);
        let errors = input.into_request(Source::WebForm, today()).unwrap_err();
        assert_eq!(fields(&errors), ["consent"]);
    }

    #[test]
    fn organizations_must_name_themselves() {
        let mut input = minimal();
        input.submitter = Some(SubmitterInput {
            kind: Some(SubmitterKind::Organization),
            ..Default::default()
        });
        let errors = input.into_request(Source::PartnerApi, today()).unwrap_err();
        assert_eq!(fields(&errors), ["submitter.organization"]);
    }

    #[test]
    fn bad_values_name_their_field() {
        let mut input = minimal();
        let applicant = input.applicant.as_mut().unwrap();
        applicant.household_size = Some(-3);
        applicant.date_of_birth = Some("2099-01-01".into());
        applicant.email = Some("nope".into());
        let errors = input.into_request(Source::PartnerApi, today()).unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "applicant.date_of_birth",
                "applicant.email",
                "applicant.household_size"
            ]
        );
    }

    #[test]
    fn a_submitter_email_is_enough_contact() {
        let mut input = minimal();
        input.applicant.as_mut().unwrap().phone = None;
        input.submitter.as_mut().unwrap().email = Some("sponsor@example.org".into());
        let req = input.into_request(Source::PartnerApi, today()).unwrap();
        assert_eq!(req.reply_email().unwrap().as_str(), "sponsor@example.org");
    }
}
