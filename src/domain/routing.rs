//! Routing: ordered rules, each a condition on category, priority, source and location that
//! names a target queue. The first enabled rule whose every set condition matches wins; when
//! none matches the request goes to the default (triage) queue. Every request therefore lands
//! in exactly one queue, and the decision records which rule put it there.

use serde::Serialize;

use super::vocab::{Category, Location, Priority, Source};

/// A queue's stable, URL-safe name (e.g. `triage`, `siv`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct QueueSlug(String);

impl QueueSlug {
    /// Lower-case letters, digits and dashes, 1 to 40 characters.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let ok = !raw.is_empty()
            && raw.len() <= 40
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(QueueSlug(raw.to_string()))
        } else {
            Err("must be 1 to 40 lower-case letters, digits or dashes")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a rule looks at; `None` in a rule means "any".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingFacts {
    pub category: Category,
    pub priority: Priority,
    pub source: Source,
    pub location: Location,
    /// The domain of a mail's sender, lower-case; `None` for other channels.
    pub sender_domain: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingRule {
    pub id: String,
    pub position: i32,
    pub name: String,
    pub category: Option<Category>,
    pub priority: Option<Priority>,
    pub source: Option<Source>,
    pub location: Option<Location>,
    /// A mail sender's domain (`agency.example.gov`), matching it and its subdomains.
    pub sender_domain: Option<String>,
    pub queue: QueueSlug,
    pub enabled: bool,
}

impl RoutingRule {
    pub fn matches(&self, f: &RoutingFacts) -> bool {
        self.enabled
            && self.category.is_none_or(|c| c == f.category)
            && self.priority.is_none_or(|p| p == f.priority)
            && self.source.is_none_or(|s| s == f.source)
            && self.location.is_none_or(|l| l == f.location)
            && self.sender_domain.as_deref().is_none_or(|want| {
                f.sender_domain.as_deref().is_some_and(|got| {
                    got == want || got.strip_suffix(want).is_some_and(|sub| sub.ends_with('.'))
                })
            })
    }

    /// A sender domain as a rule keeps it: lower-case, without `@`; `None` when empty.
    pub fn parse_sender_domain(raw: &str) -> Result<Option<String>, &'static str> {
        let d = raw.trim().trim_start_matches('@').to_ascii_lowercase();
        if d.is_empty() {
            return Ok(None);
        }
        let ok = d.len() <= 253
            && d.contains('.')
            && d.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if ok {
            Ok(Some(d))
        } else {
            Err("sender domain: give a domain such as agency.example.gov, or leave it empty")
        }
    }
}

/// Where a request goes and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingDecision {
    pub queue: QueueSlug,
    /// The rule that matched; `None` means the default queue.
    pub rule_id: Option<String>,
    pub rule_name: Option<String>,
}

/// Picks the queue for a request. `rules` may come in any order; position decides.
pub fn route(
    rules: &[RoutingRule],
    facts: &RoutingFacts,
    default_queue: &QueueSlug,
) -> RoutingDecision {
    rules
        .iter()
        .filter(|r| r.matches(facts))
        .min_by_key(|r| (r.position, r.id.as_str()))
        .map(|r| RoutingDecision {
            queue: r.queue.clone(),
            rule_id: Some(r.id.clone()),
            rule_name: Some(r.name.clone()),
        })
        .unwrap_or_else(|| RoutingDecision {
            queue: default_queue.clone(),
            rule_id: None,
            rule_name: None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::defaults;
    use proptest::prelude::*;

    fn slug(s: &str) -> QueueSlug {
        QueueSlug::parse(s).unwrap()
    }

    fn facts(category: Category) -> RoutingFacts {
        RoutingFacts {
            category,
            priority: Priority::Normal,
            source: Source::WebForm,
            location: Location::Pakistan,
            sender_domain: None,
        }
    }

    #[test]
    fn default_rules_send_each_category_to_its_desk() {
        let rules = defaults::routing_rules();
        let triage = slug(defaults::DEFAULT_QUEUE);
        let table = [
            (Category::UrgentProtection, "urgent-protection"),
            (Category::AmcitLpr, "consular"),
            (Category::SivApproved, "siv"),
            (Category::SivPending, "siv"),
            (Category::RefugeeReferral, "refugee-referrals"),
            (Category::BorderArrival, "refugee-referrals"),
            (Category::NoReferral, "triage"),
            (Category::Other, "triage"),
        ];
        for (category, queue) in table {
            let d = route(&rules, &facts(category), &triage);
            assert_eq!(d.queue.as_str(), queue, "{category}");
            assert_eq!(d.rule_id.is_none(), queue == "triage", "{category}");
        }
    }

    #[test]
    fn position_beats_list_order_and_disabled_rules_are_skipped() {
        let rule = |id: &str, position, queue: &str, enabled| RoutingRule {
            id: id.into(),
            position,
            name: id.into(),
            category: Some(Category::SivPending),
            priority: None,
            source: None,
            location: None,
            sender_domain: None,
            queue: slug(queue),
            enabled,
        };
        let rules = vec![
            rule("late", 20, "late", true),
            rule("early", 10, "early", true),
            rule("off", 1, "off", false),
        ];
        let d = route(&rules, &facts(Category::SivPending), &slug("triage"));
        assert_eq!(d.queue.as_str(), "early");
        assert_eq!(d.rule_id.as_deref(), Some("early"));
    }

    #[test]
    fn every_condition_must_match() {
        let rule = RoutingRule {
            id: "r".into(),
            position: 1,
            name: "border api".into(),
            category: None,
            priority: None,
            source: Some(Source::PartnerApi),
            location: Some(Location::Border),
            sender_domain: None,
            queue: slug("border"),
            enabled: true,
        };
        let mut f = facts(Category::Other);
        f.location = Location::Border;
        assert!(!rule.matches(&f));
        f.source = Source::PartnerApi;
        assert!(rule.matches(&f));
    }

    #[test]
    fn a_sender_domain_matches_itself_and_its_subdomains_only() {
        let rule = RoutingRule {
            id: "r".into(),
            position: 1,
            name: "agency mail".into(),
            category: None,
            priority: None,
            source: Some(Source::Email),
            location: None,
            sender_domain: RoutingRule::parse_sender_domain(" @State.example.GOV ").unwrap(),
            queue: slug("agency"),
            enabled: true,
        };
        let mut f = facts(Category::Other);
        f.source = Source::Email;
        for (domain, matches) in [
            (Some("state.example.gov"), true),
            (Some("kabul.state.example.gov"), true),
            (Some("notstate.example.gov"), false),
            (Some("state.example.gov.evil.example"), false),
            (None, false),
        ] {
            f.sender_domain = domain.map(str::to_string);
            assert_eq!(rule.matches(&f), matches, "{domain:?}");
        }
        assert!(RoutingRule::parse_sender_domain("not a domain").is_err());
        assert_eq!(RoutingRule::parse_sender_domain("  "), Ok(None));
    }

    proptest! {
        #[test]
        fn every_request_gets_exactly_one_queue(
            classification in crate::domain::classify::tests::any_facts(),
            source in prop::sample::select(Source::ALL),
        ) {
            let c = crate::domain::classify::classify(&classification);
            let f = RoutingFacts { category: c.category, priority: c.priority, source, location: classification.location, sender_domain: None };
            let rules = defaults::routing_rules();
            let d = route(&rules, &f, &slug("triage"));
            let matching: Vec<_> = rules.iter().filter(|r| r.matches(&f)).collect();
            match &d.rule_id {
                None => prop_assert!(matching.is_empty()),
                Some(id) => {
                    let winner = rules.iter().find(|r| &r.id == id).unwrap();
                    prop_assert!(winner.matches(&f));
                    prop_assert!(matching.iter().all(|r| r.position >= winner.position));
                    prop_assert_eq!(&d.queue, &winner.queue);
                }
            }
        }
    }
}
