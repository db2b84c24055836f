//! The mails the app sends and what each may say. Every mail is rendered from three template
//! files under `templates/email/`: `NAME.subject.txt`, `NAME.txt` and `NAME.html` (only the
//! HTML is escaped, so the text parts carry text as typed). Mails name a request by its
//! reference, never by a person's name or case number.

use askama::Template;
use chrono::NaiveDate;

use crate::domain::fields::ContactEmail;
use crate::domain::vocab::OutboxKind;
use crate::domain::{Category, Language, Priority};
use crate::i18n::{self, Tr};

/// A mail ready to store: one subject line, a plain-text body and an HTML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What a mail about one request may tell: derived facts, never personal data.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    pub request_id: String,
    pub reference: String,
    pub category: Category,
    pub priority: Priority,
    pub queue_name: String,
}

/// The standard guidance of a category (the `guidance` table).
#[derive(Debug, Clone)]
pub struct Guidance {
    pub body: String,
    pub next_steps: String,
}

impl Guidance {
    /// The guidance a requester reads in `language`: the lead's text from the database in
    /// English, the catalog's translation of the standard guidance in Dari and Pashto.
    pub fn in_language(language: Language, category: Category, stored: Option<Guidance>) -> Self {
        match (language, stored) {
            (Language::En, Some(g)) => g,
            (Language::En, None) => Guidance {
                body: String::new(),
                next_steps: Tr(Language::En).t("next-steps-default"),
            },
            (other, _) => {
                let (body, next_steps) = i18n::guidance(other, category);
                Guidance { body, next_steps }
            }
        }
    }
}

/// Why a requester hears back after the acknowledgment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Handed to UNHCR or a partner NGO.
    ReferredOut,
    Resolved,
}

/// The day's numbers for the task-force lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestReport {
    pub day: NaiveDate,
    /// New requests in the 24 hours before the digest, per category (zero rows left out).
    pub new_per_category: Vec<(Category, i64)>,
    /// Open requests per queue name, every queue listed.
    pub open_per_queue: Vec<(String, i64)>,
    /// How long the oldest open request has waited.
    pub oldest_open_age: Option<chrono::Duration>,
    /// Where each queue's backlog is heading, from the dashboard's forecast.
    pub outlook: Vec<QueueOutlook>,
}

/// One queue's line of the digest's outlook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueOutlook {
    pub queue: String,
    pub backlog: i64,
    /// The projected backlog in 14 days at the recent pace.
    pub in_14_days: i64,
    /// The trend in words: "growing by 3.5 a day", "clears in 12 days", "steady".
    pub trend: String,
}

/// Every mail the app sends. Adding one is a variant, three template files and an arm in
/// `render`; sending it is one `email::enqueue` call.
#[derive(Debug, Clone)]
pub enum Mail {
    /// To the requester: reference, category, guidance and what happens next.
    Acknowledgment {
        to: ContactEmail,
        case: CaseFacts,
        guidance: Guidance,
        /// The requester's language: the whole mail is written in it.
        language: Language,
        /// The code that, with the reference, lets the applicant check the status.
        status_code: String,
    },
    /// To a queue's notification addresses: a new request, with a link to it.
    NewRequest {
        to: Vec<ContactEmail>,
        case: CaseFacts,
    },
    /// To the caseworker a request has been assigned to.
    Assigned { to: ContactEmail, case: CaseFacts },
    /// To the requester when the request is referred out or resolved.
    StatusChanged {
        to: ContactEmail,
        case: CaseFacts,
        outcome: Outcome,
        guidance: Guidance,
        language: Language,
    },
    /// To the requester: a message the task force wrote, in the requester's language.
    Message {
        to: ContactEmail,
        case: CaseFacts,
        language: Language,
        /// What the caseworker wrote, placeholders filled in.
        body: String,
        /// The case's Reply-To (`REPLY_TO` with its token); `None`: answer on the status page.
        reply_to: Option<String>,
    },
    /// To the assignee, else the queue: the requester answered. Names the reference only.
    ReplyReceived {
        to: Vec<ContactEmail>,
        case: CaseFacts,
    },
    /// To one person (or address) on an urgent case's escalation chain: nobody has taken
    /// the case yet. Reference, queue, priority, waiting time and the signed link, no more.
    Page {
        to: ContactEmail,
        case: CaseFacts,
        /// How long the request has waited.
        waited: chrono::Duration,
        /// Which page of the escalation (from 1).
        number: u32,
        /// The signed single-use "I take this case" link (names no case).
        link: String,
        expires: chrono::NaiveDateTime,
    },
    /// To the assignee, else the queue: an open case nears (or passed) its SLA target.
    SlaWarning {
        to: Vec<ContactEmail>,
        case: CaseFacts,
        warning: crate::domain::escalation::SlaWarning,
        /// The case's target.
        target: chrono::Duration,
        /// How long until the target (zero once breached).
        remaining: chrono::Duration,
    },
    /// To the task-force lead, once a day.
    Digest {
        to: ContactEmail,
        report: DigestReport,
    },
}

impl Mail {
    /// The outbox's kind for this mail.
    pub fn kind(&self) -> OutboxKind {
        match self {
            Mail::Acknowledgment { .. } => OutboxKind::Acknowledgment,
            Mail::NewRequest { .. } => OutboxKind::NewRequest,
            Mail::Assigned { .. } => OutboxKind::Assigned,
            Mail::StatusChanged { .. } => OutboxKind::StatusChanged,
            Mail::Digest { .. } => OutboxKind::Digest,
            Mail::Message { .. } => OutboxKind::Message,
            Mail::ReplyReceived { .. } => OutboxKind::ReplyReceived,
            Mail::Page { .. } => OutboxKind::Page,
            Mail::SlaWarning { .. } => OutboxKind::SlaWarning,
        }
    }

    pub fn recipients(&self) -> Vec<&ContactEmail> {
        match self {
            Mail::NewRequest { to, .. }
            | Mail::ReplyReceived { to, .. }
            | Mail::SlaWarning { to, .. } => to.iter().collect(),
            Mail::Acknowledgment { to, .. }
            | Mail::Page { to, .. }
            | Mail::Message { to, .. }
            | Mail::Assigned { to, .. }
            | Mail::StatusChanged { to, .. }
            | Mail::Digest { to, .. } => vec![to],
        }
    }

    fn case(&self) -> Option<&CaseFacts> {
        match self {
            Mail::Acknowledgment { case, .. }
            | Mail::NewRequest { case, .. }
            | Mail::Assigned { case, .. }
            | Mail::StatusChanged { case, .. }
            | Mail::Message { case, .. }
            | Mail::ReplyReceived { case, .. }
            | Mail::Page { case, .. }
            | Mail::SlaWarning { case, .. } => Some(case),
            Mail::Digest { .. } => None,
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        self.case().map(|c| c.request_id.as_str())
    }

    /// Mail about an urgent request goes out before everything else (pages before that).
    pub fn is_urgent(&self) -> bool {
        matches!(self, Mail::Page { .. })
            || self.case().is_some_and(|c| c.priority == Priority::Urgent)
    }

    /// Where the recipient's reply goes, for the mails a requester may answer.
    pub fn reply_to(&self) -> Option<&str> {
        match self {
            Mail::Message { reply_to, .. } => reply_to.as_deref(),
            _ => None,
        }
    }

    /// A key that makes the mail exist once however many instances write it.
    pub fn dedup_key(&self) -> Option<String> {
        match self {
            Mail::Digest { report, .. } => Some(format!("digest:{}", report.day)),
            _ => None,
        }
    }

    /// Renders subject, text and HTML; `base_url` is where people reach the app.
    pub fn render(&self, base_url: &url::Url) -> Result<Rendered, askama::Error> {
        match self {
            Mail::Acknowledgment {
                case,
                guidance,
                language,
                status_code,
                ..
            } => AckView {
                tr: Tr(*language),
                reference: &case.reference,
                status_code,
                status_url: page_link(base_url, "/status"),
                category: category_in(*language, case.category),
                next_steps: &guidance.next_steps,
                guidance: &guidance.body,
            }
            .render(),
            Mail::NewRequest { case, .. } => CaseView::of(case, base_url).render_new_request(),
            Mail::Assigned { case, .. } => CaseView::of(case, base_url).render_assigned(),
            Mail::StatusChanged {
                case,
                outcome,
                guidance,
                language,
                ..
            } => UpdateView {
                tr: Tr(*language),
                reference: &case.reference,
                category: category_in(*language, case.category),
                referred: *outcome == Outcome::ReferredOut,
                guidance: &guidance.body,
            }
            .render(),
            Mail::Digest { report, .. } => DigestView::of(report).render(),
            Mail::Message {
                case,
                language,
                body,
                reply_to,
                ..
            } => MessageView {
                tr: Tr(*language),
                reference: &case.reference,
                body,
                status_url: page_link(base_url, "/status"),
                answerable: reply_to.is_some(),
            }
            .render(),
            Mail::ReplyReceived { case, .. } => CaseView::of(case, base_url).render_reply(),
            Mail::Page {
                case,
                waited,
                number,
                link,
                expires,
                ..
            } => PageView {
                reference: &case.reference,
                queue_name: &case.queue_name,
                priority: case.priority.label(),
                waited: age_in_words(*waited),
                number: *number,
                link,
                expires: expires.format("%Y-%m-%d %H:%M").to_string(),
            }
            .render(),
            Mail::SlaWarning {
                case,
                warning,
                target,
                remaining,
                ..
            } => SlaView {
                reference: &case.reference,
                queue_name: &case.queue_name,
                priority: case.priority.label(),
                breached: *warning == crate::domain::escalation::SlaWarning::Breached,
                target: age_in_words(*target),
                remaining: age_in_words(*remaining),
                link: admin_link(base_url, &case.reference),
            }
            .render(),
        }
    }
}

/// A category in plain words in the requester's language.
fn category_in(language: Language, category: Category) -> String {
    Tr(language).t(&format!("category-{category}"))
}

/// A page of the app as an absolute link from `BASE_URL`: `{BASE_URL}{path}`.
pub fn page_link(base_url: &url::Url, path: &str) -> String {
    format!("{}{path}", base_url.as_str().trim_end_matches('/'))
}

/// The admin page of a request: `{BASE_URL}/admin/requests/{reference}`.
pub fn admin_link(base_url: &url::Url, reference: &str) -> String {
    page_link(base_url, &format!("/admin/requests/{reference}"))
}

/// A subject is one header line: no CR, LF or other control characters, spaces collapsed.
pub fn one_line(raw: &str) -> String {
    raw.split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Declares the subject, text and HTML templates of one view and its `render`.
macro_rules! mail_templates {
    ($view:ident, $render:ident => $subject:tt, $text:tt, $html:tt) => {
        impl<'a> $view<'a> {
            fn $render(&self) -> Result<Rendered, askama::Error> {
                #[derive(Template)]
                #[template(path = $subject)]
                struct Subject<'b, 'a> {
                    m: &'b $view<'a>,
                }
                #[derive(Template)]
                #[template(path = $text)]
                struct Text<'b, 'a> {
                    m: &'b $view<'a>,
                }
                #[derive(Template)]
                #[template(path = $html)]
                struct Html<'b, 'a> {
                    m: &'b $view<'a>,
                }
                Ok(Rendered {
                    subject: one_line(&Subject { m: self }.render()?),
                    text: Text { m: self }.render()?,
                    html: Html { m: self }.render()?,
                })
            }
        }
    };
}

struct AckView<'a> {
    tr: Tr,
    reference: &'a str,
    status_code: &'a str,
    /// Absolute: a link in a mail has no page to be relative to.
    status_url: String,
    category: String,
    next_steps: &'a str,
    guidance: &'a str,
}

mail_templates!(AckView, render =>
    "email/acknowledgment.subject.txt", "email/acknowledgment.txt", "email/acknowledgment.html");

struct CaseView<'a> {
    reference: &'a str,
    category: &'static str,
    priority: &'static str,
    queue_name: &'a str,
    link: String,
    urgent: bool,
}

impl<'a> CaseView<'a> {
    fn of(case: &'a CaseFacts, base_url: &url::Url) -> Self {
        CaseView {
            reference: &case.reference,
            category: case.category.label(),
            priority: case.priority.label(),
            queue_name: &case.queue_name,
            link: admin_link(base_url, &case.reference),
            urgent: case.priority == Priority::Urgent,
        }
    }
}

mail_templates!(CaseView, render_new_request =>
    "email/new_request.subject.txt", "email/new_request.txt", "email/new_request.html");
mail_templates!(CaseView, render_assigned =>
    "email/assigned.subject.txt", "email/assigned.txt", "email/assigned.html");
mail_templates!(CaseView, render_reply =>
    "email/reply_received.subject.txt", "email/reply_received.txt", "email/reply_received.html");

struct PageView<'a> {
    reference: &'a str,
    queue_name: &'a str,
    priority: &'static str,
    waited: String,
    number: u32,
    link: &'a str,
    expires: String,
}

mail_templates!(PageView, render =>
    "email/page.subject.txt", "email/page.txt", "email/page.html");

struct SlaView<'a> {
    reference: &'a str,
    queue_name: &'a str,
    priority: &'static str,
    breached: bool,
    target: String,
    remaining: String,
    link: String,
}

mail_templates!(SlaView, render =>
    "email/sla_warning.subject.txt", "email/sla_warning.txt", "email/sla_warning.html");

struct MessageView<'a> {
    tr: Tr,
    reference: &'a str,
    body: &'a str,
    /// Absolute: a link in a mail has no page to be relative to.
    status_url: String,
    /// A reply to this mail reaches the task force (`REPLY_TO` is set).
    answerable: bool,
}

mail_templates!(MessageView, render =>
    "email/message.subject.txt", "email/message.txt", "email/message.html");

struct UpdateView<'a> {
    tr: Tr,
    reference: &'a str,
    category: String,
    referred: bool,
    guidance: &'a str,
}

impl UpdateView<'_> {
    fn subject(&self) -> String {
        let key = if self.referred {
            "mail-referred-subject"
        } else {
            "mail-resolved-subject"
        };
        self.tr.t_with(key, "reference", self.reference)
    }
}

mail_templates!(UpdateView, render =>
    "email/status_changed.subject.txt", "email/status_changed.txt", "email/status_changed.html");

struct DigestView<'a> {
    day: String,
    new_total: i64,
    new_per_category: Vec<(&'static str, i64)>,
    open_total: i64,
    open_per_queue: Vec<(&'a str, i64)>,
    oldest_open: String,
    outlook: &'a [QueueOutlook],
}

impl<'a> DigestView<'a> {
    fn of(report: &'a DigestReport) -> Self {
        DigestView {
            day: report.day.to_string(),
            new_total: report.new_per_category.iter().map(|(_, n)| n).sum(),
            new_per_category: report
                .new_per_category
                .iter()
                .map(|(c, n)| (c.label(), *n))
                .collect(),
            open_total: report.open_per_queue.iter().map(|(_, n)| n).sum(),
            open_per_queue: report
                .open_per_queue
                .iter()
                .map(|(q, n)| (q.as_str(), *n))
                .collect(),
            oldest_open: report
                .oldest_open_age
                .map_or_else(|| "none open".to_string(), age_in_words),
            outlook: &report.outlook,
        }
    }
}

mail_templates!(DigestView, render =>
    "email/digest.subject.txt", "email/digest.txt", "email/digest.html");

/// "3 days 4 hours", "5 hours 10 minutes", "12 minutes".
pub fn age_in_words(age: chrono::Duration) -> String {
    let minutes = age.num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let unit = |n: i64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if days > 0 {
        format!("{} {}", unit(days, "day"), unit(hours, "hour"))
    } else if hours > 0 {
        format!("{} {}", unit(hours, "hour"), unit(mins, "minute"))
    } else {
        unit(mins, "minute")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> url::Url {
        url::Url::parse("https://triage.example.org/").unwrap()
    }

    fn email(s: &str) -> ContactEmail {
        ContactEmail::parse(s).unwrap()
    }

    fn case(priority: Priority) -> CaseFacts {
        CaseFacts {
            request_id: "r1".into(),
            reference: "TF-7K3M-9QXD".into(),
            category: Category::SivPending,
            priority,
            queue_name: "SIV desk".into(),
        }
    }

    fn guidance() -> Guidance {
        Guidance {
            body: "Keep your COM case number <safe> & private.".into(),
            next_steps: "The SIV desk will check where your case stands.".into(),
        }
    }

    #[test]
    fn acknowledgment_tells_reference_category_guidance_and_next_steps() {
        let mail = Mail::Acknowledgment {
            to: email("ahmad@example.org"),
            case: case(Priority::Normal),
            guidance: guidance(),
            language: Language::En,
            status_code: "7K3M9QXD".into(),
        };
        let r = mail.render(&base()).unwrap();
        assert_eq!(r.subject, "Your request TF-7K3M-9QXD has been received");
        for part in [&r.text, &r.html] {
            assert!(part.contains("TF-7K3M-9QXD"));
            assert!(part.contains("Special Immigrant Visa in process"));
            assert!(part.contains("The SIV desk will check where your case stands."));
            assert!(
                !part.contains("SIV desk\n"),
                "no queue name for the requester"
            );
            // The status page by its whole address: a mail has no page to be relative to.
            assert!(
                part.contains("(https://triage.example.org/status)"),
                "{part}"
            );
            assert!(!part.contains("(/status)"));
        }
        assert!(r
            .text
            .contains("Keep your COM case number <safe> & private."));
        assert!(
            r.html.contains("&#60;safe&#62; &#38; private")
                || r.html.contains("&lt;safe&gt; &amp; private")
        );
        assert_eq!(mail.kind(), OutboxKind::Acknowledgment);
        assert_eq!(mail.dedup_key(), None);
    }

    #[test]
    fn requester_mail_is_written_in_the_requesters_language() {
        for (language, dir) in [(Language::FaAf, "rtl"), (Language::Ps, "rtl")] {
            let category = Category::SivPending;
            let mail = Mail::Acknowledgment {
                to: email("ahmad@example.org"),
                case: case(Priority::Normal),
                guidance: Guidance::in_language(language, category, Some(guidance())),
                language,
                status_code: "7K3M9QXD".into(),
            };
            let r = mail.render(&base()).unwrap();
            let tr = Tr(language);
            assert_eq!(
                r.subject,
                tr.t_with("mail-ack-subject", "reference", "TF-7K3M-9QXD")
            );
            assert!(!r.subject.contains("request"), "{}", r.subject);
            assert!(r
                .html
                .contains(&format!("lang=\"{language}\" dir=\"{dir}\"")));
            assert!(r.html.contains("dir=\"ltr\"><bdi>TF-7K3M-9QXD</bdi>"));
            for part in [&r.text, &r.html] {
                assert!(part.contains(&tr.t("category-siv_pending")));
                assert!(part.contains(&i18n::guidance(language, category).1));
                assert!(
                    !part.contains("Keep your COM case number"),
                    "no English guidance"
                );
            }

            let resolved = Mail::StatusChanged {
                to: email("ahmad@example.org"),
                case: case(Priority::Normal),
                outcome: Outcome::Resolved,
                guidance: Guidance::in_language(language, category, Some(guidance())),
                language,
            };
            let r = resolved.render(&base()).unwrap();
            assert_eq!(
                r.subject,
                tr.t_with("mail-resolved-subject", "reference", "TF-7K3M-9QXD")
            );
            assert!(r.text.contains(&tr.t("mail-resolved-body")));
        }
    }

    #[test]
    fn new_request_links_to_the_admin_page_and_marks_urgent_ones() {
        let mail = Mail::NewRequest {
            to: vec![email("siv@taskforce.example"), email("b@taskforce.example")],
            case: case(Priority::Normal),
        };
        let r = mail.render(&base()).unwrap();
        // The reference is in the body only: beside the queue, category and urgency in a
        // subject (read on a lock screen, forwarded) it would tell who needs what.
        assert_eq!(
            r.subject,
            "New request on SIV desk: Special Immigrant Visa in process"
        );
        let link = "https://triage.example.org/admin/requests/TF-7K3M-9QXD";
        assert!(r.text.contains(link));
        assert!(r.html.contains(&format!("href=\"{link}\"")));
        assert!(r.text.contains("Priority:  Normal"));
        assert_eq!(mail.recipients().len(), 2);
        assert!(!mail.is_urgent());

        let urgent = Mail::NewRequest {
            to: vec![email("urgent@taskforce.example")],
            case: case(Priority::Urgent),
        };
        let r = urgent.render(&base()).unwrap();
        assert!(r.subject.starts_with("[URGENT] New request on SIV desk"));
        assert!(!r.subject.contains("TF-7K3M-9QXD"), "{}", r.subject);
        assert!(r.text.starts_with("URGENT:"));
        assert!(urgent.is_urgent());
    }

    #[test]
    fn assigned_tells_the_caseworker_where_to_look() {
        let mail = Mail::Assigned {
            to: email("caseworker@taskforce.example"),
            case: case(Priority::High),
        };
        let r = mail.render(&base()).unwrap();
        assert_eq!(r.subject, "A request on SIV desk has been assigned to you");
        assert!(r.text.contains("Priority: High"));
        assert!(r
            .html
            .contains("https://triage.example.org/admin/requests/TF-7K3M-9QXD"));
        assert_eq!(mail.kind(), OutboxKind::Assigned);
    }

    #[test]
    fn status_changed_tells_the_requester_about_a_referral_or_resolution() {
        let referred = Mail::StatusChanged {
            to: email("ahmad@example.org"),
            case: case(Priority::Normal),
            outcome: Outcome::ReferredOut,
            guidance: guidance(),
            language: Language::En,
        };
        let r = referred.render(&base()).unwrap();
        assert_eq!(
            r.subject,
            "Your request TF-7K3M-9QXD has been referred to a partner"
        );
        assert!(r.text.contains("UNHCR or a partner organization"));
        assert!(r.text.contains("Keep your COM case number"));
        assert!(
            !r.text.contains("admin/requests"),
            "no staff link for requesters"
        );

        let resolved = Mail::StatusChanged {
            to: email("ahmad@example.org"),
            case: case(Priority::Normal),
            outcome: Outcome::Resolved,
            guidance: guidance(),
            language: Language::En,
        };
        let r = resolved.render(&base()).unwrap();
        assert_eq!(r.subject, "Your request TF-7K3M-9QXD has been resolved");
        assert!(r.html.contains("finished working on your request"));
    }

    #[test]
    fn digest_counts_new_and_open_requests_and_the_oldest_age() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let mail = Mail::Digest {
            to: email("lead@taskforce.example"),
            report: DigestReport {
                day,
                new_per_category: vec![(Category::SivPending, 2), (Category::Other, 1)],
                open_per_queue: vec![("SIV desk".into(), 2), ("Consular desk".into(), 0)],
                oldest_open_age: Some(chrono::Duration::hours(27)),
                outlook: vec![QueueOutlook {
                    queue: "SIV desk".into(),
                    backlog: 2,
                    in_14_days: 30,
                    trend: "growing by 2.0 a day".into(),
                }],
            },
        };
        let r = mail.render(&base()).unwrap();
        assert_eq!(r.subject, "Task force digest 2026-11-26: 3 new, 2 open");
        assert!(r.text.contains("  Special Immigrant Visa in process: 2\n"));
        assert!(r.text.contains("  Other request: 1\n"));
        assert!(r.text.contains("  Consular desk: 0\n"));
        assert!(r.text.contains("Oldest open request: 1 day 3 hours"));
        assert!(r
            .text
            .contains("  SIV desk: 2 open, about 30 in 14 days; growing by 2.0 a day\n"));
        assert!(r.html.contains("<td>SIV desk</td>"));
        assert_eq!(mail.dedup_key().as_deref(), Some("digest:2026-11-26"));
    }

    #[test]
    fn a_page_names_the_case_in_its_body_only_and_carries_the_link() {
        let mail = Mail::Page {
            to: email("officer@taskforce.example"),
            case: case(Priority::Urgent),
            waited: chrono::Duration::minutes(31),
            number: 3,
            link: "https://triage.example/admin/pages/abc?until=1&sig=00".into(),
            expires: chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
                .unwrap()
                .and_hms_opt(8, 0, 0)
                .unwrap(),
        };
        assert!(mail.is_urgent());
        assert_eq!(mail.kind(), OutboxKind::Page);
        let r = mail.render(&base()).unwrap();
        assert!(
            r.subject.starts_with("[PAGE] An urgent request on "),
            "{}",
            r.subject
        );
        assert!(r.subject.ends_with("(31 minutes)"), "{}", r.subject);
        assert!(!r.subject.contains(&case(Priority::Urgent).reference));
        for part in [&r.text, &r.html] {
            assert!(part.contains(&case(Priority::Urgent).reference));
            assert!(part.contains("31 minutes"));
            assert!(part.contains("/admin/pages/abc?until=1"));
            assert!(part.contains("2026-12-05 08:00"));
        }
    }

    #[test]
    fn subjects_are_one_line_whatever_they_hold() {
        assert_eq!(one_line("a\r\nBcc: x@y.z\t b "), "a Bcc: x@y.z b");
        let mut c = case(Priority::Normal);
        c.queue_name = "Evil\r\nBcc: someone@example.org".into();
        let r = Mail::NewRequest {
            to: vec![email("q@taskforce.example")],
            case: c,
        }
        .render(&base())
        .unwrap();
        assert!(!r.subject.contains(['\r', '\n']));
    }

    #[test]
    fn ages_read_as_words() {
        assert_eq!(age_in_words(chrono::Duration::minutes(1)), "1 minute");
        assert_eq!(
            age_in_words(chrono::Duration::minutes(125)),
            "2 hours 5 minutes"
        );
        assert_eq!(age_in_words(chrono::Duration::hours(49)), "2 days 1 hour");
    }
}
