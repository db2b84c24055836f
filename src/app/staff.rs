//! Staff members as the use cases see them: who is acting and what their role lets them do.

use crate::domain::staff::{Permission, Role};
use crate::domain::Actor;

/// A logged-in staff member, resolved from the session cookie.
#[derive(Debug, Clone)]
pub struct Staff {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub queues: Vec<String>,
    pub csrf: String,
}

impl Staff {
    /// How the audit trail names this person.
    pub fn actor(&self) -> Actor {
        Actor::Staff(self.id.clone())
    }

    pub fn can(&self, p: Permission) -> bool {
        self.role.can(p)
    }

    /// Queues whose cases this person may open; `None` means all.
    pub fn allowed_queues(&self) -> Option<Vec<String>> {
        if self.can(Permission::WorkAllQueues) {
            None
        } else if self.can(Permission::WorkOwnQueues) {
            Some(self.queues.clone())
        } else {
            Some(Vec::new())
        }
    }

    pub fn can_work_queue(&self, slug: &str) -> bool {
        self.can(Permission::WorkAllQueues)
            || (self.can(Permission::WorkOwnQueues) && self.queues.iter().any(|q| q == slug))
    }
}
