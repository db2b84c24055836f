//! The closed vocabularies of a case request: who sent it, where the applicant is, which
//! programs they hold or claim, and what the product derives from them. Each is a Rust enum
//! with exactly one text form, used on the wire (snake_case JSON), in forms and in the database.

use std::fmt;
use std::str::FromStr;

/// A text value that is not one of an enum's allowed values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of: {allowed}")]
pub struct UnknownValue {
    pub allowed: String,
}

macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The one text form of this value.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { allowed: [$($text),+].join(", ") }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        // The API contract names the allowed values, for the published OpenAPI document.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // Anything but text is told the allowed values too, not "a string".
                struct Text;
                impl<'de> serde::de::Visitor<'de> for Text {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "one of: {}", [$($text),+].join(", "))
                    }
                    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<$name, E> {
                        text.parse().map_err(|e: UnknownValue| {
                            E::custom(format!("`{text}` is not allowed; {e}"))
                        })
                    }
                }
                d.deserialize_str(Text)
            }
        }
    };
}

text_enum! {
    /// Who is sending the request.
    pub enum SubmitterKind {
        /// The principal applicant themself.
        SelfApplicant => "self",
        /// A sponsor or relative vouching for the applicant.
        Sponsor => "sponsor",
        Organization => "organization",
        AgencyOffice => "agency_office",
    }
}

text_enum! {
    /// Where the principal applicant is now.
    pub enum Location {
        Afghanistan => "afghanistan",
        Border => "border",
        Pakistan => "pakistan",
        Elsewhere => "elsewhere",
    }
}

text_enum! {
    /// The calendar a date of birth is written in.
    pub enum Calendar {
        Gregorian => "gregorian",
        /// The Solar Hijri calendar of Afghan documents (the Tazkira).
        HijriShamsi => "hijri_shamsi",
    }
}

text_enum! {
    /// How much of a date of birth is known: the day, or only the year.
    pub enum BirthPrecision {
        Day => "day",
        Year => "year",
    }
}

text_enum! {
    /// Special Immigrant Visa status as the requester reports it.
    pub enum SivStatus {
        None => "none",
        InProcess => "in_process",
        Approved => "approved",
    }
}

text_enum! {
    /// A refugee-program referral the applicant holds.
    pub enum ReferralProgram {
        None => "none",
        P1 => "p1",
        P2 => "p2",
    }
}

text_enum! {
    /// A program the applicant claims to be eligible for.
    pub enum Program {
        Siv => "siv",
        P1 => "p1",
        P2 => "p2",
        Parole => "parole",
    }
}

/// The programs a request claims, each once; stored as their texts joined by
/// commas (`siv,p1`), nothing when none is claimed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Programs(pub Vec<Program>);

impl Programs {
    pub fn as_str(&self) -> String {
        self.0
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl FromStr for Programs {
    type Err = <Program as FromStr>::Err;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .filter(|p| !p.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map(Programs)
    }
}

text_enum! {
    /// A tie to the United States that makes the case consular rather than refugee work.
    pub enum UsTie {
        None => "none",
        Citizen => "citizen",
        Lpr => "lpr",
        ImmediateFamily => "immediate_family",
    }
}

text_enum! {
    /// How the request reached the task force.
    pub enum Source {
        WebForm => "web_form",
        PartnerApi => "partner_api",
        StaffEntered => "staff_entered",
        /// Mail to the task-force mailbox (drop folder, MTA pipe or IMAP).
        Email => "email",
    }
}

text_enum! {
    /// The category the server derives from the answers (see `classify`).
    pub enum Category {
        UrgentProtection => "urgent_protection",
        AmcitLpr => "amcit_lpr",
        SivApproved => "siv_approved",
        SivPending => "siv_pending",
        RefugeeReferral => "refugee_referral",
        BorderArrival => "border_arrival",
        NoReferral => "no_referral",
        Other => "other",
    }
}

text_enum! {
    /// How soon someone must look at the request.
    pub enum Priority {
        Urgent => "urgent",
        High => "high",
        Normal => "normal",
    }
}

text_enum! {
    /// Where a request stands in the task force's workflow.
    pub enum Status {
        New => "new",
        Triaged => "triaged",
        InProgress => "in_progress",
        AwaitingInformation => "awaiting_information",
        ReferredOut => "referred_out",
        Resolved => "resolved",
        ClosedDuplicate => "closed_duplicate",
    }
}

text_enum! {
    /// A language the public pages and the requester's mail are written in (BCP 47 tags).
    #[derive(Default)]
    pub enum Language {
        #[default]
        En => "en",
        /// Dari, as written in Afghanistan.
        FaAf => "fa-AF",
        Ps => "ps",
    }
}

text_enum! {
    /// What an outbox row delivers: one of the mails, or a webhook to a partner.
    pub enum OutboxKind {
        Acknowledgment => "acknowledgment",
        NewRequest => "new_request",
        Assigned => "assigned",
        StatusChanged => "status_changed",
        Digest => "digest",
        WebhookStatusChanged => "webhook.status_changed",
        /// The task force writes to the requester.
        Message => "message",
        /// To the assignee (else the queue): the requester answered.
        ReplyReceived => "reply_received",
        WebhookMessage => "webhook.message",
        /// To a person on an urgent case's escalation chain: take this case.
        Page => "page",
        /// To the assignee (else the queue): a case nears or passed its SLA target.
        SlaWarning => "sla_warning",
    }
}

text_enum! {
    /// How a mail reached the task-force mailbox.
    pub enum MailOrigin {
        /// A `.eml` file in `$DATA_DIR/inbox`.
        DropFolder => "drop_folder",
        /// `case-triage mail-in` on standard input, from a mail server's pipe.
        Pipe => "pipe",
        Imap => "imap",
    }
}

text_enum! {
    /// What became of a mail taken in.
    pub enum MailOutcome {
        /// A new request.
        NewRequest => "new_request",
        /// An answer on the case it replies to.
        Threaded => "threaded",
        /// A new request that quotes another case's reference, for staff to link or not.
        Mentions => "mentions",
        /// Mail sent by a program: a new request that gets no acknowledgment.
        Automatic => "automatic",
        /// An out-of-office answer to our mail, noted on its case.
        OutOfOffice => "out_of_office",
        /// A delivery-status report about our mail.
        Bounce => "bounce",
        /// Kept raw for staff: it could not be read.
        Unreadable => "unreadable",
        /// The same mail again (by its Message-ID): nothing new was stored.
        Duplicate => "duplicate",
    }
}

text_enum! {
    /// Which way a message of the correspondence went.
    pub enum Direction {
        /// From the task force to the requester.
        Outgoing => "outgoing",
        /// From the requester (the status page, a partner on their behalf) to the task force.
        Incoming => "incoming",
    }
}

impl OutboxKind {
    /// Whether the row is a webhook delivery rather than a mail.
    pub fn is_webhook(self) -> bool {
        matches!(
            self,
            OutboxKind::WebhookStatusChanged | OutboxKind::WebhookMessage
        )
    }
}

text_enum! {
    /// What an API token may do. A token is issued for one purpose only, so that a reporting
    /// tool that holds one can neither submit requests nor read them.
    pub enum TokenScope {
        /// Submit requests and read back the ones its partner submitted.
        Requests => "requests",
        /// Read the reporting statistics (the forecast), which carry no personal data.
        Reporting => "reporting",
    }
}

impl TokenScope {
    /// What the partners page says the scope allows.
    pub fn label(self) -> &'static str {
        match self {
            TokenScope::Requests => "submit and read its requests",
            TokenScope::Reporting => "reporting statistics only",
        }
    }
}

text_enum! {
    /// What staff decided about a possible duplicate.
    pub enum DuplicateStatus {
        /// Intake flagged it; nobody has looked yet.
        Suggested => "suggested",
        Confirmed => "confirmed",
        Rejected => "rejected",
    }
}

impl Language {
    /// The text direction of the language, for `<html dir>`.
    pub fn dir(self) -> &'static str {
        match self {
            Language::En => "ltr",
            Language::FaAf | Language::Ps => "rtl",
        }
    }

    /// The language a tag names, loosely: `fa`, `fa-IR`, `prs` read as Dari; `ps-AF`,
    /// `pus` as Pashto; `en-GB` as English. Case is ignored.
    pub fn from_tag(tag: &str) -> Option<Language> {
        let primary = tag
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Language::En),
            "fa" | "prs" | "per" | "fas" => Some(Language::FaAf),
            "ps" | "pus" | "pbt" | "pbu" => Some(Language::Ps),
            _ => None,
        }
    }
}

impl SubmitterKind {
    pub fn label(self) -> &'static str {
        match self {
            SubmitterKind::SelfApplicant => "I am the person who needs help",
            SubmitterKind::Sponsor => "A sponsor or relative",
            SubmitterKind::Organization => "An organization",
            SubmitterKind::AgencyOffice => "A government agency office",
        }
    }
}

impl Location {
    pub fn label(self) -> &'static str {
        match self {
            Location::Afghanistan => "Inside Afghanistan",
            Location::Border => "At or near the Afghanistan-Pakistan border",
            Location::Pakistan => "In Pakistan",
            Location::Elsewhere => "Somewhere else",
        }
    }
}

impl SivStatus {
    pub fn label(self) -> &'static str {
        match self {
            SivStatus::None => "No Special Immigrant Visa application",
            SivStatus::InProcess => "Applied, still in process",
            SivStatus::Approved => "Approved",
        }
    }
}

impl ReferralProgram {
    pub fn label(self) -> &'static str {
        match self {
            ReferralProgram::None => "No referral",
            ReferralProgram::P1 => "P-1 referral (from UNHCR, a U.S. embassy or an NGO)",
            ReferralProgram::P2 => "P-2 referral (from a U.S. employer, media or NGO)",
        }
    }
}

impl Program {
    pub fn label(self) -> &'static str {
        match self {
            Program::Siv => {
                "Special Immigrant Visa (worked for or on behalf of the U.S. government)"
            }
            Program::P1 => "P-1 refugee referral",
            Program::P2 => {
                "P-2 refugee referral (worked for a U.S.-funded program, U.S. media or NGO)"
            }
            Program::Parole => "Humanitarian parole",
        }
    }
}

impl UsTie {
    pub fn label(self) -> &'static str {
        match self {
            UsTie::None => "No",
            UsTie::Citizen => "Yes, a U.S. citizen",
            UsTie::Lpr => "Yes, a U.S. lawful permanent resident (green card holder)",
            UsTie::ImmediateFamily => "Yes, the spouse, parent or child under 21 of one",
        }
    }
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::WebForm => "Web form",
            Source::PartnerApi => "Partner API",
            Source::StaffEntered => "Entered by staff",
            Source::Email => "Email",
        }
    }
}

impl Category {
    /// The category in plain words, as a requester reads it.
    pub fn label(self) -> &'static str {
        match self {
            Category::UrgentProtection => "Urgent protection or medical need",
            Category::AmcitLpr => "U.S. citizen, permanent resident or their family",
            Category::SivApproved => "Special Immigrant Visa approved",
            Category::SivPending => "Special Immigrant Visa in process",
            Category::RefugeeReferral => "Refugee program referral (P-1 / P-2)",
            Category::BorderArrival => "Arriving at the Afghanistan-Pakistan border",
            Category::NoReferral => "Eligibility claimed, no referral on file",
            Category::Other => "Other request",
        }
    }
}

impl Priority {
    pub fn label(self) -> &'static str {
        match self {
            Priority::Urgent => "Urgent",
            Priority::High => "High",
            Priority::Normal => "Normal",
        }
    }
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::New => "Received",
            Status::Triaged => "Triaged",
            Status::InProgress => "In progress",
            Status::AwaitingInformation => "Awaiting information",
            Status::ReferredOut => "Referred out",
            Status::Resolved => "Resolved",
            Status::ClosedDuplicate => "Closed as duplicate",
        }
    }

    /// Whether the request still needs work from the task force.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            Status::ReferredOut | Status::Resolved | Status::ClosedDuplicate
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claimed_programs_are_stored_as_a_list_and_read_back() {
        let all = Programs(vec![Program::Siv, Program::P2, Program::Parole]);
        assert_eq!(all.as_str(), "siv,p2,parole");
        assert_eq!("siv,p2,parole".parse::<Programs>(), Ok(all));
        assert_eq!("".parse::<Programs>(), Ok(Programs::default()));
        assert!("siv,asylum".parse::<Programs>().is_err());
    }

    #[test]
    fn language_tags_are_read_loosely() {
        assert_eq!(Language::from_tag("fa-AF"), Some(Language::FaAf));
        assert_eq!(Language::from_tag("prs"), Some(Language::FaAf));
        assert_eq!(Language::from_tag("FA"), Some(Language::FaAf));
        assert_eq!(Language::from_tag("ps-AF"), Some(Language::Ps));
        assert_eq!(Language::from_tag("en-GB"), Some(Language::En));
        assert_eq!(Language::from_tag("de"), None);
        assert_eq!("fa-AF".parse::<Language>(), Ok(Language::FaAf));
        assert!("fa".parse::<Language>().is_err());
    }

    #[test]
    fn every_value_round_trips_through_its_text() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>(), Ok(*c));
        }
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(*s));
        }
        for k in SubmitterKind::ALL {
            assert_eq!(k.as_str().parse::<SubmitterKind>(), Ok(*k));
        }
    }

    #[test]
    fn unknown_text_names_the_allowed_values() {
        let err = "mars".parse::<Location>().unwrap_err();
        assert_eq!(err.allowed, "afghanistan, border, pakistan, elsewhere");
    }

    #[test]
    fn json_uses_snake_case() {
        let json = serde_json::to_string(&SubmitterKind::AgencyOffice).unwrap();
        assert_eq!(json, "\"agency_office\"");
        let back: SivStatus = serde_json::from_str("\"in_process\"").unwrap();
        assert_eq!(back, SivStatus::InProcess);
        let err = serde_json::from_str::<SivStatus>("\"pending\"").unwrap_err();
        assert!(err.to_string().contains("none, in_process, approved"));
    }
}
