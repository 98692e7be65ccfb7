//! Roles of access keys, and the permission each API operation needs.

use std::fmt;
use std::str::FromStr;

/// What an access key may do. Ordered: each role may do everything the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Read-only: Get*, BatchGet*, List*.
    Viewer,
    /// Viewer, plus pushing revisions and creating, stopping and continuing deployments.
    Deployer,
    /// Everything, including applications, groups, configurations, instances, access keys and the audit log.
    Admin,
}

/// The credential of a host agent: it may use the agent protocol only, never the API.
pub const AGENT_ROLE: &str = "agent";

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Deployer, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Deployer => "deployer",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may call `operation` (a CodeDeploy or Cutover operation name).
    pub fn allows(self, operation: &str) -> bool {
        self >= required_role(operation)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(text: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| format!("unknown role {text:?}: expected admin, deployer or viewer"))
    }
}

/// Operations a deployer may call besides reads: everything it takes to ship a revision, nothing that changes
/// what or where one deploys to.
const DEPLOYER_OPERATIONS: &[&str] = &[
    "RegisterApplicationRevision",
    "CreateDeployment",
    "StopDeployment",
    "ContinueDeployment",
    "PutLifecycleEventHookExecutionStatus",
    "SkipWaitTimeForInstanceTermination",
    // The S3 endpoint: uploading a revision bundle.
    "PutObject",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
];

/// Reads that reveal secrets or other principals' actions stay with admins.
const ADMIN_READS: &[&str] = &["ListAccessKeys", "ListAuditEvents"];

/// The least role that may call `operation`. Unknown names need admin: a new operation is closed until classified.
pub fn required_role(operation: &str) -> Role {
    if ADMIN_READS.contains(&operation) {
        Role::Admin
    } else if ["Get", "BatchGet", "List", "Head"].iter().any(|prefix| operation.starts_with(prefix)) {
        Role::Viewer
    } else if DEPLOYER_OPERATIONS.contains(&operation) {
        Role::Deployer
    } else {
        Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_gets_what_it_should() {
        assert!(Role::Viewer.allows("ListApplications"));
        assert!(Role::Viewer.allows("BatchGetDeployments"));
        assert!(Role::Viewer.allows("GetObject"));
        assert!(!Role::Viewer.allows("CreateDeployment"));
        assert!(!Role::Viewer.allows("PutObject"));
        assert!(Role::Deployer.allows("CreateDeployment"));
        assert!(Role::Deployer.allows("StopDeployment"));
        assert!(Role::Deployer.allows("RegisterApplicationRevision"));
        assert!(!Role::Deployer.allows("CreateDeploymentGroup"));
        assert!(!Role::Deployer.allows("DeregisterOnPremisesInstance"));
        assert!(!Role::Deployer.allows("CreateAccessKey"));
        assert!(!Role::Deployer.allows("ListAccessKeys"));
        assert!(Role::Admin.allows("DeleteApplication"));
        assert!(Role::Admin.allows("SomethingNew"));
        assert!(!Role::Deployer.allows("SomethingNew"));
        assert_eq!("viewer".parse::<Role>(), Ok(Role::Viewer));
        assert!("root".parse::<Role>().is_err());
    }
}
