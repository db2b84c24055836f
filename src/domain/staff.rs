//! Staff roles and what each may do. Least privilege: every action names the permission
//! it needs, and each role holds only what its work requires.

use super::vocab::UnknownValue;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Users, queues, routing rules, guidance texts, and everything a lead can do.
    Admin,
    /// All queues, assignment to anyone, routing rules and guidance.
    Lead,
    /// Their own queues: view, note, assign to self, change status.
    Caseworker,
    /// Dashboard aggregates only; never personal data.
    Viewer,
}

impl Role {
    pub const ALL: &'static [Role] = &[Role::Admin, Role::Lead, Role::Caseworker, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Lead => "lead",
            Role::Caseworker => "caseworker",
            Role::Viewer => "viewer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Lead => "Task-force lead",
            Role::Caseworker => "Caseworker",
            Role::Viewer => "Viewer (dashboard only)",
        }
    }

    pub fn can(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Lead => !matches!(permission, ManageUsers | ManageQueues | ManagePartners),
            Role::Caseworker => matches!(
                permission,
                ViewDashboard | WorkOwnQueues | EnterRequests | ExportCases
            ),
            Role::Viewer => matches!(permission, ViewDashboard),
        }
    }
}

impl FromStr for Role {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        Role::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownValue {
                allowed: "admin, lead, caseworker, viewer".to_string(),
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Aggregate counts, ages and pace: no personal data.
    ViewDashboard,
    /// View and work cases in the queues one is a member of.
    WorkOwnQueues,
    /// View and work cases in every queue.
    WorkAllQueues,
    /// Assign a case to someone else, move it between queues, re-categorize it.
    AssignOthers,
    /// Enter a walk-in request.
    EnterRequests,
    /// Export lists of cases as CSV.
    ExportCases,
    /// Include internal notes in exports.
    ExportNotes,
    /// Edit routing rules and standard guidance.
    ManageRules,
    /// Create users and change roles.
    ManageUsers,
    /// Create queues and change their notification addresses.
    ManageQueues,
    /// Read the audit log and the mail outbox.
    ViewAuditLog,
    /// Create partner organizations, issue and revoke their API tokens, set quotas.
    ManagePartners,
    /// Keep the queues' escalation chains and duty schedules; see every escalation.
    ManageEscalation,
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;

    #[test]
    fn least_privilege_table() {
        let all = [
            ViewDashboard,
            WorkOwnQueues,
            WorkAllQueues,
            AssignOthers,
            EnterRequests,
            ExportCases,
            ExportNotes,
            ManageRules,
            ManageUsers,
            ManageQueues,
            ViewAuditLog,
            ManagePartners,
            ManageEscalation,
        ];
        let granted = |role: Role| -> Vec<Permission> {
            all.iter().copied().filter(|p| role.can(*p)).collect()
        };
        assert_eq!(granted(Role::Admin), all);
        assert_eq!(
            granted(Role::Lead),
            [
                ViewDashboard,
                WorkOwnQueues,
                WorkAllQueues,
                AssignOthers,
                EnterRequests,
                ExportCases,
                ExportNotes,
                ManageRules,
                ViewAuditLog,
                ManageEscalation
            ]
        );
        assert_eq!(
            granted(Role::Caseworker),
            [ViewDashboard, WorkOwnQueues, EnterRequests, ExportCases]
        );
        assert_eq!(granted(Role::Viewer), [ViewDashboard]);
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(*r));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
