//! Escalation of urgent requests: the chain of steps a queue pages through until a person
//! acknowledges, who is on duty when, the signed link a page carries, and when a case is
//! warned of its SLA target. Pure: the db layer stores chains and state, the app layer runs
//! the rounds.

use chrono::{Datelike, Duration, FixedOffset, NaiveDateTime, Timelike};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;
use std::str::FromStr;

/// The longest wait a step may have: a week.
pub const MAX_WAIT_MINUTES: u32 = 7 * 24 * 60;
/// The most steps a chain may have.
pub const MAX_STEPS: usize = 20;

/// Who one step of a chain pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Whoever is on duty for the queue now (the first of them).
    OnDuty,
    /// The next person on duty after the first (the backup), else the queue's list.
    NextOnDuty,
    /// The queue's notification addresses.
    QueueList,
    /// One named staff member, by user id.
    Staff(String),
}

impl Target {
    /// The stored kind: `on_duty`, `next_on_duty`, `queue` or `staff`.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::OnDuty => "on_duty",
            Target::NextOnDuty => "next_on_duty",
            Target::QueueList => "queue",
            Target::Staff(_) => "staff",
        }
    }

    /// From the stored kind and user id.
    pub fn parse(kind: &str, user_id: Option<&str>) -> Result<Self, ChainError> {
        match (kind, user_id) {
            ("on_duty", _) => Ok(Target::OnDuty),
            ("next_on_duty", _) => Ok(Target::NextOnDuty),
            ("queue", _) => Ok(Target::QueueList),
            ("staff", Some(id)) if !id.trim().is_empty() => Ok(Target::Staff(id.to_string())),
            ("staff", _) => Err(ChainError::NoStaffMember),
            _ => Err(ChainError::UnknownTarget),
        }
    }

    pub fn user_id(&self) -> Option<&str> {
        match self {
            Target::Staff(id) => Some(id),
            _ => None,
        }
    }

    /// In words, for the rota page and the history.
    pub fn label(&self) -> &'static str {
        match self {
            Target::OnDuty => "whoever is on duty",
            Target::NextOnDuty => "the next person on duty",
            Target::QueueList => "the queue's notification list",
            Target::Staff(_) => "a named staff member",
        }
    }
}

/// One step: whom to page, and how long to wait for an acknowledgment before the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub target: Target,
    pub wait_minutes: u32,
}

/// Why a chain cannot be used, naming the step at fault for the lead who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("an escalation chain needs at least one step")]
    NoSteps,
    #[error("an escalation chain has at most {MAX_STEPS} steps")]
    TooManySteps,
    #[error("step {0}: the wait before the next step must be at least one minute")]
    ZeroWait(usize),
    #[error("step {0}: the wait is at most a week ({MAX_WAIT_MINUTES} minutes)")]
    WaitTooLong(usize),
    #[error("choose the staff member a \"staff member\" step pages")]
    NoStaffMember,
    #[error("step {0}: {1} cannot see this queue; add them to it or choose someone else")]
    CannotSeeQueue(usize, String),
    #[error("unknown kind of step")]
    UnknownTarget,
}

/// An ordered chain of steps, valid by construction: at least one step, every wait at
/// least a minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    steps: Vec<Step>,
}

impl Chain {
    pub fn parse(steps: Vec<Step>) -> Result<Chain, ChainError> {
        if steps.is_empty() {
            return Err(ChainError::NoSteps);
        }
        if steps.len() > MAX_STEPS {
            return Err(ChainError::TooManySteps);
        }
        for (i, s) in steps.iter().enumerate() {
            if s.wait_minutes == 0 {
                return Err(ChainError::ZeroWait(i + 1));
            }
            if s.wait_minutes > MAX_WAIT_MINUTES {
                return Err(ChainError::WaitTooLong(i + 1));
            }
        }
        Ok(Chain { steps })
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The urgent desk's seeded chain: the on-duty officer at once, again after 15 minutes,
    /// then the next person; the leads after another 15 (migration 000030 seeds the same).
    pub fn urgent_desk_default() -> Chain {
        let step = |target| Step {
            target,
            wait_minutes: 15,
        };
        Chain {
            steps: vec![
                step(Target::OnDuty),
                step(Target::OnDuty),
                step(Target::NextOnDuty),
            ],
        }
    }
}

/// What the page numbered `index` (from 0) of an escalation is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next<'a> {
    /// Page `step` (its number in the chain, from 0), then wait `wait` for the next.
    Page {
        step: usize,
        target: &'a Target,
        wait: Duration,
    },
    /// The chain ran its rounds: notify the leads; no page follows.
    Leads,
    /// Nothing more to send.
    Done,
}

/// The chain runs `1 + repeats` times from the top, then the leads are notified once.
pub fn plan(chain: &Chain, repeats: u32, index: u32) -> Next<'_> {
    let len = chain.steps.len() as u64;
    let rounds = u64::from(repeats) + 1;
    let index = u64::from(index);
    if index < len * rounds {
        let step = (index % len) as usize;
        let s = &chain.steps[step];
        Next::Page {
            step,
            target: &s.target,
            wait: Duration::minutes(s.wait_minutes.into()),
        }
    } else if index == len * rounds {
        Next::Leads
    } else {
        Next::Done
    }
}

/// One slot of a queue's weekly duty schedule, in the task force's local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutySlot {
    pub user_id: String,
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u32,
    /// Minutes after local midnight the slot starts, 0-1439.
    pub start_minute: u32,
    /// Minutes after local midnight it ends (exclusive); at or before the start it runs
    /// past midnight into the next day; equal to the start: 24 hours.
    pub end_minute: u32,
}

impl DutySlot {
    /// Whether the slot covers `local` (a wall-clock time in the task force's zone).
    pub fn covers(&self, local: NaiveDateTime) -> bool {
        const WEEK: u32 = 7 * 1440;
        let at = local.weekday().num_days_from_monday() * 1440 + local.hour() * 60 + local.minute();
        let start = self.weekday * 1440 + self.start_minute;
        let length = if self.end_minute > self.start_minute {
            self.end_minute - self.start_minute
        } else {
            1440 - self.start_minute + self.end_minute
        };
        (at + WEEK - start) % WEEK < length
    }
}

/// Someone who said they are on or off duty for a queue, whatever the schedule says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyMark {
    pub user_id: String,
    pub on_duty: bool,
    pub set_at: NaiveDateTime,
}

/// Who is on duty at `now` (UTC), first to page first: those who marked themselves on
/// duty (earliest first), then the schedule's slots in their order, leaving out anyone
/// who marked themselves off.
pub fn on_duty(
    slots: &[DutySlot],
    marks: &[DutyMark],
    offset: FixedOffset,
    now: NaiveDateTime,
) -> Vec<String> {
    let local = now + Duration::seconds(offset.local_minus_utc().into());
    let mut on: Vec<&DutyMark> = marks.iter().filter(|m| m.on_duty).collect();
    on.sort_by_key(|m| m.set_at);
    let off = |id: &str| marks.iter().any(|m| !m.on_duty && m.user_id == id);
    let mut found: Vec<String> = on.into_iter().map(|m| m.user_id.clone()).collect();
    for slot in slots.iter().filter(|s| s.covers(local)) {
        if !off(&slot.user_id) && !found.contains(&slot.user_id) {
            found.push(slot.user_id.clone());
        }
    }
    found
}

/// Parses `+05:00`, `-03:30`, `Z` or `UTC`: the task force's offset from UTC.
pub fn parse_utc_offset(raw: &str) -> Option<FixedOffset> {
    let raw = raw.trim();
    if matches!(raw, "Z" | "UTC" | "+00:00" | "-00:00" | "00:00") {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match raw.as_bytes().first()? {
        b'+' => (1, &raw[1..]),
        b'-' => (-1, &raw[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// "08:00" to minutes after midnight; "24:00" ends a day.
pub fn parse_time_of_day(raw: &str) -> Option<u32> {
    let (h, m) = raw.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// Minutes after midnight as "08:00".
pub fn time_of_day(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The signature a page's link carries: HMAC-SHA256 over the page id and the link's
/// expiry (seconds since 1970), in hex. The page id is random and names nothing.
pub fn sign_link(key: &[u8], page_id: &str, until: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(format!("page:{page_id}:{until}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `signature` is the one `sign_link` makes, compared in constant time.
pub fn link_is_genuine(key: &[u8], page_id: &str, until: i64, signature: &str) -> bool {
    let Some(bytes) = from_hex(signature) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(format!("page:{page_id}:{until}").as_bytes());
    mac.verify_slice(&bytes).is_ok()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// A notice about a case's SLA target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlaWarning {
    /// Within the warning time of the target.
    Soon,
    /// At or past the target.
    Breached,
}

impl SlaWarning {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaWarning::Soon => "soon",
            SlaWarning::Breached => "breached",
        }
    }
}

impl FromStr for SlaWarning {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "soon" => Ok(SlaWarning::Soon),
            "breached" => Ok(SlaWarning::Breached),
            _ => Err(()),
        }
    }
}

impl fmt::Display for SlaWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a case received at `created_at` is due each warning: `lead` before its `target`
/// (none when the target is no longer than the lead), and at the target.
pub fn warning_times(
    created_at: NaiveDateTime,
    target: Duration,
    lead: Duration,
) -> [(SlaWarning, Option<NaiveDateTime>); 2] {
    [
        (
            SlaWarning::Soon,
            (target > lead).then(|| created_at + target - lead),
        ),
        (SlaWarning::Breached, Some(created_at + target)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(day: u32, h: u32, m: u32) -> NaiveDateTime {
        // 2026-11-30 is a Monday.
        let monday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        (monday + Duration::days(i64::from(day) - 1))
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    fn step(target: Target, wait: u32) -> Step {
        Step {
            target,
            wait_minutes: wait,
        }
    }

    #[test]
    fn bad_chains_are_refused_naming_the_step() {
        assert_eq!(Chain::parse(vec![]), Err(ChainError::NoSteps));
        assert_eq!(
            Chain::parse(vec![step(Target::OnDuty, 5), step(Target::QueueList, 0)]),
            Err(ChainError::ZeroWait(2))
        );
        assert_eq!(
            Chain::parse(vec![step(Target::OnDuty, MAX_WAIT_MINUTES + 1)]),
            Err(ChainError::WaitTooLong(1))
        );
        assert_eq!(Target::parse("staff", None), Err(ChainError::NoStaffMember));
        assert_eq!(Target::parse("robot", None), Err(ChainError::UnknownTarget));
    }

    #[test]
    fn the_chain_repeats_then_reaches_the_leads_once() {
        let chain =
            Chain::parse(vec![step(Target::OnDuty, 15), step(Target::QueueList, 30)]).unwrap();
        let pages: Vec<_> = (0..6).map(|i| plan(&chain, 1, i)).collect();
        assert!(matches!(pages[0], Next::Page { step: 0, .. }));
        assert!(
            matches!(pages[1], Next::Page { step: 1, wait, .. } if wait == Duration::minutes(30))
        );
        assert!(matches!(pages[2], Next::Page { step: 0, .. }));
        assert!(matches!(pages[3], Next::Page { step: 1, .. }));
        assert_eq!(pages[4], Next::Leads);
        assert_eq!(pages[5], Next::Done);
        let default = Chain::urgent_desk_default();
        assert_eq!(plan(&default, 0, 3), Next::Leads);
    }

    #[test]
    fn duty_follows_the_schedule_in_local_time_and_the_marks() {
        let slot = |user: &str, weekday, start, end| DutySlot {
            user_id: user.into(),
            weekday,
            start_minute: start,
            end_minute: end,
        };
        // Monday 08:00-20:00 amina, Monday night 20:00-08:00 bilal.
        let slots = [
            slot("amina", 0, 8 * 60, 20 * 60),
            slot("bilal", 0, 20 * 60, 8 * 60),
        ];
        let pk = parse_utc_offset("+05:00").unwrap();
        // 04:00 UTC Monday = 09:00 in Pakistan.
        assert_eq!(on_duty(&slots, &[], pk, at(1, 4, 0)), ["amina"]);
        // 20:00 UTC Monday = 01:00 Tuesday: the night slot runs past midnight.
        assert_eq!(on_duty(&slots, &[], pk, at(1, 20, 0)), ["bilal"]);
        // Tuesday 09:00 local: nobody.
        assert!(on_duty(&slots, &[], pk, at(2, 4, 0)).is_empty());
        let marks = [
            DutyMark {
                user_id: "chen".into(),
                on_duty: true,
                set_at: at(1, 0, 0),
            },
            DutyMark {
                user_id: "amina".into(),
                on_duty: false,
                set_at: at(1, 0, 0),
            },
        ];
        assert_eq!(on_duty(&slots, &marks, pk, at(1, 4, 0)), ["chen"]);
        // A slot whose end equals its start lasts the whole day.
        assert!(slot("x", 6, 0, 0).covers(at(7, 23, 59)));
    }

    #[test]
    fn offsets_and_times_parse_strictly() {
        assert_eq!(
            parse_utc_offset("+04:30").unwrap().local_minus_utc(),
            16_200
        );
        assert_eq!(
            parse_utc_offset("-03:00").unwrap().local_minus_utc(),
            -10_800
        );
        assert_eq!(parse_utc_offset("UTC").unwrap().local_minus_utc(), 0);
        for bad in ["Asia/Karachi", "+15:00", "5", "+05:75", ""] {
            assert!(parse_utc_offset(bad).is_none(), "{bad}");
        }
        assert_eq!(parse_time_of_day("08:30"), Some(510));
        assert_eq!(parse_time_of_day("24:00"), Some(1440));
        assert_eq!(parse_time_of_day("25:00"), None);
        assert_eq!(time_of_day(510), "08:30");
    }

    #[test]
    fn links_are_signed_over_the_page_and_its_expiry() {
        let key = b"0123456789abcdef";
        let sig = sign_link(key, "page-1", 1_800_000_000);
        assert!(link_is_genuine(key, "page-1", 1_800_000_000, &sig));
        assert!(!link_is_genuine(key, "page-1", 1_800_000_001, &sig));
        assert!(!link_is_genuine(key, "page-2", 1_800_000_000, &sig));
        assert!(!link_is_genuine(
            b"another key",
            "page-1",
            1_800_000_000,
            &sig
        ));
        assert!(!link_is_genuine(key, "page-1", 1_800_000_000, "zz"));
    }

    #[test]
    fn warnings_come_before_and_at_the_target() {
        let created = at(1, 0, 0);
        let [(soon, s), (breach, b)] =
            warning_times(created, Duration::hours(24), Duration::hours(4));
        assert_eq!((soon, s), (SlaWarning::Soon, Some(at(1, 20, 0))));
        assert_eq!((breach, b), (SlaWarning::Breached, Some(at(2, 0, 0))));
        let [(_, s), _] = warning_times(created, Duration::hours(2), Duration::hours(4));
        assert_eq!(s, None);
    }
}
