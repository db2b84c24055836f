//! Why an answer was refused: a stable code that partners and the translated form key on,
//! and the English words the JSON API sends. The public form shows the catalog's
//! `error-<code>` message in the requester's language instead.

use std::fmt;

macro_rules! problems {
    ($( $(#[$meta:meta])* $variant:ident => $code:literal, $message:literal ),+ $(,)?) => {
        /// One reason an answer cannot be taken.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Problem { $( $(#[$meta])* $variant ),+ }

        impl Problem {
            /// Every problem, so tests can check each has a translation.
            pub const ALL: &'static [Problem] = &[$(Problem::$variant),+];

            /// The stable code (`snake_case`), sent in the API's `errors[].code`.
            pub fn code(self) -> &'static str {
                match self { $(Problem::$variant => $code),+ }
            }

            /// The English message, sent in the API's `errors[].message`.
            pub fn message(self) -> &'static str {
                match self { $(Problem::$variant => $message),+ }
            }
        }
    };
}

problems! {
    InvisibleCharacters => "invisible_characters", "contains invisible control characters; please retype it",
    NameEmpty => "name_empty", "please enter a name",
    NameTooLong => "name_too_long", "is too long; please use at most 200 characters",
    NoLetters => "no_letters", "must contain letters",
    EmailSpaces => "email_spaces", "must be a single email address without spaces, like name@example.org",
    EmailTooLong => "email_too_long", "is too long for an email address",
    EmailInvalid => "email_invalid", "must be an email address like name@example.org",
    PhoneCharacters => "phone_characters", "may contain only digits, spaces, dashes and a leading +",
    PhoneDigits => "phone_digits", "must have between 6 and 20 digits, with the country code if you can",
    CaseNumberCharacters => "case_number_characters", "may contain only Latin letters, digits and dashes",
    CaseNumberLength => "case_number_length", "must be 4 to 30 letters and digits, as printed on your case letter",
    DateFormat => "date_format", "must be a date like 1990-05-31 (year-month-day) or a year like 1990",
    DateLooksSolarHijri => "date_looks_solar_hijri", "looks like a Solar Hijri date: choose the Solar Hijri calendar (`hijri_shamsi`)",
    DateLooksGregorian => "date_looks_gregorian", "looks like a Gregorian date: choose the Gregorian calendar (`gregorian`)",
    DateInFuture => "date_in_future", "cannot be in the future",
    DateTooEarly => "date_too_early", "must be after 1900",
    TextTooLong => "text_too_long", "is too long; please shorten it",
    DescriptionTooLong => "description_too_long", "is too long; please use at most 5000 characters",
    SubmitterKindMissing => "submitter_kind_missing", "please say who is sending this request: the person themself, a sponsor or relative, an organization or an agency office",
    OrganizationMissing => "organization_missing", "please give the name of your organization or office",
    SponsorNameMissing => "sponsor_name_missing", "please give your own name as the sponsor or relative",
    FullNameMissing => "full_name_missing", "please enter the full name of the person who needs help",
    LocationMissing => "location_missing", "please say where the person is now",
    HouseholdRange => "household_range", "must be a number of people from 1 to 50 (count the applicant too)",
    HouseholdNotNumber => "household_not_number", "must be a number of people, like 4",
    ChoiceInvalid => "choice_invalid", "please choose one of the options",
    ContactMissing => "contact_missing", "please give at least one way to reach you: a phone or WhatsApp number or an email address",
    ConsentMissing => "consent_missing", "we can only take the request if you agree that the task force and its referral partners may store and use this information",
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct() {
        let mut codes: Vec<_> = Problem::ALL.iter().map(|p| p.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Problem::ALL.len());
    }
}
