//! Prometheus metrics. Counters and latency histograms are per instance (Prometheus scrapes
//! each one and sums); queue depth, outbox and pool figures are read at scrape time, so
//! every instance reports the same shared backlog.

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    intakes: IntCounterVec,
    honeypot: IntCounter,
    imap_errors: IntCounter,
    http: HistogramVec,
    queue_depth: IntGaugeVec,
    outbox: IntGaugeVec,
    pool: IntGaugeVec,
    mail_in: IntCounterVec,
    pages: IntCounter,
    time_to_acknowledge: Histogram,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let intakes = IntCounterVec::new(
            Opts::new(
                "case_triage_intakes_total",
                "Requests taken in by this instance",
            ),
            &["category", "source"],
        )
        .expect("valid metric");
        let honeypot = IntCounter::new(
            "case_triage_honeypot_dropped_total",
            "Form submissions this instance dropped because the honeypot field was filled",
        )
        .expect("valid metric");
        let imap_errors = IntCounter::new(
            "case_triage_imap_errors_total",
            "Times this instance lost or could not open its IMAP mailbox",
        )
        .expect("valid metric");
        let http = HistogramVec::new(
            HistogramOpts::new(
                "case_triage_http_request_duration_seconds",
                "HTTP request latency",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let queue_depth = IntGaugeVec::new(
            Opts::new("case_triage_queue_open_requests", "Open requests per queue"),
            &["queue"],
        )
        .expect("valid metric");
        let outbox = IntGaugeVec::new(
            Opts::new("case_triage_outbox_mails", "Mails in the outbox per status"),
            &["status"],
        )
        .expect("valid metric");
        let pool = IntGaugeVec::new(
            Opts::new(
                "case_triage_db_pool_connections",
                "Database pool connections of this instance",
            ),
            &["state"],
        )
        .expect("valid metric");
        let mail_in = IntCounterVec::new(
            Opts::new(
                "case_triage_mail_taken_in_total",
                "Mails this instance took in, by what became of them",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let pages = IntCounter::new(
            "case_triage_escalation_pages_total",
            "Escalation pages this instance queued for urgent requests",
        )
        .expect("valid metric");
        let time_to_acknowledge = Histogram::with_opts(
            HistogramOpts::new(
                "case_triage_escalation_time_to_acknowledge_seconds",
                "From the start of an escalation to its acknowledgment",
            )
            .buckets(vec![
                60.0, 300.0, 600.0, 900.0, 1800.0, 2700.0, 3600.0, 7200.0, 14400.0, 43200.0,
                86400.0,
            ]),
        )
        .expect("valid metric");
        for c in [
            Box::new(intakes.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(mail_in.clone()),
            Box::new(honeypot.clone()),
            Box::new(imap_errors.clone()),
            Box::new(http.clone()),
            Box::new(queue_depth.clone()),
            Box::new(outbox.clone()),
            Box::new(pool.clone()),
            Box::new(pages.clone()),
            Box::new(time_to_acknowledge.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Metrics {
            registry,
            intakes,
            honeypot,
            imap_errors,
            http,
            queue_depth,
            outbox,
            pool,
            mail_in,
            pages,
            time_to_acknowledge,
        }
    }

    /// Counts escalation pages queued.
    pub fn paged(&self, pages: usize) {
        self.pages.inc_by(pages as u64);
    }

    /// Records how long an escalation ran before someone acknowledged it.
    pub fn acknowledged(&self, after: chrono::Duration) {
        self.time_to_acknowledge
            .observe(after.num_milliseconds().max(0) as f64 / 1000.0);
    }

    pub fn intake(&self, category: crate::domain::Category, source: crate::domain::Source) {
        self.intakes
            .with_label_values(&[category.as_str(), source.as_str()])
            .inc();
    }

    /// Counts a mail taken in by what became of it.
    pub fn mail_taken_in(&self, outcome: crate::domain::vocab::MailOutcome) {
        self.mail_in.with_label_values(&[outcome.as_str()]).inc();
    }

    /// Counts a submission the honeypot dropped; answers how many so far.
    pub fn honeypot_dropped(&self) -> u64 {
        self.honeypot.inc();
        self.honeypot.get()
    }

    /// Counts a failed or lost connection to the IMAP mailbox.
    pub fn imap_error(&self) {
        self.imap_errors.inc();
    }

    pub fn http(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.http
            .with_label_values(&[method, route, &status.to_string()])
            .observe(seconds);
    }

    /// Sets the shared figures read at scrape time and renders the text exposition.
    pub fn render(
        &self,
        queues: &[(String, i64)],
        outbox: &[(&str, i64)],
        pool_connections: u32,
        pool_idle: u32,
    ) -> String {
        self.queue_depth.reset();
        for (queue, n) in queues {
            self.queue_depth
                .with_label_values(&[queue.as_str()])
                .set(*n);
        }
        for (status, n) in outbox {
            self.outbox.with_label_values(&[*status]).set(*n);
        }
        self.pool
            .with_label_values(&["open"])
            .set(pool_connections.into());
        self.pool.with_label_values(&["idle"]).set(pool_idle.into());
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
