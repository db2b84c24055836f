//! Who did something, for the audit trail: each kind of actor, the one text form it is
//! stored in, and the one place that text is read back.

use std::fmt;
use std::str::FromStr;

/// Whoever caused a change or read personal data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Actor {
    /// A staff account, by its id (`user:<id>`).
    Staff(String),
    /// A partner organization through the API with one of its tokens, by the partner's id
    /// (`partner:<id>`).
    Partner(String),
    /// The partner API without a token, where the deployment allows it (`partner`).
    AnonymousApi,
    /// Whoever filled in the public form (`public`).
    PublicForm,
    /// The requester on the status page, with reference and status-check code (`requester`).
    Requester,
    /// The app on its own, e.g. intake flagging a possible duplicate (`system`).
    System,
    /// An operator's command (`cli`).
    Cli,
    /// The daily jobs: retention purge, digest (`scheduler`).
    Scheduler,
    /// The `demo-data` command's made-up requests (`demo-data`).
    DemoData,
    /// Mail to the task-force mailbox, by its sender (`mail`).
    Mail,
}

impl Actor {
    /// Every actor that is not a staff account or a partner with a token, in the order the
    /// audit log's filter offers them.
    pub const FIXED: &'static [Actor] = &[
        Actor::PublicForm,
        Actor::Requester,
        Actor::AnonymousApi,
        Actor::System,
        Actor::Cli,
        Actor::Scheduler,
        Actor::DemoData,
        Actor::Mail,
    ];

    /// The staff account's id, for a staff actor.
    pub fn staff_id(&self) -> Option<&str> {
        match self {
            Actor::Staff(id) => Some(id),
            _ => None,
        }
    }

    /// The partner's id, for a partner with a token.
    pub fn partner_id(&self) -> Option<&str> {
        match self {
            Actor::Partner(id) => Some(id),
            _ => None,
        }
    }

    /// The actor in words, where no name is needed (staff pages are English); staff and
    /// partners are named by the caller, which knows their names.
    pub fn label(&self) -> &'static str {
        match self {
            Actor::Staff(_) => "staff",
            Actor::Partner(_) => "partner (API token)",
            Actor::AnonymousApi => "partner (API)",
            Actor::PublicForm => "applicant (web form)",
            Actor::Requester => "requester (status page)",
            Actor::System => "system",
            Actor::Cli => "cli",
            Actor::Scheduler => "scheduler",
            Actor::DemoData => "demo-data",
            Actor::Mail => "sender (mail)",
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Staff(id) => write!(f, "user:{id}"),
            Actor::Partner(id) => write!(f, "partner:{id}"),
            Actor::AnonymousApi => f.write_str("partner"),
            Actor::PublicForm => f.write_str("public"),
            Actor::Requester => f.write_str("requester"),
            Actor::System => f.write_str("system"),
            Actor::Cli => f.write_str("cli"),
            Actor::Scheduler => f.write_str("scheduler"),
            Actor::DemoData => f.write_str("demo-data"),
            Actor::Mail => f.write_str("mail"),
        }
    }
}

/// A stored actor text that names no kind of actor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an actor")]
pub struct UnknownActor;

impl FromStr for Actor {
    type Err = UnknownActor;

    fn from_str(s: &str) -> Result<Self, UnknownActor> {
        let id = |id: &str| (!id.is_empty()).then(|| id.to_string()).ok_or(UnknownActor);
        match s.split_once(':') {
            Some(("user", rest)) => return id(rest).map(Actor::Staff),
            Some(("partner", rest)) => return id(rest).map(Actor::Partner),
            _ => {}
        }
        Actor::FIXED
            .iter()
            .find(|a| a.to_string() == s)
            .cloned()
            .ok_or(UnknownActor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_fixed_actor_reads_back_as_itself() {
        for actor in Actor::FIXED {
            assert_eq!(actor.to_string().parse::<Actor>().as_ref(), Ok(actor));
        }
    }

    #[test]
    fn texts_that_name_no_actor_are_refused() {
        for text in ["", "user:", "partner:", "User:1", "root", "demo_data"] {
            assert_eq!(text.parse::<Actor>(), Err(UnknownActor), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn staff_and_partner_ids_survive_their_text(id in "[A-Za-z0-9:-]{1,40}") {
            for actor in [Actor::Staff(id.clone()), Actor::Partner(id.clone())] {
                prop_assert_eq!(actor.to_string().parse::<Actor>(), Ok(actor));
            }
        }
    }
}
