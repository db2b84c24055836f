//! The dashboard's forecast section as the template shows it: every number in words with its
//! window, and the chart's geometry (history bars, projection line and band) worked out here
//! so that the template only places it. No JavaScript.

use chrono::{Duration, NaiveDateTime};

use crate::app::forecast::{
    Forecast, QueueForecast, BACKTEST_DAYS, BREACH_DAYS, CLOSINGS_READ, HISTORY_DAYS, HORIZONS,
    STAFF_WINDOW_DAYS,
};
use crate::domain::forecast::{self as f, Projection, Trend};

/// The chart's frame, in SVG units.
const WIDTH: u32 = 720;
const LEFT: u32 = 56;
const TOP: u32 = 28;
const PLOT_HEIGHT: u32 = 170;
/// One day's width: 60 days of history and 30 ahead.
const SLOT: u32 = 7;

pub struct ChartBar {
    pub x: u32,
    pub y: u32,
    pub h: u32,
    pub title: String,
}

pub struct Tick {
    pub at: u32,
    pub label: String,
}

pub struct Chart {
    pub id: String,
    pub title: String,
    pub width: u32,
    pub height: u32,
    pub left: u32,
    pub right: u32,
    pub base: u32,
    pub bars: Vec<ChartBar>,
    /// `points` of the projection polyline and of the band polygon.
    pub line: String,
    pub band: String,
    pub today_x: u32,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    pub legend_y: u32,
}

pub struct ProjectionText {
    pub days: u32,
    pub expected: String,
    pub range: String,
}

pub struct QueueView {
    pub name: String,
    pub slug: Option<String>,
    pub backlog: i64,
    pub inflow: String,
    pub closures: String,
    pub projections: Vec<ProjectionText>,
    pub trend: String,
    pub breaches: i64,
    pub breaches_by_priority: [i64; 3],
    pub caseworkers: usize,
    pub with_more: Vec<String>,
    pub needed: String,
    pub littles: String,
    pub measured: String,
    pub backtest: String,
    /// Whether there is anything to draw: requests open now or in the history.
    pub has_chart: bool,
    pub chart: Chart,
}

pub struct BreachRow {
    pub reference: String,
    pub queue: String,
    pub priority: &'static str,
    pub past_target: String,
}

pub struct ForecastView {
    pub pace: String,
    /// All queues together first, then each queue.
    pub rows: Vec<QueueView>,
    pub breaches: Vec<BreachRow>,
    pub per_caseworker: String,
    pub extra: Vec<u32>,
    pub target_days: u32,
    pub history_days: i64,
    pub breach_days: u32,
    /// Which closings the pace per caseworker and the measured wait are read from.
    pub closings: String,
    pub backtest_days: u32,
}

impl ForecastView {
    pub fn of(fc: &Forecast) -> Self {
        let since = fc.now - fc.closings_from;
        let closings = if since >= Duration::days(STAFF_WINDOW_DAYS) - Duration::minutes(1) {
            format!("the last {STAFF_WINDOW_DAYS} days")
        } else if since >= Duration::days(2) {
            format!(
                "the latest {CLOSINGS_READ} closings, over the last {} days",
                since.num_days()
            )
        } else {
            format!(
                "the latest {CLOSINGS_READ} closings, over the last {} hours",
                since.num_hours().max(1)
            )
        };
        let per_caseworker = match fc.per_caseworker {
            Some(r) => format!(
                "{} closed a day per caseworker (over {closings}, counting the {} caseworkers \
                 who closed any)",
                one_decimal(r),
                fc.caseworkers
            ),
            None => format!(
                "not measured: no caseworker closed a request in the last {STAFF_WINDOW_DAYS} days"
            ),
        };
        ForecastView {
            pace: format!(
                "“At the recent pace” means a smoothed daily average of the last {HISTORY_DAYS} \
                 whole days in which the latest {} days count for 90% (smoothing α = {}).",
                fc.weighing_days, fc.alpha
            ),
            rows: std::iter::once(queue_view(&fc.total, fc.now, "total"))
                .chain(
                    fc.queues
                        .iter()
                        .enumerate()
                        .map(|(i, q)| queue_view(q, fc.now, &format!("q{i}"))),
                )
                .collect(),
            breaches: fc
                .breaches
                .iter()
                .map(|b| BreachRow {
                    reference: b.reference.clone(),
                    queue: b.queue.clone(),
                    priority: b.priority.label(),
                    past_target: when(b.past_target_at, fc.now),
                })
                .collect(),
            per_caseworker,
            extra: crate::app::forecast::EXTRA_WORKERS.to_vec(),
            target_days: fc.target_days,
            history_days: HISTORY_DAYS,
            breach_days: BREACH_DAYS,
            closings,
            backtest_days: BACKTEST_DAYS,
        }
    }
}

fn one_decimal(x: f64) -> String {
    format!("{x:.1}")
}

fn whole(x: f64) -> String {
    format!("{:.0}", x.round())
}

/// "in 3 d 4 h", to the hour.
fn when(t: NaiveDateTime, now: NaiveDateTime) -> String {
    let h = (t - now).num_hours().max(0);
    if h >= 24 {
        format!("in {} d {} h", h / 24, h % 24)
    } else {
        format!("in {h} h")
    }
}

fn days_text(d: f64) -> String {
    if d < 1.0 {
        "under a day".to_string()
    } else {
        format!("{} days", d.ceil() as i64)
    }
}

fn projection_text(p: &Projection) -> ProjectionText {
    ProjectionText {
        days: p.days,
        expected: whole(p.expected),
        range: format!("{}–{}", whole(p.low), whole(p.high)),
    }
}

fn queue_view(q: &QueueForecast, now: NaiveDateTime, id: &str) -> QueueView {
    let idle = q.backlog == 0 && q.inflow < 0.1;
    let trend = match q.trend {
        _ if idle => "Nothing open and nothing arriving lately".to_string(),
        Trend::Clearing { days } => format!(
            "Clears in {} at the recent pace (closing {} a day more than arrive)",
            days_text(days),
            one_decimal(q.closures - q.inflow)
        ),
        Trend::Growing { per_day } => format!(
            "Growing by {} a day at the recent pace (more arrive than are closed)",
            one_decimal(per_day)
        ),
        Trend::Steady => "Steady at the recent pace: about as many closed as arrive".to_string(),
    };
    let with_more = q
        .with_more
        .iter()
        .map(|(_, d)| match d {
            _ if q.backlog == 0 => "nothing open".to_string(),
            None => "does not clear".to_string(),
            Some(d) => days_text(*d),
        })
        .collect();
    let needed = match q.needed {
        _ if q.backlog == 0 => "none: nothing open".to_string(),
        None => "not measured".to_string(),
        Some(0) => "none: clears in time".to_string(),
        Some(n) => format!("{n} more"),
    };
    let littles = q.littles_wait_days.map_or_else(
        || "no requests received lately".to_string(),
        |d| format!("{} days", one_decimal(d)),
    );
    let measured = q.measured_wait_days.map_or_else(
        || "none closed lately".to_string(),
        |d| format!("{} days", one_decimal(d)),
    );
    let backtest = match &q.backtest {
        None => "not enough history yet".to_string(),
        Some(b) => {
            let off = match b.relative {
                Some(r) => format!("{:+.0} ({:.0}%)", b.error, r * 100.0),
                None => format!("{:+.0}", b.error),
            };
            let inside = if b.actual >= b.forecast.low && b.actual <= b.forecast.high {
                "inside"
            } else {
                "outside"
            };
            format!(
                "forecast {} (likely {}–{}), actually open {}: off by {off}, {inside} the band",
                whole(b.forecast.expected),
                whole(b.forecast.low),
                whole(b.forecast.high),
                whole(b.actual)
            )
        }
    };
    QueueView {
        name: q.name.clone(),
        slug: q.slug.clone(),
        backlog: q.backlog,
        inflow: one_decimal(q.inflow),
        closures: one_decimal(q.closures),
        projections: q.projections.iter().map(projection_text).collect(),
        trend,
        breaches: q.breaches.total(),
        breaches_by_priority: q.breaches.by_priority,
        caseworkers: q.caseworkers,
        with_more,
        needed,
        littles,
        measured,
        backtest,
        has_chart: q.backlog > 0 || q.history.iter().any(|h| h.received > 0 || h.backlog > 0),
        chart: chart(q, now, id),
    }
}

/// A round number at least `n`: 1, 2 or 5 times a power of ten.
fn nice_ceiling(n: f64) -> f64 {
    let n = n.max(2.0);
    let p = 10f64.powf(n.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|v| *v >= n)
        .unwrap_or(10.0 * p)
}

fn chart(q: &QueueForecast, now: NaiveDateTime, id: &str) -> Chart {
    let ahead = HORIZONS.iter().copied().max().unwrap_or(30);
    let path: Vec<Projection> = (0..=ahead)
        .map(|k| f::project(q.backlog as f64, q.inflow, q.closures, k))
        .collect();
    let top = q
        .history
        .iter()
        .map(|h| h.backlog as f64)
        .chain(path.iter().map(|p| p.high))
        .fold(q.backlog as f64, f64::max);
    let max = nice_ceiling(top);
    let base = TOP + PLOT_HEIGHT;
    let y = |v: f64| base - ((v / max) * f64::from(PLOT_HEIGHT)).round() as u32;
    let bars = q
        .history
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let top = y(h.backlog as f64);
            ChartBar {
                x: LEFT + i as u32 * SLOT,
                y: top,
                h: base - top,
                title: format!(
                    "{}: {} open at the end of the day ({} received, {} closed)",
                    h.day.format("%d %b"),
                    h.backlog,
                    h.received,
                    h.closed
                ),
            }
        })
        .collect();
    let today_x = LEFT + q.history.len() as u32 * SLOT + SLOT / 2;
    let x_at = |k: u32| today_x + k * SLOT;
    let line = path
        .iter()
        .map(|p| format!("{},{}", x_at(p.days), y(p.expected)))
        .collect::<Vec<_>>()
        .join(" ");
    let band = path
        .iter()
        .map(|p| format!("{},{}", x_at(p.days), y(p.high)))
        .chain(
            path.iter()
                .rev()
                .map(|p| format!("{},{}", x_at(p.days), y(p.low))),
        )
        .collect::<Vec<_>>()
        .join(" ");
    let y_ticks = [0.0, 0.5, 1.0]
        .into_iter()
        .map(|s| Tick {
            at: y(max * s),
            label: whole(max * s),
        })
        .collect();
    let today = now.date();
    let mut x_ticks: Vec<Tick> = (0..q.history.len())
        .step_by(15)
        .map(|i| Tick {
            at: LEFT + i as u32 * SLOT,
            label: q.history[i].day.format("%d %b").to_string(),
        })
        .collect();
    x_ticks.push(Tick {
        at: today_x,
        label: "today".into(),
    });
    for k in HORIZONS {
        x_ticks.push(Tick {
            at: x_at(k),
            label: format!(
                "+{k} d ({})",
                (today + Duration::days(k.into())).format("%d %b")
            ),
        });
    }
    let proj = path.last().copied().unwrap_or(Projection {
        days: 0,
        expected: 0.0,
        low: 0.0,
        high: 0.0,
    });
    Chart {
        id: format!("forecast-{id}"),
        title: format!(
            "{}: open requests at the end of each of the last {} days (bars), and projected \
             {} days ahead at the recent pace (line): about {} (likely {}–{})",
            q.name,
            q.history.len(),
            ahead,
            whole(proj.expected),
            whole(proj.low),
            whole(proj.high)
        ),
        width: WIDTH,
        height: base + 50,
        left: LEFT,
        right: x_at(ahead),
        base,
        bars,
        line,
        band,
        today_x,
        y_ticks,
        x_ticks,
        legend_y: base + 36,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice_ceiling(0.0), 2.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(120.0), 200.0);
        assert_eq!(nice_ceiling(4_100.0), 5_000.0);
    }
}
