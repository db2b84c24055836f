//! The intake path every source shares (web form, partner API, staff entry): classify,
//! look for earlier requests about the same applicant, route, and store the request with
//! its duplicate keys, candidates, audit trail and the mail it causes (the requester's
//! acknowledgment, the queue's notification) in one transaction.

use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::config::Settings;
use crate::db::duplicates::{CandidateRow, KeysSeen, Recent, Recheck, StoredRequest};
use crate::db::models::{
    AuditEventRow, CaseRequestRow, GuidanceRow, PersonalDataRow, QueueRow, StatusCodeRow,
};
use crate::db::{self, DbConnection, DbError, Pool, Writer};
use crate::domain::birth::BirthDate;
use crate::domain::dedup::{
    assess, pick_candidates, Assessment, DedupPolicy, Profile, ProfileInput,
};
use crate::domain::reference::{random_token, status_code, status_code_hash};
use crate::domain::vocab::DuplicateStatus;
use crate::domain::vocab::SubmitterKind;
use crate::domain::Actor;
use crate::domain::{
    classify, route, CaseReference, Classification, Facts, NewCaseRequest, QueueSlug,
    RoutingDecision, RoutingFacts, RoutingRule, Status,
};
use crate::email::{self, CaseFacts, Guidance, Mail, MailError};

/// A request that is now stored and acknowledged.
#[derive(Debug, Clone)]
pub struct Created {
    pub row: CaseRequestRow,
    pub queue_name: String,
    /// References of earlier requests it may duplicate, most likely first.
    pub possible_duplicate_of: Vec<String>,
    /// Outbox rows written with the request: wake the worker when there are any.
    pub mails: usize,
    /// The applicant's status-check code in plain; only its hash is stored for good.
    pub status_code: String,
}

/// An earlier request that scored above the threshold.
#[derive(Debug, Clone)]
struct Duplicate {
    id: String,
    reference: String,
    queue_slug: String,
    assessment: Assessment,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the request's mail could not be written to the outbox")]
    Mail(#[source] MailError),
}

impl From<diesel::result::Error> for SubmitError {
    fn from(e: diesel::result::Error) -> Self {
        SubmitError::Db(e.into())
    }
}

impl From<MailError> for SubmitError {
    fn from(e: MailError) -> Self {
        match e {
            MailError::Db(db) => SubmitError::Db(db),
            other => SubmitError::Mail(other),
        }
    }
}

/// What intake reads before it writes: the routing rules, the queues and the guidance
/// texts. Loaded on a pool connection, so that the shared commit on SQLite only writes.
#[derive(Debug, Clone)]
pub struct Setup {
    rules: Vec<RoutingRule>,
    default_queue: QueueSlug,
    queues: HashMap<String, QueueRow>,
    guidance: HashMap<crate::domain::Category, GuidanceRow>,
}

impl Setup {
    pub fn load(conn: &mut DbConnection) -> Result<Setup, DbError> {
        let (rules, default_queue) = db::requests::routing_table(conn)?;
        Ok(Setup {
            rules,
            default_queue,
            queues: db::queues::by_slug(conn)?,
            guidance: db::requests::all_guidance(conn)?,
        })
    }

    /// A queue by slug; one created after the setup was loaded is read from the database.
    fn queue(&self, conn: &mut DbConnection, slug: &str) -> Result<QueueRow, DbError> {
        match self.queues.get(slug) {
            Some(queue) => Ok(queue.clone()),
            None => db::queues::find(conn, slug),
        }
    }
}

/// How long an instance reuses the intake setup it read. A change made on this instance is
/// seen at once (`Intake::forget_setup`); one made on another instance within this time.
const SETUP_TTL: Duration = Duration::from_secs(1);

/// Intake as the web side uses it: the setup, read at most once a second, and the writer
/// that stores the requests. Cheap to clone.
#[derive(Clone)]
pub struct Intake {
    pool: Pool,
    writer: Writer,
    setup: Arc<Mutex<CachedSetup>>,
}

#[derive(Default)]
struct CachedSetup {
    /// Bumped by every `forget_setup`: a setup read before it is not kept.
    generation: u64,
    loaded: Option<(Instant, Arc<Setup>)>,
}

impl Intake {
    /// What matching keeps between intakes, which a person search reads through too.
    pub fn recent(&self) -> &Arc<Recent> {
        self.writer.recent()
    }

    pub fn new(pool: Pool, writer: Writer) -> Intake {
        Intake {
            pool,
            writer,
            setup: Arc::default(),
        }
    }

    /// Drops the setup in memory; call after changing routing rules, queues or guidance.
    pub fn forget_setup(&self) {
        let mut cached = self.setup.lock().unwrap_or_else(PoisonError::into_inner);
        cached.generation += 1;
        cached.loaded = None;
    }

    async fn setup(&self) -> Result<Arc<Setup>, DbError> {
        let generation = {
            let cached = self.setup.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((at, setup)) = &cached.loaded {
                if at.elapsed() < SETUP_TTL {
                    return Ok(setup.clone());
                }
            }
            cached.generation
        };
        let setup = Arc::new(db::run(&self.pool, |conn| Setup::load(conn)).await?);
        let mut cached = self.setup.lock().unwrap_or_else(PoisonError::into_inner);
        if cached.generation == generation {
            cached.loaded = Some((Instant::now(), setup.clone()));
        }
        Ok(setup)
    }

    /// Stores validated requests, all of them or none: with the setup in memory (or read on
    /// the pool), through the writer, in a commit shared with the other intakes that arrive
    /// at the same time. Answers once they are committed.
    pub async fn submit(
        &self,
        settings: Arc<Settings>,
        requests: Vec<NewCaseRequest>,
        actor: Actor,
        partner_id: Option<String>,
        now: DateTime<Utc>,
        also: Option<Also>,
    ) -> Result<Vec<Created>, SubmitError> {
        let setup = self.setup().await?;
        // Duplicate matching against what is already committed runs before the shared
        // commit, on the pool, in parallel with other intakes; the commit only compares
        // what was filed since.
        let policy = settings.dedup;
        let committed = self.writer.committed();
        let recent = self.writer.recent().clone();
        let (requests, earlier) = db::run(&self.pool, move |conn| {
            let earlier = EarlierMatches::find(conn, recent, &policy, &requests, committed)?;
            Ok((requests, earlier))
        })
        .await?;
        let stored = self
            .writer
            .run(Some(earlier.recheck()), move |conn, rows| {
                let stored = store_all(
                    conn,
                    &settings,
                    &setup,
                    &earlier,
                    &requests,
                    (&actor, partner_id.as_deref(), also.as_ref()),
                    now,
                    rows,
                )?;
                if let Some(also) = &also {
                    for (row, ..) in &stored {
                        let audit = (also.write)(conn, row)?;
                        rows.audit.extend(audit);
                    }
                }
                Ok::<_, SubmitError>(stored)
            })
            .await?;
        Ok(announce(stored))
    }
}

/// What a channel adds to the commit of its requests: whether the requester is sent an
/// acknowledgment, and rows of its own written in the same transaction (mail in: its
/// ledger row and files), so that both are stored or neither. `write` answers audit rows
/// for the request, written with the request's own (after its row); it may run twice (the
/// second time alone, when its group failed).
#[derive(Clone)]
pub struct Also {
    pub acknowledge: bool,
    #[allow(clippy::type_complexity)]
    pub write: Arc<
        dyn Fn(&mut DbConnection, &CaseRequestRow) -> Result<Vec<AuditEventRow>, DbError>
            + Send
            + Sync,
    >,
}

/// The domain of a mail's sender, for rules on it: only for requests that came by mail.
fn sender_domain(request: &NewCaseRequest) -> Option<String> {
    if request.source != crate::domain::Source::Email {
        return None;
    }
    let email = request.submitter.email.as_ref()?;
    let (_, domain) = email.as_str().rsplit_once('@')?;
    Some(domain.to_ascii_lowercase())
}

/// What a request's classification and routing decided before it is stored.
struct Prepared<'a> {
    request: &'a NewCaseRequest,
    classification: Classification,
    decision: RoutingDecision,
    /// The search among committed requests before the commit.
    searched: &'a Searched,
}

/// Classifies, matches and routes `requests` and gathers their rows in `rows`, for the
/// caller to write in the same transaction. `by`: who submitted them for the audit trail
/// (never personal data), and the partner whose token sent them. Later requests are
/// matched against earlier ones of the same call like any other request.
#[allow(clippy::too_many_arguments)]
fn store_all(
    conn: &mut DbConnection,
    settings: &Settings,
    setup: &Setup,
    earlier: &EarlierMatches,
    requests: &[NewCaseRequest],
    by: (&Actor, Option<&str>, Option<&Also>),
    now: DateTime<Utc>,
    rows: &mut db::requests::RequestRows,
) -> Result<Vec<Stored>, SubmitError> {
    let mut rng = rand::rng();
    requests
        .iter()
        .zip(&earlier.per_request)
        .map(|(request, searched)| {
            let classification = classify(&Facts::of(request, now.date_naive()));
            let decision = route(
                &setup.rules,
                &RoutingFacts {
                    category: classification.category,
                    priority: classification.priority,
                    source: request.source,
                    location: request.applicant.location,
                    sender_domain: sender_domain(request),
                },
                &setup.default_queue,
            );
            let p = Prepared {
                request,
                classification,
                decision,
                searched,
            };
            let drawn = (
                CaseReference::generate(&mut rng),
                random_token(&mut rng),
                status_code(&mut rng),
            );
            store_one(conn, settings, setup, &p, earlier, drawn, by, now, rows)
        })
        .collect()
}

/// Logs what was stored, once it is committed, and answers with it.
fn announce(stored: Vec<Stored>) -> Vec<Created> {
    stored
        .into_iter()
        .map(|(row, duplicates, queue_name, mails, status_code)| {
            tracing::info!(
                reference_id = %row.id,
                category = %row.category,
                priority = %row.priority,
                queue = %row.queue_slug,
                source = %row.source,
                possible_duplicates = duplicates.len(),
                mails,
                "request created"
            );
            Created {
                row,
                queue_name,
                possible_duplicate_of: duplicates.into_iter().map(|d| d.reference).collect(),
                mails,
                status_code,
            }
        })
        .collect()
}

type Stored = (CaseRequestRow, Vec<Duplicate>, String, usize, String);

/// Matches one prepared request and gathers its row, keys, candidates, audit rows, mail
/// and counts in `rows`. Call inside a transaction.
#[allow(clippy::too_many_arguments)]
fn store_one(
    conn: &mut DbConnection,
    settings: &Settings,
    setup: &Setup,
    p: &Prepared,
    earlier: &EarlierMatches,
    (reference, token, code): (CaseReference, String, String),
    (actor, partner_id, also): (&Actor, Option<&str>, Option<&Also>),
    now: DateTime<Utc>,
    rows: &mut db::requests::RequestRows,
) -> Result<Stored, SubmitError> {
    let policy = &settings.dedup;
    let classification = &p.classification;
    // Matched against the requests gathered for this commit and those filed since the
    // search outside, besides what that search found.
    let searched = p.searched;
    let among = Among {
        seen: Some(earlier.seen),
        skip: Some(&searched.looked_at),
    };
    let (mut duplicates, _) = find_duplicates_among(
        conn,
        &earlier.recent,
        &searched.profile,
        &searched.keys,
        policy,
        among,
        rows,
    )?;
    duplicates.extend(searched.found.iter().cloned());
    best_first(&mut duplicates);
    let decision = match duplicates.first() {
        // Urgent protection is never diverted from its own desk by a match.
        Some(original)
            if policy.route_to_original
                && classification.priority != crate::domain::Priority::Urgent =>
        {
            RoutingDecision {
                queue: QueueSlug::parse(&original.queue_slug)
                    .map_err(|_| DbError::Corrupt("case_requests.queue_slug".into()))?,
                rule_id: None,
                rule_name: Some(format!("possible duplicate of {}", original.reference)),
            }
        }
        _ => p.decision.clone(),
    };
    let mut row = rows::request(p.request, classification, &decision, reference, token, now);
    row.partner_id = partner_id.map(str::to_string);

    let personal = rows::personal(&row.id, p.request);
    let mut audit = rows::audit(&row, classification, &decision, actor);
    if !duplicates.is_empty() {
        audit.push(duplicate_audit_row(&row, &duplicates));
    }
    let queue = setup.queue(conn, &row.queue_slug)?;
    let guidance = setup.guidance.get(&classification.category);
    let mut mails = 0;
    let acknowledge = also.is_none_or(|a| a.acknowledge);
    for mail in mails_for(
        p.request,
        &row,
        classification,
        &queue,
        guidance,
        &code,
        acknowledge,
    ) {
        mails += email::enqueue_into(conn, &mut rows.outbox, settings, &mail, now)?;
    }
    if super::escalation::escalates(row.category) {
        // In the request's own commit: an urgent request is never stored without it.
        let now = row.created_at;
        rows.escalations
            .push(db::escalation::EscalationRow::starting(
                &row.id,
                &row.queue_slug,
                now,
            ));
        audit.push(db::models::AuditEventRow::new(
            Some(&row.id),
            &crate::domain::Actor::System,
            "escalation_started",
            "urgent: paging until someone takes the case".into(),
            now,
        ));
    }
    rows.personal.push(personal);
    rows.audit.extend(audit);
    rows.status_codes.push(StatusCodeRow {
        request_id: row.id.clone(),
        code_hash: status_code_hash(&code),
        // Only the web form's confirmation page needs the plain code after this.
        code_plain: (p.request.source == crate::domain::Source::WebForm).then(|| code.clone()),
    });
    rows.add_keys(&row.id, &searched.keys, row.created_at);
    rows.candidates.extend(candidate_rows(&row, &duplicates));
    rows.tally.add(&row, 1);
    rows.requests.push(row.clone());
    Ok((row, duplicates, queue.name, mails, code))
}

/// The mail a new request causes: an acknowledgment when the requester gave an address,
/// and a notification to the queue's addresses.
fn mails_for(
    request: &NewCaseRequest,
    row: &CaseRequestRow,
    c: &Classification,
    queue: &QueueRow,
    guidance: Option<&GuidanceRow>,
    status_code: &str,
    acknowledge: bool,
) -> Vec<Mail> {
    let case = CaseFacts {
        request_id: row.id.clone(),
        reference: row.reference.clone(),
        category: c.category,
        priority: c.priority,
        queue_name: queue.name.clone(),
    };
    let mut mails = Vec::new();
    if let Some(to) = request.reply_email().filter(|_| acknowledge) {
        let stored = guidance.map(|g| Guidance {
            body: g.body.clone(),
            next_steps: g.next_steps.clone(),
        });
        mails.push(Mail::Acknowledgment {
            to: to.clone(),
            case: case.clone(),
            guidance: Guidance::in_language(request.language, c.category, stored),
            language: request.language,
            status_code: status_code.to_string(),
        });
    }
    let staff = email::address_list(&queue.notify_emails);
    if !staff.is_empty() {
        mails.push(Mail::NewRequest { to: staff, case });
    }
    mails
}

/// Which stored requests a search compares: those filed after `seen` (all when `None`),
/// leaving out those in `skip`.
#[derive(Default, Clone, Copy)]
struct Among<'a> {
    seen: Option<KeysSeen>,
    skip: Option<&'a HashSet<String>>,
}

/// Earlier requests scoring at least the threshold, best first: the stored ones `among`
/// says, and those `gathered` for the same commit. Only requests sharing a blocking key
/// are scored, at most `MAX_CANDIDATES`. Also returns the ids of stored requests it looked
/// at (all it found under the keys, including those left unscored by that bound).
fn find_duplicates_among(
    conn: &mut DbConnection,
    recent: &Recent,
    profile: &Profile,
    keys: &[String],
    policy: &DedupPolicy,
    Among { seen, skip }: Among,
    gathered: &db::requests::RequestRows,
) -> Result<(Vec<Duplicate>, HashSet<String>), DbError> {
    let mut matches = match seen {
        None => db::duplicates::key_matches(conn, recent, keys)?,
        Some(seen) => match gathered.filed_since.matches(keys, seen) {
            Some(read) => read,
            None => db::duplicates::key_matches_after(conn, recent, keys, seen)?,
        },
    };
    if let Some(skip) = skip {
        matches.retain(|m| !skip.contains(&m.request_id));
    }
    // Every request found under the keys counts as looked at, scored or not: a second
    // search (inside the shared commit) only needs what arrived after this one.
    let looked_at: HashSet<String> = matches.iter().map(|m| m.request_id.clone()).collect();
    matches.extend(gathered.key_matches(keys));
    let ids = pick_candidates(keys, matches);
    if ids.is_empty() {
        return Ok((Vec::new(), looked_at));
    }
    let mut earlier = Vec::with_capacity(ids.len());
    let mut stored = Vec::new();
    for id in ids {
        match gathered.stored(&id) {
            Some(held) => earlier.push(held),
            None => stored.push(id),
        }
    }
    if !stored.is_empty() {
        earlier.extend(db::duplicates::load_requests(conn, recent, &stored)?);
    }
    let mut found: Vec<Duplicate> = earlier
        .into_iter()
        .filter_map(|earlier| {
            let assessment = assess(profile, &profile_of_stored(&earlier));
            (assessment.score >= policy.threshold).then_some(Duplicate {
                id: earlier.id.clone(),
                reference: earlier.reference.clone(),
                queue_slug: earlier.queue_slug.clone(),
                assessment,
            })
        })
        .collect();
    best_first(&mut found);
    Ok((found, looked_at))
}

fn best_first(found: &mut [Duplicate]) {
    found.sort_by(|a, b| {
        b.assessment
            .score
            .total_cmp(&a.assessment.score)
            .then_with(|| a.reference.cmp(&b.reference))
    });
}

/// How far before its own search a request's matching looks again inside the shared
/// commit: a request created before the search but committed after it is still compared.
const RECHECK_MARGIN_SECS: i64 = 60;

/// What matching found among the committed requests before the shared commit, one entry
/// per request of the intake, so the commit itself only compares what arrived since.
#[derive(Debug)]
pub struct EarlierMatches {
    seen: KeysSeen,
    per_request: Vec<Searched>,
    /// What matching keeps between intakes (the writer's).
    recent: Arc<Recent>,
}

/// One request's search: its applicant's profile and keys, the ids looked at, and those
/// that scored.
#[derive(Debug)]
struct Searched {
    profile: Profile,
    keys: Vec<String>,
    looked_at: HashSet<String>,
    found: Vec<Duplicate>,
}

impl EarlierMatches {
    /// Matches each request against the committed ones, on a pool connection and in
    /// parallel with other intakes.
    pub fn find(
        conn: &mut DbConnection,
        recent: Arc<Recent>,
        policy: &DedupPolicy,
        requests: &[NewCaseRequest],
        committed: u64,
    ) -> Result<EarlierMatches, DbError> {
        let since = Utc::now().naive_utc() - chrono::Duration::seconds(RECHECK_MARGIN_SECS);
        let seen = db::duplicates::keys_seen(conn, since, committed)?;
        let per_request = requests
            .iter()
            .map(|r| {
                let profile = profile_of_request(r);
                let keys = profile.blocking_keys();
                let nothing_gathered = db::requests::RequestRows::default();
                let (found, looked_at) = find_duplicates_among(
                    conn,
                    &recent,
                    &profile,
                    &keys,
                    policy,
                    Among::default(),
                    &nothing_gathered,
                )?;
                Ok(Searched {
                    profile,
                    keys,
                    looked_at,
                    found,
                })
            })
            .collect::<Result<_, DbError>>()?;
        Ok(EarlierMatches {
            seen,
            per_request,
            recent,
        })
    }

    /// The search the shared commit makes again, among what was filed since: all the
    /// requests' keys.
    fn recheck(&self) -> Recheck {
        Recheck {
            seen: self.seen,
            keys: self
                .per_request
                .iter()
                .flat_map(|s| s.keys.clone())
                .collect(),
        }
    }
}

/// The applicant of a new request. The submitter's own phone and email count only when
/// they are the applicant: an NGO's or sponsor's contact is shared by many families.
pub fn profile_of_request(r: &NewCaseRequest) -> Profile {
    let is_self = r.submitter.kind == SubmitterKind::SelfApplicant;
    let mut phones: Vec<&str> = [&r.applicant.phone, &r.applicant.whatsapp]
        .into_iter()
        .flatten()
        .map(|p| p.as_str())
        .collect();
    let mut emails: Vec<&str> = r.applicant.email.iter().map(|e| e.as_str()).collect();
    if is_self {
        phones.extend(r.submitter.phone.iter().map(|p| p.as_str()));
        emails.extend(r.submitter.email.iter().map(|e| e.as_str()));
    }
    let cases: Vec<&str> = r.siv_case_number.iter().map(|c| c.as_str()).collect();
    Profile::new(ProfileInput {
        full_name: r.applicant.full_name.as_str(),
        birth: r.applicant.date_of_birth.map(BirthDate::birth),
        phones: &phones,
        emails: &emails,
        case_numbers: &cases,
        household_size: r.applicant.household_size,
        location: Some(r.applicant.location.as_str()),
    })
}

/// The applicant of a stored request, by the same rules as `profile_of_request`.
pub(crate) fn profile_of_stored(s: &StoredRequest) -> Profile {
    let p = &s.personal;
    let is_self = s.submitter_kind == SubmitterKind::SelfApplicant.as_str();
    let mut phones: Vec<&str> = [&p.applicant_phone, &p.applicant_whatsapp]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let mut emails: Vec<&str> = p.applicant_email.iter().map(String::as_str).collect();
    if is_self {
        phones.extend(p.submitter_phone.iter().map(String::as_str));
        emails.extend(p.submitter_email.iter().map(String::as_str));
    }
    let cases: Vec<&str> = p.siv_case_number.iter().map(String::as_str).collect();
    Profile::new(ProfileInput {
        full_name: &p.applicant_full_name,
        birth: p
            .applicant_date_of_birth
            .map(|d| BirthDate::stored(d, p.applicant_date_of_birth_precision, None).birth()),
        phones: &phones,
        emails: &emails,
        case_numbers: &cases,
        household_size: s.household_size.and_then(|n| u16::try_from(n).ok()),
        location: Some(&s.location),
    })
}

fn candidate_rows(row: &CaseRequestRow, duplicates: &[Duplicate]) -> Vec<CandidateRow> {
    duplicates
        .iter()
        .map(|d| CandidateRow {
            request_id: row.id.clone(),
            candidate_id: d.id.clone(),
            score: (d.assessment.score * 1000.0).round() as i32,
            reasons: serde_json::to_string(&d.assessment.reasons).unwrap_or_else(|_| "[]".into()),
            status: DuplicateStatus::Suggested,
            created_at: row.created_at,
            decided_at: None,
            decided_by: None,
        })
        .collect()
}

/// "possible duplicate of TF-… (0.97: same phone, …)"; the reasons name evidence, never
/// the personal data itself.
fn duplicate_audit_row(row: &CaseRequestRow, duplicates: &[Duplicate]) -> AuditEventRow {
    let list = duplicates
        .iter()
        .map(|d| {
            format!(
                "{} ({:.2}: {})",
                d.reference,
                d.assessment.score,
                d.assessment.reasons.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    AuditEventRow::new(
        Some(&row.id),
        &Actor::System,
        "possible_duplicate",
        format!("possible duplicate of {list}"),
        row.created_at + chrono::Duration::microseconds(2),
    )
}

/// The rows of a new request, one copy of each: intake and the demo data build them here.
pub mod rows {
    use super::*;

    /// The request row of a new request, received at `now`: status new, unassigned.
    pub fn request(
        r: &NewCaseRequest,
        c: &Classification,
        d: &RoutingDecision,
        reference: CaseReference,
        receipt_token: String,
        now: DateTime<Utc>,
    ) -> CaseRequestRow {
        let now = now.naive_utc();
        CaseRequestRow {
            id: crate::db::models::new_row_id(),
            reference: reference.to_string(),
            receipt_token,
            source: r.source,
            submitter_kind: r.submitter.kind,
            applicant_location: r.applicant.location,
            household_size: r.applicant.household_size.map(i32::from),
            siv_status: r.siv_status,
            referral_program: r.referral_program,
            claimed_programs: crate::domain::vocab::Programs(
                r.claimed_programs.iter().copied().collect(),
            ),
            us_tie: r.us_tie,
            urgent_danger: r.danger,
            urgent_medical: r.medical,
            category: c.category,
            category_reason: c.category_reason.to_string(),
            priority: c.priority,
            priority_reason: c.priority_reason.clone(),
            queue_slug: d.queue.as_str().to_string(),
            routing_rule_id: d.rule_id.clone(),
            routing_rule_name: d.rule_name.clone(),
            status: Status::New,
            consent_at: now,
            created_at: now,
            updated_at: now,
            assignee_id: None,
            entered_by: r.entered_by.clone(),
            closed_at: None,
            is_open: true,
            language: r.language,
            partner_id: None,
        }
    }

    /// Its personal data, in the row apart that purge anonymizes.
    pub fn personal(request_id: &str, r: &NewCaseRequest) -> PersonalDataRow {
        let text = |o: Option<&str>| o.map(str::to_string);
        PersonalDataRow {
            request_id: request_id.to_string(),
            submitter_name: text(r.submitter.name.as_ref().map(|n| n.as_str())),
            submitter_email: text(r.submitter.email.as_ref().map(|e| e.as_str())),
            submitter_phone: text(r.submitter.phone.as_ref().map(|p| p.as_str())),
            submitter_organization: r.submitter.organization.clone(),
            applicant_full_name: r.applicant.full_name.as_str().to_string(),
            applicant_date_of_birth: r.applicant.date_of_birth.map(|b| b.date),
            applicant_date_of_birth_precision: r.applicant.date_of_birth.map(|b| b.precision),
            applicant_date_of_birth_calendar: r.applicant.date_of_birth.map(|b| b.calendar),
            applicant_phone: text(r.applicant.phone.as_ref().map(|p| p.as_str())),
            applicant_whatsapp: text(r.applicant.whatsapp.as_ref().map(|p| p.as_str())),
            applicant_email: text(r.applicant.email.as_ref().map(|e| e.as_str())),
            siv_case_number: r.siv_case_number.as_ref().map(|n| n.to_string()),
            referred_by: r.referred_by.clone(),
            description: r.description.clone(),
        }
    }

    /// Its first two audit rows: created (with what classification said) and routed.
    pub fn audit(
        row: &CaseRequestRow,
        c: &Classification,
        d: &RoutingDecision,
        actor: &Actor,
    ) -> Vec<AuditEventRow> {
        let id = Some(row.id.as_str());
        let routed = match (&d.rule_id, &d.rule_name) {
            (Some(_), Some(name)) => format!("to {} by rule \"{name}\"", d.queue.as_str()),
            // Routed after the earlier request it may duplicate.
            (None, Some(why)) => format!("to {}: {why}", d.queue.as_str()),
            _ => format!("to {} (default queue: no rule matched)", d.queue.as_str()),
        };
        vec![
            AuditEventRow::new(
                id,
                actor,
                "created",
                format!(
                    "via {}; category {} ({}); priority {} ({})",
                    row.source, c.category, c.category_reason, c.priority, c.priority_reason
                ),
                row.created_at,
            ),
            // Routing follows creation; a microsecond keeps the timeline in that order.
            AuditEventRow::new(
                id,
                &Actor::System,
                "routed",
                routed,
                row.created_at + chrono::Duration::microseconds(1),
            ),
        ]
    }
}

/// Logs `requests` (one, or a batch) from any channel: the use case behind the form, the
/// API, walk-ins and the CSV upload. Wakes the outbox worker when the commit wrote mail,
/// and counts each stored request by category and source.
pub async fn submit(
    app: &super::AppState,
    requests: Vec<NewCaseRequest>,
    actor: Actor,
    partner_id: Option<String>,
    now: DateTime<Utc>,
) -> Result<Vec<Created>, SubmitError> {
    submit_with(app, requests, actor, partner_id, now, None).await
}

/// `submit`, with what the channel adds to the commit (`Also`).
pub async fn submit_with(
    app: &super::AppState,
    requests: Vec<NewCaseRequest>,
    actor: Actor,
    partner_id: Option<String>,
    now: DateTime<Utc>,
    also: Option<Also>,
) -> Result<Vec<Created>, SubmitError> {
    let created = app
        .intake
        .submit(app.settings.clone(), requests, actor, partner_id, now, also)
        .await?;
    app.wake_for(created.iter().map(|c| c.mails).sum());
    if created
        .iter()
        .any(|c| super::escalation::escalates(c.row.category))
    {
        app.escalation.wake();
    }
    for c in &created {
        app.metrics.intake(c.row.category, c.row.source);
    }
    Ok(created)
}
