//! Abuse controls in front of the handlers: per-client-IP rate limits on the public form,
//! the JSON API and the staff login, and who the client is when a proxy stands in between.
//!
//! The limiters are built once per process (in `startup`) and shared by every worker, so a
//! client cannot spread its requests over workers. `X-Forwarded-For` is believed only when
//! the direct peer is one of `TRUSTED_PROXIES`; otherwise anyone could name any address.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse, ResponseError};
use askama::Template;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Arc;

use super::errors::{html, ApiError, MessagePage};
use crate::config::RateLimits;

/// Above this many remembered clients, forget those whose allowance is full again.
const PRUNE_ABOVE: usize = 50_000;

/// One rate limit keyed by client address; `None` when it is turned off.
#[derive(Clone)]
pub struct Limit(Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>);

impl Limit {
    /// `per_minute` requests a minute, all of them available at once; 0 is no limit.
    pub fn per_minute(per_minute: u32) -> Self {
        Limit(
            NonZeroU32::new(per_minute)
                .map(|n| Arc::new(DefaultKeyedRateLimiter::dashmap(Quota::per_minute(n)))),
        )
    }

    /// `Ok` when the client may go on, or the seconds it must wait.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        if limiter.len() > PRUNE_ABOVE {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

/// The limits of one running instance, with the proxies allowed to name clients.
#[derive(Clone)]
pub struct Limiters {
    /// Public form posts and the JSON API share one allowance per client.
    pub intake: Limit,
    pub login: Limit,
    trusted_proxies: Arc<[IpAddr]>,
}

impl Limiters {
    pub fn new(settings: &RateLimits) -> Self {
        Limiters {
            intake: Limit::per_minute(settings.per_minute),
            login: Limit::per_minute(settings.login_per_minute),
            trusted_proxies: settings.trusted_proxies.clone().into(),
        }
    }

    /// The client's address as the limits count it.
    fn client_of(&self, req: &ServiceRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok());
        Some(limit_key(client_ip(peer, forwarded, &self.trusted_proxies)))
    }
}

/// The client behind `peer`: the peer itself, unless it is a trusted proxy; then the
/// right-most `X-Forwarded-For` entry that is not a trusted proxy (entries to its left
/// were written by the client and prove nothing).
pub fn client_ip<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[IpAddr],
) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for.flat_map(|v| v.split(',')).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip.to_canonical();
                if !trusted.contains(&client) {
                    break;
                }
            }
            // A hop we cannot read: the last address a trusted proxy vouched for stands.
            Err(_) => break,
        }
    }
    client
}

/// IPv6 clients are counted per /64, the smallest block a home or mobile line gets,
/// so rotating addresses inside one's own block buys nothing.
fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

/// How a refused request is answered.
#[derive(Clone, Copy)]
enum Refusal {
    Json,
    Page,
}

async fn limited(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    pick: fn(&Limiters) -> &Limit,
    only_post: bool,
    refusal: Refusal,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let applies = !only_post || req.method() == Method::POST;
    let limiters = req.app_data::<web::Data<Limiters>>().cloned();
    if let (true, Some(limiters)) = (applies, limiters) {
        if let Some(client) = limiters.client_of(&req) {
            if let Err(wait) = pick(&limiters).check(client) {
                // A counter, never the address: it is personal data.
                tracing::warn!(counter = "rate_limited", route = %req.match_pattern().unwrap_or_default(), "request refused by rate limit");
                let language = crate::web::lang::negotiate(req.request(), None);
                let resp = too_many(refusal, wait.max(1), language);
                return Ok(req.into_response(resp));
            }
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

fn too_many(refusal: Refusal, wait: u64, language: crate::domain::vocab::Language) -> HttpResponse {
    let mut resp = match refusal {
        Refusal::Json => ApiError::RateLimited(wait).error_response(),
        Refusal::Page => {
            let tr = crate::i18n::Tr(language);
            let body = MessagePage {
                tr,
                switch: None,
                title: &tr.t("rate-limited-title"),
                message: &tr.t("rate-limited-body"),
            }
            .render()
            .unwrap_or_else(|_| {
                "Too many requests. Please wait a minute and try again.".to_string()
            });
            html(StatusCode::TOO_MANY_REQUESTS, body)
        }
    };
    resp.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from(wait));
    resp
}

/// Largest request head accepted, all header names and values together. The HTTP server
/// alone would take 128 KiB; no browser or partner needs a tenth of that.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Refuses requests with oversized headers (431) before any handler runs.
pub async fn limit_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        let resp = HttpResponse::build(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
            .content_type("text/plain; charset=utf-8")
            .body("The request headers are too large.");
        return Ok(req.into_response(resp));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The public form: POSTs count against the client's intake allowance.
pub async fn limit_form(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    limited(req, next, |l| &l.intake, true, Refusal::Page).await
}

/// The JSON API: every call counts against the client's intake allowance.
pub async fn limit_api(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    limited(req, next, |l| &l.intake, false, Refusal::Json).await
}

/// Staff login attempts per client address, on top of the per-account lockout.
pub async fn limit_login(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    limited(req, next, |l| &l.login, true, Refusal::Page).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let trusted = [ip("10.0.0.2")];
        let xff = || ["203.0.113.9"].into_iter();
        assert_eq!(
            client_ip(ip("198.51.100.7"), xff(), &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), xff(), &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), std::iter::empty(), &trusted),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn a_client_cannot_spoof_its_way_past_the_proxy() {
        let trusted = [ip("10.0.0.2"), ip("10.0.0.3")];
        // The client wrote "1.2.3.4"; the proxies appended the real address and themselves.
        let xff = ["1.2.3.4, 203.0.113.9", "10.0.0.3"].into_iter();
        assert_eq!(client_ip(ip("10.0.0.2"), xff, &trusted), ip("203.0.113.9"));
        let garbage = ["1.2.3.4, not-an-ip"].into_iter();
        assert_eq!(client_ip(ip("10.0.0.2"), garbage, &trusted), ip("10.0.0.2"));
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(
            client_ip(ip("::ffff:192.0.2.1"), std::iter::empty(), &[]),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn a_limit_refuses_past_its_allowance_and_zero_is_off() {
        let limit = Limit::per_minute(2);
        let me = ip("192.0.2.1");
        assert!(limit.check(me).is_ok());
        assert!(limit.check(me).is_ok());
        let wait = limit.check(me).unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(limit.check(ip("192.0.2.2")).is_ok(), "others keep theirs");
        let off = Limit::per_minute(0);
        assert!((0..1000).all(|_| off.check(me).is_ok()));
    }
}
