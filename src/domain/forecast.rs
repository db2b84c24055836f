//! Where a backlog is heading, as plain arithmetic over daily counts: smoothed inflow and
//! closures, the backlog projected days ahead with a band, the SLA breaches the pace leaves,
//! what more caseworkers would change, and how far the same forecast was off two weeks ago.
//!
//! The band is the spread of Poisson arrivals, ±2√(λ̂·k) around B + k·(λ̂ − μ̂): arrivals are
//! what the task force does not control, closures are its own work and steadier. It does not
//! cover a change of pace (a surge); the backtest beside it shows how far that moved things.

use chrono::{Duration, NaiveDateTime};

use super::Priority;

/// Exponentially weighted moving average: `s₀ = x₀`, `sₜ = α·xₜ + (1 − α)·sₜ₋₁`.
pub fn ewma(xs: &[f64], alpha: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(xs.len());
    let mut s = None;
    for &x in xs {
        let next = match s {
            None => x,
            Some(prev) => alpha * x + (1.0 - alpha) * prev,
        };
        out.push(next);
        s = Some(next);
    }
    out
}

/// The last smoothed value of `xs`, 0 for none.
pub fn smoothed(xs: &[f64], alpha: f64) -> f64 {
    ewma(xs, alpha).last().copied().unwrap_or(0.0)
}

/// How many of the latest days carry 90% of the smoothing's weight, for the page's words.
pub fn days_weighing_most(alpha: f64) -> u32 {
    if alpha >= 1.0 {
        return 1;
    }
    (0.1f64.ln() / (1.0 - alpha).ln()).ceil().max(1.0) as u32
}

/// The backlog expected `days` ahead and its band, never below zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    pub days: u32,
    pub expected: f64,
    pub low: f64,
    pub high: f64,
}

/// Half the band's width `days` ahead: two standard deviations of Poisson arrivals.
pub fn band_half_width(inflow: f64, days: u32) -> f64 {
    2.0 * (inflow.max(0.0) * f64::from(days)).sqrt()
}

/// `backlog + days·(inflow − closures)` with its band, each clamped at zero.
pub fn project(backlog: f64, inflow: f64, closures: f64, days: u32) -> Projection {
    let centre = backlog + f64::from(days) * (inflow - closures);
    let half = band_half_width(inflow, days);
    Projection {
        days,
        expected: centre.max(0.0),
        low: (centre - half).max(0.0),
        high: (centre + half).max(0.0),
    }
}

/// Which way the backlog goes at the current pace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trend {
    /// Closures outrun inflow: the backlog is gone in this many days.
    Clearing { days: f64 },
    /// Inflow outruns closures by this many a day.
    Growing { per_day: f64 },
    /// Inflow and closures match (within a tenth of a request a day).
    Steady,
}

pub fn trend(backlog: f64, inflow: f64, closures: f64) -> Trend {
    let net = inflow - closures;
    if net.abs() < 0.1 {
        Trend::Steady
    } else if net < 0.0 {
        Trend::Clearing {
            days: backlog.max(0.0) / -net,
        }
    } else {
        Trend::Growing { per_day: net }
    }
}

/// Open requests of one priority received in one stretch of time (an hour, a day) that
/// starts at `from`; a list of them is in the order the queue lists requests, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Open {
    pub from: NaiveDateTime,
    pub priority: Priority,
    pub n: i64,
}

/// The SLA breaches expected `horizon_days` from `now`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BreachForecast {
    /// Open requests past their target by then: urgent, high, normal.
    pub by_priority: [i64; 3],
    /// Where the first stretch the pace does not reach at all starts (the list starts there).
    pub untouched_from: Option<NaiveDateTime>,
}

impl BreachForecast {
    pub fn total(&self) -> i64 {
        self.by_priority.iter().sum()
    }
}

pub fn priority_index(p: Priority) -> usize {
    match p {
        Priority::Urgent => 0,
        Priority::High => 1,
        Priority::Normal => 2,
    }
}

/// Requests are taken oldest first (the queue's order) at `closures` a day; whatever is
/// still open at `now + horizon_days` and was received more than its target before then is
/// a breach. `open` must be oldest first; `target_hours` is urgent, high, normal. A request
/// counts as received at the start of its stretch.
pub fn breaches_ahead(
    open: &[Open],
    closures: f64,
    horizon_days: u32,
    now: NaiveDateTime,
    target_hours: [u32; 3],
) -> BreachForecast {
    let then = now + Duration::days(horizon_days.into());
    let mut taken = (closures.max(0.0) * f64::from(horizon_days)).floor() as i64;
    let mut out = BreachForecast::default();
    for bucket in open {
        let left = bucket.n - taken.min(bucket.n);
        taken -= bucket.n - left;
        if left == 0 {
            continue;
        }
        if left == bucket.n && out.untouched_from.is_none() {
            out.untouched_from = Some(bucket.from);
        }
        let i = priority_index(bucket.priority);
        if bucket.from + Duration::hours(target_hours[i].into()) <= then {
            out.by_priority[i] += left;
        }
    }
    out
}

/// Days to clear `backlog` with `extra` more caseworkers closing `per_worker` a day each;
/// `None` when inflow still outruns closures.
pub fn days_to_clear(
    backlog: f64,
    inflow: f64,
    closures: f64,
    per_worker: f64,
    extra: u32,
) -> Option<f64> {
    let net = closures + f64::from(extra) * per_worker - inflow;
    (net > 0.0).then(|| backlog.max(0.0) / net)
}

/// The fewest more caseworkers that clear `backlog` within `target_days` (0 when the pace
/// already does); `None` without a measured rate per caseworker.
pub fn workers_needed(
    backlog: f64,
    inflow: f64,
    closures: f64,
    per_worker: f64,
    target_days: u32,
) -> Option<u32> {
    if per_worker <= 0.0 {
        return None;
    }
    let needed_rate = backlog.max(0.0) / f64::from(target_days.max(1)) + inflow - closures;
    Some((needed_rate / per_worker).ceil().max(0.0) as u32)
}

/// Little's law: the mean wait, in days, a steady queue with this backlog and inflow means.
pub fn littles_wait_days(backlog: f64, inflow: f64) -> Option<f64> {
    (inflow > 0.0).then(|| backlog.max(0.0) / inflow)
}

/// The forecast made `days` before the end of the history against what happened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backtest {
    pub days: u32,
    pub forecast: Projection,
    pub actual: f64,
    /// forecast − actual
    pub error: f64,
    /// |error| / actual; `None` when nothing was left
    pub relative: Option<f64>,
}

/// `inflow` and `closures` are whole days, oldest first, ending just before `backlog_now`
/// was counted. The backlog `days` earlier is worked back from them; the forecast then is
/// made from the days before it only.
pub fn backtest(
    inflow: &[f64],
    closures: &[f64],
    backlog_now: f64,
    alpha: f64,
    days: u32,
) -> Option<Backtest> {
    let k = days as usize;
    let n = inflow.len().min(closures.len());
    if n <= k {
        return None;
    }
    let (cut_in, cut_out) = (&inflow[..n - k], &closures[..n - k]);
    let since: f64 = inflow[n - k..n].iter().sum::<f64>() - closures[n - k..n].iter().sum::<f64>();
    let backlog_then = (backlog_now - since).max(0.0);
    let forecast = project(
        backlog_then,
        smoothed(cut_in, alpha),
        smoothed(cut_out, alpha),
        days,
    );
    let error = forecast.expected - backlog_now;
    Some(Backtest {
        days,
        forecast,
        actual: backlog_now,
        error,
        relative: (backlog_now > 0.0).then(|| error.abs() / backlog_now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn smoothing_starts_at_the_first_day_and_leans_to_the_latest() {
        assert_eq!(ewma(&[10.0, 20.0, 20.0], 0.5), vec![10.0, 15.0, 17.5]);
        assert_eq!(smoothed(&[], 0.25), 0.0);
        assert_eq!(days_weighing_most(0.25), 9);
        assert_eq!(days_weighing_most(1.0), 1);
    }

    #[test]
    fn the_trend_says_clearing_growing_or_steady() {
        assert_eq!(trend(100.0, 10.0, 20.0), Trend::Clearing { days: 10.0 });
        assert_eq!(trend(100.0, 25.0, 20.0), Trend::Growing { per_day: 5.0 });
        assert_eq!(trend(100.0, 20.0, 20.05), Trend::Steady);
    }

    #[test]
    fn the_pace_takes_the_oldest_first_and_the_rest_breach_by_their_targets() {
        let now = at("2026-03-20 12:00");
        let open = [
            Open {
                from: at("2026-03-01 09:00"),
                priority: Priority::Normal,
                n: 10,
            },
            Open {
                from: at("2026-03-10 09:00"),
                priority: Priority::Normal,
                n: 10,
            },
            Open {
                from: at("2026-03-20 09:00"),
                priority: Priority::Urgent,
                n: 3,
            },
            Open {
                from: at("2026-03-20 10:00"),
                priority: Priority::Normal,
                n: 5,
            },
        ];
        // 2 a day for 7 days: 14 taken, the first hour and 4 of the second.
        let f = breaches_ahead(&open, 2.0, 7, now, [24, 72, 336]);
        assert_eq!(f.by_priority, [3, 0, 6]);
        assert_eq!(f.total(), 9);
        assert_eq!(f.untouched_from, Some(at("2026-03-20 09:00")));
        let none = breaches_ahead(&open, 10.0, 7, now, [24, 72, 336]);
        assert_eq!(none.total(), 0);
        assert_eq!(none.untouched_from, None);
    }

    #[test]
    fn staffing_says_how_many_more_and_how_long() {
        // 300 open, 20 in and 20 out a day, 4 a day per caseworker.
        assert_eq!(days_to_clear(300.0, 20.0, 20.0, 4.0, 0), None);
        assert_eq!(days_to_clear(300.0, 20.0, 20.0, 4.0, 5), Some(15.0));
        assert_eq!(workers_needed(300.0, 20.0, 20.0, 4.0, 15), Some(5));
        assert_eq!(workers_needed(300.0, 20.0, 20.0, 4.0, 14), Some(6));
        assert_eq!(workers_needed(0.0, 10.0, 20.0, 4.0, 14), Some(0));
        assert_eq!(workers_needed(300.0, 20.0, 20.0, 0.0, 14), None);
        assert_eq!(littles_wait_days(300.0, 20.0), Some(15.0));
        assert_eq!(littles_wait_days(300.0, 0.0), None);
    }

    #[test]
    fn the_backtest_works_the_backlog_back_and_compares() {
        // 10 in and 10 out a day for 30 days, then 20 in for the last 14: the forecast made
        // before the surge expected the backlog to stay; it grew by 140.
        let mut inflow = vec![10.0; 30];
        inflow.extend([20.0; 14]);
        let closures = vec![10.0; 44];
        let b = backtest(&inflow, &closures, 240.0, 0.25, 14).unwrap();
        assert_eq!(b.forecast.expected, 100.0);
        assert_eq!(b.error, -140.0);
        assert!((b.relative.unwrap() - 140.0 / 240.0).abs() < 1e-9);
        assert_eq!(
            backtest(&inflow[..10], &closures[..10], 5.0, 0.25, 14),
            None
        );
    }

    proptest! {
        #[test]
        fn steady_inflow_equal_to_closures_projects_a_flat_backlog(
            rate in 0.0f64..500.0, backlog in 0.0f64..1e6, days in 1u32..90, alpha in 0.01f64..1.0
        ) {
            let xs = vec![rate; 60];
            let p = project(backlog, smoothed(&xs, alpha), smoothed(&xs, alpha), days);
            prop_assert!((p.expected - backlog).abs() < 1e-6 * backlog.max(1.0));
        }

        #[test]
        fn a_step_is_followed_at_the_rate_alpha_implies(
            before in 0.0f64..500.0, after in 0.0f64..500.0, alpha in 0.01f64..1.0, n in 0usize..40
        ) {
            let mut xs = vec![before; 20];
            xs.extend(std::iter::repeat_n(after, n + 1));
            let s = smoothed(&xs, alpha);
            let expected = after + (1.0 - alpha).powi(n as i32 + 1) * (before - after);
            prop_assert!((s - expected).abs() < 1e-9 * before.max(after).max(1.0));
        }

        #[test]
        fn the_band_widens_with_the_horizon(inflow in 0.01f64..500.0, days in 1u32..89) {
            prop_assert!(band_half_width(inflow, days + 1) > band_half_width(inflow, days));
        }

        #[test]
        fn no_projection_is_ever_negative(
            backlog in -10.0f64..1e6, inflow in 0.0f64..500.0, closures in 0.0f64..5000.0,
            days in 0u32..90
        ) {
            let p = project(backlog, inflow, closures, days);
            prop_assert!(p.low >= 0.0 && p.expected >= 0.0 && p.high >= 0.0);
            prop_assert!(p.low <= p.expected && p.expected <= p.high);
        }
    }
}
