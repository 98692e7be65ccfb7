//! Lifecycle events of EC2/on-premises deployments: their names, order, and which revision's scripts they use.

use std::fmt;
use std::str::FromStr;

/// A lifecycle event of a deployment on one instance.
///
/// The names are CodeDeploy's, and they are what hooks are keyed by in `appspec.yml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LifecycleEvent {
    Start,
    BeforeBlockTraffic,
    BlockTraffic,
    AfterBlockTraffic,
    ApplicationStop,
    DownloadBundle,
    BeforeInstall,
    Install,
    AfterInstall,
    ApplicationStart,
    ValidateService,
    BeforeAllowTraffic,
    AllowTraffic,
    AfterAllowTraffic,
    AllowTestTraffic,
    AfterAllowTestTraffic,
    End,
}

/// Which installed revision a hook takes its scripts from (CodeDeploy agent `HookExecutor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptSource {
    /// The revision of the group's last successful Install on this host; the hook is a no-op if there is none.
    LastSuccessfulInstall,
    /// The revision being deployed.
    Current,
}

impl LifecycleEvent {
    /// Every event, in CodeDeploy's canonical order.
    pub const ALL: [LifecycleEvent; 17] = [
        Self::Start,
        Self::BeforeBlockTraffic,
        Self::BlockTraffic,
        Self::AfterBlockTraffic,
        Self::ApplicationStop,
        Self::DownloadBundle,
        Self::BeforeInstall,
        Self::Install,
        Self::AfterInstall,
        Self::ApplicationStart,
        Self::ValidateService,
        Self::BeforeAllowTraffic,
        Self::AllowTraffic,
        Self::AfterAllowTraffic,
        Self::AllowTestTraffic,
        Self::AfterAllowTestTraffic,
        Self::End,
    ];

    /// The events of an in-place deployment without traffic control, in the order they run on each host.
    pub const IN_PLACE: [LifecycleEvent; 7] = [
        Self::ApplicationStop,
        Self::DownloadBundle,
        Self::BeforeInstall,
        Self::Install,
        Self::AfterInstall,
        Self::ApplicationStart,
        Self::ValidateService,
    ];

    /// Returns CodeDeploy's name of the event.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "Start",
            Self::BeforeBlockTraffic => "BeforeBlockTraffic",
            Self::BlockTraffic => "BlockTraffic",
            Self::AfterBlockTraffic => "AfterBlockTraffic",
            Self::ApplicationStop => "ApplicationStop",
            Self::DownloadBundle => "DownloadBundle",
            Self::BeforeInstall => "BeforeInstall",
            Self::Install => "Install",
            Self::AfterInstall => "AfterInstall",
            Self::ApplicationStart => "ApplicationStart",
            Self::ValidateService => "ValidateService",
            Self::BeforeAllowTraffic => "BeforeAllowTraffic",
            Self::AllowTraffic => "AllowTraffic",
            Self::AfterAllowTraffic => "AfterAllowTraffic",
            Self::AllowTestTraffic => "AllowTestTraffic",
            Self::AfterAllowTestTraffic => "AfterAllowTestTraffic",
            Self::End => "End",
        }
    }

    /// Returns true when `appspec.yml` may list scripts for this event on the EC2/on-premises platform.
    ///
    /// DownloadBundle and Install are done by the agent itself, and BlockTraffic/AllowTraffic by the server.
    pub fn accepts_scripts(self) -> bool {
        matches!(
            self,
            Self::BeforeBlockTraffic
                | Self::AfterBlockTraffic
                | Self::ApplicationStop
                | Self::BeforeInstall
                | Self::AfterInstall
                | Self::ApplicationStart
                | Self::ValidateService
                | Self::BeforeAllowTraffic
                | Self::AfterAllowTraffic
        )
    }

    /// Returns which revision's scripts the hook runs, for a normal (not blue/green rollback) deployment.
    pub fn script_source(self) -> ScriptSource {
        match self {
            Self::BeforeBlockTraffic | Self::AfterBlockTraffic | Self::ApplicationStop => {
                ScriptSource::LastSuccessfulInstall
            }
            _ => ScriptSource::Current,
        }
    }
}

impl fmt::Display for LifecycleEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a string that names no lifecycle event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown lifecycle event {0:?}")]
pub struct UnknownLifecycleEvent(pub String);

impl FromStr for LifecycleEvent {
    type Err = UnknownLifecycleEvent;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|event| event.as_str() == name)
            .ok_or_else(|| UnknownLifecycleEvent(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for event in LifecycleEvent::ALL {
            assert_eq!(event.as_str().parse::<LifecycleEvent>(), Ok(event));
        }
        assert!("Nope".parse::<LifecycleEvent>().is_err());
    }

    #[test]
    fn agent_only_events_take_no_scripts() {
        assert!(!LifecycleEvent::DownloadBundle.accepts_scripts());
        assert!(!LifecycleEvent::Install.accepts_scripts());
        assert!(!LifecycleEvent::BlockTraffic.accepts_scripts());
        assert!(!LifecycleEvent::AllowTraffic.accepts_scripts());
        assert!(LifecycleEvent::ValidateService.accepts_scripts());
    }
}
