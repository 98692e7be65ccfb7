//! The status vocabularies of deployments, targets and lifecycle events, the diagnostic and deployment error codes,
//! and the deployment state machine.
//!
//! Every enum here is spelled on the wire exactly as CodeDeploy spells it (`as_str`/`parse` round-trip), so the API
//! layer never needs its own copy of these strings.

use std::fmt;

/// Defines a fieldless enum whose values have a fixed CodeDeploy spelling, with `ALL`, `as_str`, `parse` and `Display`.
///
/// Writing the spelling once per variant keeps `as_str` and `parse` from drifting apart.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident => $wire:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// Every value, in the order CodeDeploy's API model lists them.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// Returns CodeDeploy's spelling of the value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }

            /// Parses CodeDeploy's spelling of a value; the match is exact (case-sensitive), as in the API.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($wire => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// The status of a whole deployment (`DeploymentInfo.status`).
    pub enum DeploymentStatus {
        Created => "Created",
        Queued => "Queued",
        InProgress => "InProgress",
        /// The wait-and-monitor period after traffic has shifted. AWS does not document it; it is not terminal.
        Baking => "Baking",
        Succeeded => "Succeeded",
        Failed => "Failed",
        Stopped => "Stopped",
        /// A blue/green replacement fleet is installed and waits for traffic to be rerouted.
        Ready => "Ready",
    }
}

impl DeploymentStatus {
    /// Returns true for Succeeded, Failed and Stopped: nothing more happens to the deployment.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Stopped)
    }

    /// Returns true while the deployment occupies its group's single active-deployment slot.
    pub fn is_active(self) -> bool {
        !self.is_terminal()
    }

    /// Returns true when a deployment in `self` may move to `next`.
    ///
    /// Staying in the same status is not a transition, so `s.can_transition_to(s)` is false; callers that re-apply a
    /// status should compare first.
    pub fn can_transition_to(self, next: Self) -> bool {
        use DeploymentStatus::*;
        match self {
            Created => matches!(next, Queued | InProgress | Failed | Stopped),
            Queued => matches!(next, InProgress | Stopped | Failed),
            InProgress => matches!(next, Succeeded | Failed | Stopped | Ready | Baking),
            // ContinueDeployment(READY_WAIT) resumes rerouting; the ready wait can also time out or be stopped.
            Ready => matches!(next, InProgress | Stopped | Failed),
            Baking => matches!(next, Succeeded | Failed | Stopped),
            Succeeded | Failed | Stopped => false,
        }
    }
}

wire_enum! {
    /// The status of one deployment target (`instanceTarget.status`), also the `TargetStatus` target filter values.
    pub enum TargetStatus {
        Pending => "Pending",
        InProgress => "InProgress",
        Succeeded => "Succeeded",
        Failed => "Failed",
        Skipped => "Skipped",
        Unknown => "Unknown",
        /// A blue/green replacement instance that is installed and waits for traffic.
        Ready => "Ready",
    }
}

impl TargetStatus {
    /// Returns true for Succeeded, Failed and Skipped: the target takes no further part in the deployment.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Skipped)
    }
}

wire_enum! {
    /// The status of one lifecycle event on one target (`lifecycleEvents[].status`).
    pub enum EventStatus {
        Pending => "Pending",
        InProgress => "InProgress",
        Succeeded => "Succeeded",
        Failed => "Failed",
        Skipped => "Skipped",
        Unknown => "Unknown",
    }
}

impl EventStatus {
    /// Returns true for Succeeded, Failed and Skipped: the event will not run (again).
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Skipped)
    }
}

wire_enum! {
    /// The diagnostic code of a lifecycle event (`lifecycleEvents[].diagnostics.errorCode`).
    pub enum LifecycleErrorCode {
        Success => "Success",
        ScriptMissing => "ScriptMissing",
        ScriptNotExecutable => "ScriptNotExecutable",
        ScriptTimedOut => "ScriptTimedOut",
        ScriptFailed => "ScriptFailed",
        /// Anything that is not a script's fault: download errors, AppSpec errors, file conflicts, agent restarts.
        UnknownError => "UnknownError",
    }
}

impl LifecycleErrorCode {
    /// Maps the agent's numeric `error_code` from a diagnostics payload.
    ///
    /// Codes 0–5 map one to one. The agent also sends 6 (OutputsLeftOpen) and 7 (FailedAfterRestart), which the
    /// API enum cannot express, so they and any unknown code become UnknownError.
    pub fn from_agent_code(code: i64) -> Self {
        match code {
            0 => Self::Success,
            1 => Self::ScriptMissing,
            2 => Self::ScriptNotExecutable,
            3 => Self::ScriptTimedOut,
            4 => Self::ScriptFailed,
            _ => Self::UnknownError,
        }
    }
}

wire_enum! {
    /// The deployment error code (`DeploymentInfo.errorInformation.code`), CodeDeploy's full enum.
    pub enum DeploymentErrorCode {
        /// The agent did not respond.
        AgentIssue => "AGENT_ISSUE",
        /// A CloudWatch alarm stopped the deployment.
        AlarmActive => "ALARM_ACTIVE",
        /// The application was deleted between create and start.
        ApplicationMissing => "APPLICATION_MISSING",
        AutoscalingValidationError => "AUTOSCALING_VALIDATION_ERROR",
        AutoScalingConfiguration => "AUTO_SCALING_CONFIGURATION",
        AutoScalingIamRolePermissions => "AUTO_SCALING_IAM_ROLE_PERMISSIONS",
        CodedeployResourceCannotBeFound => "CODEDEPLOY_RESOURCE_CANNOT_BE_FOUND",
        CustomerApplicationUnhealthy => "CUSTOMER_APPLICATION_UNHEALTHY",
        /// The deployment group was deleted between create and start.
        DeploymentGroupMissing => "DEPLOYMENT_GROUP_MISSING",
        EcsUpdateError => "ECS_UPDATE_ERROR",
        ElasticLoadBalancingInvalid => "ELASTIC_LOAD_BALANCING_INVALID",
        ElbInvalidInstance => "ELB_INVALID_INSTANCE",
        /// Too many instances failed for the minimum-healthy-hosts rule.
        HealthConstraints => "HEALTH_CONSTRAINTS",
        /// The minimum-healthy-hosts rule cannot be met at start.
        HealthConstraintsInvalid => "HEALTH_CONSTRAINTS_INVALID",
        /// A Lambda/ECS lifecycle hook failed.
        HookExecutionFailure => "HOOK_EXECUTION_FAILURE",
        IamRoleMissing => "IAM_ROLE_MISSING",
        IamRolePermissions => "IAM_ROLE_PERMISSIONS",
        InternalError => "INTERNAL_ERROR",
        InvalidEcsService => "INVALID_ECS_SERVICE",
        InvalidLambdaConfiguration => "INVALID_LAMBDA_CONFIGURATION",
        InvalidLambdaFunction => "INVALID_LAMBDA_FUNCTION",
        /// A bad bundle or AppSpec.
        InvalidRevision => "INVALID_REVISION",
        /// StopDeployment.
        ManualStop => "MANUAL_STOP",
        MissingBlueGreenDeploymentConfiguration => "MISSING_BLUE_GREEN_DEPLOYMENT_CONFIGURATION",
        MissingElbInformation => "MISSING_ELB_INFORMATION",
        MissingGithubToken => "MISSING_GITHUB_TOKEN",
        NoEc2Subscription => "NO_EC2_SUBSCRIPTION",
        /// The targets resolve to nothing.
        NoInstances => "NO_INSTANCES",
        /// The instance limit was exceeded.
        OverMaxInstances => "OVER_MAX_INSTANCES",
        ResourceLimitExceeded => "RESOURCE_LIMIT_EXCEEDED",
        /// The revision was deleted between create and start.
        RevisionMissing => "REVISION_MISSING",
        Throttled => "THROTTLED",
        /// The deployment timed out.
        Timeout => "TIMEOUT",
        CloudformationStackFailure => "CLOUDFORMATION_STACK_FAILURE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that every value's spelling parses back to it and that spellings are unique.
    fn assert_round_trip<T: Copy + PartialEq + fmt::Debug>(
        all: &[T],
        as_str: fn(T) -> &'static str,
        parse: fn(&str) -> Option<T>,
    ) {
        for &value in all {
            assert_eq!(parse(as_str(value)), Some(value), "{value:?}");
        }
        let mut spellings: Vec<&str> = all.iter().map(|&value| as_str(value)).collect();
        spellings.sort_unstable();
        spellings.dedup();
        assert_eq!(spellings.len(), all.len(), "duplicate spelling");
    }

    #[test]
    fn spellings_round_trip() {
        assert_round_trip(DeploymentStatus::ALL, DeploymentStatus::as_str, DeploymentStatus::parse);
        assert_round_trip(TargetStatus::ALL, TargetStatus::as_str, TargetStatus::parse);
        assert_round_trip(EventStatus::ALL, EventStatus::as_str, EventStatus::parse);
        assert_round_trip(LifecycleErrorCode::ALL, LifecycleErrorCode::as_str, LifecycleErrorCode::parse);
        assert_round_trip(DeploymentErrorCode::ALL, DeploymentErrorCode::as_str, DeploymentErrorCode::parse);
    }

    #[test]
    fn spellings_are_codedeploys() {
        let cases: &[(&str, &str)] = &[
            (DeploymentStatus::InProgress.as_str(), "InProgress"),
            (DeploymentStatus::Baking.as_str(), "Baking"),
            (TargetStatus::Unknown.as_str(), "Unknown"),
            (TargetStatus::Ready.as_str(), "Ready"),
            (EventStatus::Skipped.as_str(), "Skipped"),
            (LifecycleErrorCode::ScriptTimedOut.as_str(), "ScriptTimedOut"),
            (LifecycleErrorCode::UnknownError.as_str(), "UnknownError"),
            (DeploymentErrorCode::HealthConstraintsInvalid.as_str(), "HEALTH_CONSTRAINTS_INVALID"),
            (DeploymentErrorCode::AutoScalingIamRolePermissions.as_str(), "AUTO_SCALING_IAM_ROLE_PERMISSIONS"),
            (DeploymentErrorCode::AutoscalingValidationError.as_str(), "AUTOSCALING_VALIDATION_ERROR"),
            (DeploymentErrorCode::NoEc2Subscription.as_str(), "NO_EC2_SUBSCRIPTION"),
            (DeploymentErrorCode::CloudformationStackFailure.as_str(), "CLOUDFORMATION_STACK_FAILURE"),
        ];
        for (actual, expected) in cases {
            assert_eq!(actual, expected);
        }
        assert_eq!(DeploymentStatus::ALL.len(), 8);
        assert_eq!(TargetStatus::ALL.len(), 7);
        assert_eq!(EventStatus::ALL.len(), 6);
        assert_eq!(LifecycleErrorCode::ALL.len(), 6);
        assert_eq!(DeploymentErrorCode::ALL.len(), 34);
        assert_eq!(DeploymentErrorCode::ManualStop.to_string(), "MANUAL_STOP");
    }

    #[test]
    fn parse_is_exact() {
        let rejected = ["", "inprogress", "IN_PROGRESS", " Succeeded", "health_constraints", "Success "];
        for text in rejected {
            assert_eq!(DeploymentStatus::parse(text), None, "{text:?}");
            assert_eq!(DeploymentErrorCode::parse(text), None, "{text:?}");
            assert_eq!(LifecycleErrorCode::parse(text), None, "{text:?}");
        }
        // Ready is a target status but not an event status.
        assert_eq!(TargetStatus::parse("Ready"), Some(TargetStatus::Ready));
        assert_eq!(EventStatus::parse("Ready"), None);
    }

    #[test]
    fn terminal_statuses() {
        use DeploymentStatus as D;
        let deployment = [
            (D::Created, false),
            (D::Queued, false),
            (D::InProgress, false),
            (D::Baking, false),
            (D::Succeeded, true),
            (D::Failed, true),
            (D::Stopped, true),
            (D::Ready, false),
        ];
        for (status, terminal) in deployment {
            assert_eq!(status.is_terminal(), terminal, "{status}");
            assert_eq!(status.is_active(), !terminal, "{status}");
        }

        use TargetStatus as T;
        let target = [
            (T::Pending, false),
            (T::InProgress, false),
            (T::Succeeded, true),
            (T::Failed, true),
            (T::Skipped, true),
            (T::Unknown, false),
            (T::Ready, false),
        ];
        for (status, terminal) in target {
            assert_eq!(status.is_terminal(), terminal, "{status}");
        }

        use EventStatus as E;
        let event = [
            (E::Pending, false),
            (E::InProgress, false),
            (E::Succeeded, true),
            (E::Failed, true),
            (E::Skipped, true),
            (E::Unknown, false),
        ];
        for (status, terminal) in event {
            assert_eq!(status.is_terminal(), terminal, "{status}");
        }
    }

    #[test]
    fn deployment_transitions() {
        use DeploymentStatus::*;
        // The full table of legal moves; every pair not listed here must be rejected.
        let legal: &[(DeploymentStatus, &[DeploymentStatus])] = &[
            (Created, &[Queued, InProgress, Failed, Stopped]),
            (Queued, &[InProgress, Stopped, Failed]),
            (InProgress, &[Succeeded, Failed, Stopped, Ready, Baking]),
            (Ready, &[InProgress, Stopped, Failed]),
            (Baking, &[Succeeded, Failed, Stopped]),
            (Succeeded, &[]),
            (Failed, &[]),
            (Stopped, &[]),
        ];
        assert_eq!(legal.len(), DeploymentStatus::ALL.len());
        for &(from, targets) in legal {
            for &to in DeploymentStatus::ALL {
                assert_eq!(from.can_transition_to(to), targets.contains(&to), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn terminal_statuses_go_nowhere() {
        for &from in DeploymentStatus::ALL.iter().filter(|status| status.is_terminal()) {
            assert!(DeploymentStatus::ALL.iter().all(|&to| !from.can_transition_to(to)), "{from}");
        }
    }

    #[test]
    fn agent_codes_map_to_diagnostics() {
        use LifecycleErrorCode::*;
        let cases = [
            (0, Success),
            (1, ScriptMissing),
            (2, ScriptNotExecutable),
            (3, ScriptTimedOut),
            (4, ScriptFailed),
            (5, UnknownError),
            (6, UnknownError),
            (7, UnknownError),
            (-1, UnknownError),
            (99, UnknownError),
        ];
        for (code, expected) in cases {
            assert_eq!(LifecycleErrorCode::from_agent_code(code), expected, "{code}");
        }
    }
}
