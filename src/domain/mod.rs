//! Types and rules of the product with no I/O: what a request is, how it is classified and
//! routed, and what a fresh installation starts with.

pub mod actor;
pub mod birth;
pub mod classify;
pub mod contract;
pub mod correspondence;
pub mod dedup;
pub mod defaults;
pub mod escalation;
pub mod fields;
pub mod forecast;
pub mod intake;
pub mod problem;
pub mod reference;
pub mod routing;
pub mod search;
pub mod staff;
pub mod vocab;
pub mod workflow;

pub use actor::Actor;
pub use classify::{classify, Classification, Facts};
pub use intake::{FieldError, IntakeInput, NewCaseRequest};
pub use problem::Problem;
pub use reference::CaseReference;
pub use routing::{route, QueueSlug, RoutingDecision, RoutingFacts, RoutingRule};
pub use vocab::{
    Category, Language, Location, Priority, ReferralProgram, SivStatus, Source, Status,
    SubmitterKind, TokenScope, UsTie,
};
