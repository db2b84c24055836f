//! Synthetic requests in bulk, for load tests and demonstrations (`case-triage demo-data`).
//!
//! Rows are made up but shaped like real intake: the category mix, priorities, routing by
//! the stored rules, ages spread over the last 90 days with a surge at the end (inflow
//! doubling over the last 20 days, so that the dashboard forecast has one to show), closings
//! by made-up caseworkers (so that it can measure a pace per caseworker), every status (closed ones with
//! `closed_at` and `is_open = false`), some repeat applicants (so duplicate matching has
//! work to do), Dari/Pashto names in Arabic script, personal data, duplicate keys and the
//! audit trail intake would write. They go in with multi-row inserts in large transactions,
//! so a million requests take minutes, not hours.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::intake::{profile_of_request, rows};
use crate::db::models::AuditEventRow;
use crate::db::requests::RequestRows;
use crate::db::{self, DbConnection, DbError};
use crate::domain::birth::BirthDate;
use crate::domain::fields::{phone_region, CaseNumber, ContactEmail, PersonName, PhoneNumber};
use crate::domain::intake::{Applicant, NewCaseRequest, Submitter};
use crate::domain::reference::random_token;
use crate::domain::vocab::{Language, ReferralProgram, SivStatus, SubmitterKind, UsTie};
use crate::domain::workflow::status_change;
use crate::domain::Actor;
use crate::domain::Classification;
use crate::domain::{
    route, CaseReference, Category, Location, Priority, RoutingFacts, Source, Status,
};

/// Requests per transaction.
const PER_TRANSACTION: usize = 10_000;
/// How far back the made-up requests go.
const DAYS: i64 = 90;
/// Over the last this many days the daily inflow rises steadily to twice what it was.
const SURGE_DAYS: i64 = 20;
/// One made-up caseworker (`demo-caseworker-NNN`, no account) closes for every this many
/// requests, so that each closes about as many a day as a real one might.
const REQUESTS_PER_CASEWORKER: u64 = 2_000;

const LATIN_GIVEN: &[&str] = &[
    "Ahmad",
    "Mohammad",
    "Abdul",
    "Farid",
    "Hamid",
    "Nasrin",
    "Zahra",
    "Fatima",
    "Mariam",
    "Sayed",
    "Habib",
    "Rahim",
    "Karim",
    "Shabnam",
    "Laila",
    "Wahid",
    "Jawad",
    "Sadia",
    "Omid",
    "Rahmatullah",
    "Gulalai",
    "Parwin",
    "Najib",
    "Hosai",
    "Bilal",
    "Sahar",
    "Tariq",
    "Yasin",
];
const LATIN_FAMILY: &[&str] = &[
    "Karimi",
    "Ahmadzai",
    "Rahimi",
    "Hakimi",
    "Noori",
    "Sultani",
    "Popal",
    "Wardak",
    "Stanikzai",
    "Safi",
    "Hashimi",
    "Amiri",
    "Mohammadi",
    "Jalali",
    "Qaderi",
    "Barakzai",
    "Niazi",
    "Sadat",
    "Haidari",
    "Azimi",
    "Yousufzai",
    "Durrani",
    "Mansoor",
    "Rezaei",
    "Tokhi",
    "Kakar",
];
const ARABIC_GIVEN: &[&str] = &[
    "احمد",
    "محمد",
    "فرید",
    "حمید",
    "نسرین",
    "زهرا",
    "فاطمه",
    "مریم",
    "حبیب",
    "رحیم",
    "لیلا",
    "شبنم",
    "جواد",
    "امید",
    "نجیب",
    "سحر",
];
const ARABIC_FAMILY: &[&str] = &[
    "کریمی",
    "احمدزی",
    "رحیمی",
    "حکیمی",
    "نوری",
    "سلطانی",
    "وردک",
    "صافی",
    "هاشمی",
    "امیری",
    "محمدی",
    "جلالی",
    "قادری",
    "نیازی",
    "سادات",
    "حیدری",
];
const DESCRIPTIONS: &[&str] = &[
    "We need to know what to do next.",
    "My family is in hiding and we need help urgently.",
    "I worked with the US embassy as an interpreter for six years.",
    "Our SIV application has been pending for two years.",
    "We crossed the border last month and have no documents.",
    "My brother is a US citizen and wants to sponsor us.",
];

/// What a run wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub requests: u64,
    pub repeat_applicants: u64,
    pub closed: u64,
    pub audit_events: u64,
    pub dedup_keys: u64,
}

/// One made-up applicant, kept so that a later request can come from the same person.
#[derive(Clone)]
struct Person {
    name: String,
    birth: Option<NaiveDate>,
    phone: Option<String>,
    email: Option<String>,
    case_number: Option<String>,
    location: Location,
    household: Option<i32>,
}

/// Writes `count` made-up requests; `progress` is called after each transaction with the
/// number written so far. The same `seed` gives the same people, categories and statuses.
pub fn fill(
    conn: &mut db::Conn,
    count: u64,
    seed: u64,
    now: NaiveDateTime,
    mut progress: impl FnMut(u64),
) -> Result<Counts, DbError> {
    let (rules, default_queue) = db::requests::routing_table(conn)?;
    if let DbConnection::Sqlite(c) = &mut **conn {
        // Random ids land all over the indexes: a large page cache keeps them in memory.
        use diesel::connection::SimpleConnection;
        c.batch_execute("PRAGMA cache_size = -262144")?;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut counts = Counts::default();
    let mut recent: Vec<Person> = Vec::with_capacity(1024);
    // References are 40 random bits: among a million, a repeat is likely (birthday bound).
    let mut references = std::collections::HashSet::with_capacity(count.min(10_000_000) as usize);
    let caseworkers = (count / REQUESTS_PER_CASEWORKER).clamp(1, 500) as u32;
    let mut left = count;
    while left > 0 {
        let n = left.min(PER_TRANSACTION as u64) as usize;
        let mut rows = RequestRows::default();
        for _ in 0..n {
            let repeat = !recent.is_empty() && rng.random_ratio(3, 100);
            let person = if repeat {
                counts.repeat_applicants += 1;
                recent[rng.random_range(0..recent.len())].clone()
            } else {
                let p = person(&mut rng);
                if recent.len() < 1024 {
                    recent.push(p.clone());
                } else {
                    let i = rng.random_range(0..recent.len());
                    recent[i] = p.clone();
                }
                p
            };
            add_request(
                &mut rows,
                &mut rng,
                &person,
                (&rules, &default_queue),
                now,
                caseworkers,
                &mut counts,
            );
            let last = rows.requests.last_mut().expect("just added");
            while !references.insert(last.reference.clone()) {
                last.reference = CaseReference::generate(&mut rng).to_string();
            }
        }
        rows.sort_by_key();
        for row in &rows.requests {
            rows.tally.add(row, 1);
        }
        counts.audit_events += rows.audit.len() as u64;
        counts.dedup_keys += rows.key_count() as u64;
        db::write_transaction(conn, |conn| rows.write_counts_in(conn, Some(0)))?;
        counts.requests += n as u64;
        left -= n as u64;
        progress(counts.requests);
    }
    Ok(counts)
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn person(rng: &mut StdRng) -> Person {
    let name = if rng.random_ratio(15, 100) {
        format!("{} {}", pick(rng, ARABIC_GIVEN), pick(rng, ARABIC_FAMILY))
    } else {
        format!("{} {}", pick(rng, LATIN_GIVEN), pick(rng, LATIN_FAMILY))
    };
    let birth = rng.random_ratio(85, 100).then(|| {
        NaiveDate::from_ymd_opt(rng.random_range(1950..2008), rng.random_range(1..=12), 1)
            .expect("a valid month")
            + Duration::days(rng.random_range(0..28))
    });
    let phone = rng.random_ratio(80, 100).then(|| {
        format!(
            "+93 7{:02} {:03} {:03}",
            rng.random_range(0..100),
            rng.random_range(0..1000),
            rng.random_range(0..1000)
        )
    });
    let email = rng.random_ratio(30, 100).then(|| {
        format!(
            "applicant{}@example.org",
            rng.random_range(0..100_000_000u32)
        )
    });
    let case_number = rng
        .random_ratio(25, 100)
        .then(|| format!("KBL{:07}", rng.random_range(0..10_000_000u32)));
    Person {
        name,
        birth,
        phone,
        email,
        case_number,
        location: *pick(rng, Location::ALL),
        household: rng.random_ratio(70, 100).then(|| rng.random_range(1..12)),
    }
}

/// Category by a rough real-world mix, and the priority that goes with it.
fn category(rng: &mut StdRng) -> (Category, Priority) {
    match rng.random_range(0..100) {
        0..5 => (Category::UrgentProtection, Priority::Urgent),
        5..10 => (Category::AmcitLpr, Priority::High),
        10..25 => (Category::SivApproved, Priority::High),
        25..50 => (Category::SivPending, Priority::Normal),
        50..60 => (Category::RefugeeReferral, Priority::Normal),
        60..68 => (Category::BorderArrival, Priority::High),
        68..92 => (Category::NoReferral, Priority::Normal),
        _ => (Category::Other, Priority::Normal),
    }
}

/// Older requests are more likely to be closed.
fn status(rng: &mut StdRng, age_days: i64) -> Status {
    let closed_share = (age_days * 80 / DAYS).clamp(5, 80) as u32;
    if rng.random_ratio(closed_share, 100) {
        *pick(
            rng,
            &[
                Status::Resolved,
                Status::Resolved,
                Status::ReferredOut,
                Status::ClosedDuplicate,
            ],
        )
    } else {
        *pick(
            rng,
            &[
                Status::New,
                Status::New,
                Status::Triaged,
                Status::InProgress,
                Status::AwaitingInformation,
            ],
        )
    }
}

/// How long ago a made-up request came in: evenly over `DAYS`, except that over the last
/// `SURGE_DAYS` the rate rises in a straight line to twice that (drawn by rejection).
fn surge_age(rng: &mut StdRng) -> Duration {
    let span = SURGE_DAYS * 86_400;
    loop {
        let secs = rng.random_range(0..DAYS * 86_400);
        // Weight 1 before the surge, 1 + (span − secs) / span within it; accepted at w / 2.
        let weight = span + (span - secs).max(0);
        if rng.random_range(0..2 * span) < weight {
            return Duration::seconds(secs);
        }
    }
}

/// The request a made-up person sends: typed as intake types every request, so that the
/// rows are built by intake's own row builders.
fn request_of(rng: &mut StdRng, p: &Person, source: Source, category: Category) -> NewCaseRequest {
    let made_up = "made-up data is valid";
    let org = rng.random_ratio(30, 100);
    NewCaseRequest {
        source,
        entered_by: None,
        submitter: Submitter {
            kind: if org {
                SubmitterKind::Organization
            } else {
                SubmitterKind::SelfApplicant
            },
            name: org.then(|| PersonName::parse("Case Worker").expect(made_up)),
            email: org.then(|| ContactEmail::parse("intake@ngo.example.org").expect(made_up)),
            phone: None,
            organization: org.then(|| "Example Relief NGO".to_string()),
        },
        applicant: Applicant {
            full_name: PersonName::parse(&p.name).expect(made_up),
            date_of_birth: p.birth.map(|d| BirthDate::stored(d, None, None)),
            phone: p
                .phone
                .as_deref()
                .map(|v| PhoneNumber::parse(v, phone_region(Some(p.location))).expect(made_up)),
            whatsapp: None,
            email: p
                .email
                .as_deref()
                .map(|v| ContactEmail::parse(v).expect(made_up)),
            location: p.location,
            household_size: p.household.and_then(|n| u16::try_from(n).ok()),
        },
        siv_status: SivStatus::None,
        siv_case_number: p
            .case_number
            .as_deref()
            .map(|v| CaseNumber::parse(v).expect(made_up)),
        referral_program: ReferralProgram::None,
        referred_by: None,
        claimed_programs: Default::default(),
        us_tie: UsTie::None,
        danger: category == Category::UrgentProtection,
        medical: false,
        description: Some(pick(rng, DESCRIPTIONS).to_string()),
        language: *pick(
            rng,
            &[Language::En, Language::En, Language::FaAf, Language::Ps],
        ),
    }
}

/// Adds a made-up request about `p` to `rows`: received some time in the last weeks (more
/// of them lately), and closed by a made-up caseworker when its status is a closed one.
fn add_request(
    rows: &mut RequestRows,
    rng: &mut StdRng,
    p: &Person,
    (rules, default_queue): (&[crate::domain::RoutingRule], &crate::domain::QueueSlug),
    now: NaiveDateTime,
    caseworkers: u32,
    counts: &mut Counts,
) {
    let age = surge_age(rng);
    let created = now - age;
    let (category, priority) = category(rng);
    let source = *pick(rng, &[Source::WebForm, Source::WebForm, Source::PartnerApi]);
    let request = request_of(rng, p, source, category);
    let decision = route(
        rules,
        &RoutingFacts {
            category,
            priority,
            source,
            location: p.location,
            sender_domain: None,
        },
        default_queue,
    );
    let classification = Classification {
        category,
        category_reason: "demo data",
        priority,
        priority_reason: "demo data".into(),
    };
    let reference = CaseReference::generate(rng);
    let receipt = random_token(rng);
    let mut row = rows::request(
        &request,
        &classification,
        &decision,
        reference,
        receipt,
        created.and_utc(),
    );
    rows.personal.push(rows::personal(&row.id, &request));
    rows.audit.extend(rows::audit(
        &row,
        &classification,
        &decision,
        &Actor::DemoData,
    ));
    let status = status(rng, age.num_days());
    if !status.is_open() {
        let took = Duration::seconds(rng.random_range(3_600..=age.num_seconds().max(3_600)));
        let at = (created + took).min(now);
        counts.closed += 1;
        let closer = format!("demo-caseworker-{:03}", rng.random_range(0..caseworkers));
        rows.audit.push(AuditEventRow::new(
            Some(&row.id),
            &Actor::Staff(closer),
            "status_changed",
            status_change(row.status, status),
            at,
        ));
        (row.status, row.is_open, row.closed_at, row.updated_at) = (status, false, Some(at), at);
    }
    rows.add_keys(
        &row.id,
        &profile_of_request(&request).blocking_keys(),
        created,
    );
    rows.requests.push(row);
}

/// What the raw baseline measured.
#[derive(Debug, Clone, Copy)]
pub struct RawResult {
    pub done: u64,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// The database floor under intake: `connections` threads, each with its own connection,
/// write the rows one intake writes (request, personal data, two audit events, its status
/// code, its duplicate keys, one queue notification in the outbox and the additions to the
/// maintained aggregates) with the statements intake uses for them, one transaction per
/// intake, as fast as they can for `duration`.
pub fn raw_intakes(
    url: &crate::config::DatabaseUrl,
    connections: usize,
    duration: std::time::Duration,
) -> Result<RawResult, DbError> {
    use db::outbox::{OutboxKind, OutboxRow};
    use std::time::Instant;
    let mut first = db::Manager::new(url.clone()).connect()?;
    let (rules, default_queue) = db::requests::routing_table(&mut first)?;
    drop(first);
    let started = Instant::now();
    let deadline = started + duration;
    let threads: Vec<_> = (0..connections)
        .map(|_| {
            let url = url.clone();
            let rules = rules.clone();
            let default_queue = default_queue.clone();
            std::thread::spawn(move || -> Result<Vec<f64>, DbError> {
                let mut conn = db::Manager::new(url).connect()?;
                let mut rng = StdRng::from_rng(&mut rand::rng());
                let mut latencies = Vec::new();
                let body_text = "x".repeat(900);
                let body_html = "<p>x</p>".repeat(250);
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    let now = chrono::Utc::now().naive_utc();
                    let mut rows = RequestRows::default();
                    let mut counts = Counts::default();
                    let p = person(&mut rng);
                    add_request(
                        &mut rows,
                        &mut rng,
                        &p,
                        (&rules, &default_queue),
                        now,
                        1,
                        &mut counts,
                    );
                    // A new request is open with status new, like intake's.
                    let row = &mut rows.requests[0];
                    row.status = Status::New;
                    row.is_open = true;
                    row.closed_at = None;
                    row.created_at = now;
                    row.updated_at = now;
                    rows.audit.truncate(2);
                    let row = row.clone();
                    rows.tally.add(&row, 1);
                    rows.status_codes.push(db::models::StatusCodeRow {
                        request_id: row.id.clone(),
                        code_hash: format!("{:064x}", rng.random::<u128>()),
                        code_plain: None,
                    });
                    rows.outbox.push(OutboxRow {
                        request_id: Some(row.id.clone()),
                        recipient: "triage@taskforce.example".into(),
                        subject: "New request".into(),
                        body_text: body_text.clone(),
                        body_html: body_html.clone(),
                        ..OutboxRow::pending(db::models::new_row_id(), OutboxKind::NewRequest, now)
                    });
                    // The statements intake itself uses for these rows.
                    db::write_transaction(&mut conn, |conn| rows.write(conn))?;
                    latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in threads {
        let l = t
            .join()
            .map_err(|_| DbError::Corrupt("a baseline writer panicked".into()))??;
        all.extend(l);
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let at = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    Ok(RawResult {
        done: all.len() as u64,
        seconds,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
    })
}
