//! Lifecycle events of EC2/on-premises deployments: their names, order, and which revision's scripts they use.
//!
//! Besides CodeDeploy's events there is one Cutover extension, [`LifecycleEvent::OnFailure`]: a hook that an AppSpec
//! may list scripts for, run by the agent on a host right after another event failed there. It is never a step of a
//! deployment, so it is in none of the ordered lists ([`LifecycleEvent::ALL`], [`LifecycleEvent::IN_PLACE`]) but in
//! [`LifecycleEvent::EXTENSIONS`].

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
    /// Cutover extension: runs on a host when another event failed there (see the module documentation).
    OnFailure,
}

/// Which installed revision a hook takes its scripts from (CodeDeploy agent `HookExecutor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptSource {
    /// The revision of the group's last successful Install on this host; the hook is a no-op if there is none.
    LastSuccessfulInstall,
    /// The revision being deployed.
    Current,
    /// The revision of the group's most recent DownloadBundle on this host (a blue/green rollback blocks traffic to
    /// the replacement hosts with the scripts of the revision that was installed there); a no-op if there is none.
    MostRecentInstall,
    /// The revision being deployed if its archive is on the host, else the group's last successful install; nothing
    /// when there is neither (the `OnFailure` hook).
    CurrentElseLastSuccessfulInstall,
}

impl LifecycleEvent {
    /// Every CodeDeploy event, in CodeDeploy's canonical order (never [`LifecycleEvent::OnFailure`]).
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

    /// The events of an in-place deployment with traffic control (the group names target groups), in the order they
    /// run on each host: the host is taken out of the router before its application stops and put back once it
    /// passes the router's health checks.
    pub const IN_PLACE_WITH_TRAFFIC_CONTROL: [LifecycleEvent; 13] = [
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

    /// Cutover's hook events beyond CodeDeploy: they accept scripts, but never run as a step of a deployment.
    pub const EXTENSIONS: [LifecycleEvent; 1] = [Self::OnFailure];

    /// Returns CodeDeploy's name of the event (Cutover's, for an extension).
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
            Self::OnFailure => "OnFailure",
        }
    }

    /// Returns true when `appspec.yml` may list scripts for this event on the EC2/on-premises platform.
    ///
    /// DownloadBundle and Install are done by the agent itself, and BlockTraffic/AllowTraffic by the server.
    /// The extension `OnFailure` accepts scripts too.
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
                | Self::OnFailure
        )
    }

    /// Returns true for the events the server runs itself (they drive the router), never handed to an agent.
    pub fn is_server_run(self) -> bool {
        matches!(self, Self::BlockTraffic | Self::AllowTraffic)
    }

    /// Returns which revision's scripts the hook runs in a deployment; `blue_green_rollback` is a rollback
    /// (creator `codeDeployRollback`) of a blue/green deployment, where the traffic hooks of the original hosts come
    /// from what they run and those of the replacement hosts from what was installed there last.
    pub fn script_source_in(self, blue_green_rollback: bool) -> ScriptSource {
        match self {
            Self::BeforeBlockTraffic | Self::AfterBlockTraffic if blue_green_rollback => {
                ScriptSource::MostRecentInstall
            }
            Self::BeforeAllowTraffic | Self::AfterAllowTraffic if blue_green_rollback => {
                ScriptSource::LastSuccessfulInstall
            }
            _ => self.script_source(),
        }
    }

    /// Returns true for Cutover's extensions ([`LifecycleEvent::EXTENSIONS`]), which CodeDeploy does not know.
    pub fn is_extension(self) -> bool {
        Self::EXTENSIONS.contains(&self)
    }

    /// Returns which revision's scripts the hook runs, for a normal (not blue/green rollback) deployment.
    pub fn script_source(self) -> ScriptSource {
        match self {
            Self::BeforeBlockTraffic | Self::AfterBlockTraffic | Self::ApplicationStop => {
                ScriptSource::LastSuccessfulInstall
            }
            Self::OnFailure => ScriptSource::CurrentElseLastSuccessfulInstall,
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
            .chain(Self::EXTENSIONS.iter())
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
        for event in LifecycleEvent::ALL.into_iter().chain(LifecycleEvent::EXTENSIONS) {
            assert_eq!(event.as_str().parse::<LifecycleEvent>(), Ok(event));
        }
        assert!("Nope".parse::<LifecycleEvent>().is_err());
        assert!("onfailure".parse::<LifecycleEvent>().is_err(), "names are case-sensitive");
    }

    #[test]
    fn on_failure_takes_scripts_but_is_never_a_deployment_step() {
        let event = LifecycleEvent::OnFailure;
        assert!(event.accepts_scripts());
        assert!(event.is_extension());
        assert!(!LifecycleEvent::ALL.contains(&event));
        assert!(!LifecycleEvent::IN_PLACE.contains(&event));
        assert!(LifecycleEvent::ALL.iter().all(|event| !event.is_extension()));
        assert_eq!(event.script_source(), ScriptSource::CurrentElseLastSuccessfulInstall);
    }

    #[test]
    fn blue_green_rollback_takes_traffic_hooks_from_installed_revisions() {
        use LifecycleEvent as E;
        assert_eq!(E::BeforeBlockTraffic.script_source_in(true), ScriptSource::MostRecentInstall);
        assert_eq!(E::AfterBlockTraffic.script_source_in(true), ScriptSource::MostRecentInstall);
        assert_eq!(E::BeforeAllowTraffic.script_source_in(true), ScriptSource::LastSuccessfulInstall);
        assert_eq!(E::AfterAllowTraffic.script_source_in(true), ScriptSource::LastSuccessfulInstall);
        assert_eq!(E::ApplicationStop.script_source_in(true), ScriptSource::LastSuccessfulInstall);
        assert_eq!(E::BeforeAllowTraffic.script_source_in(false), ScriptSource::Current);
        assert_eq!(E::BeforeBlockTraffic.script_source_in(false), ScriptSource::LastSuccessfulInstall);
    }

    #[test]
    fn only_traffic_events_are_server_run() {
        let server: Vec<_> = LifecycleEvent::ALL.into_iter().filter(|event| event.is_server_run()).collect();
        assert_eq!(server, [LifecycleEvent::BlockTraffic, LifecycleEvent::AllowTraffic]);
        assert_eq!(LifecycleEvent::IN_PLACE_WITH_TRAFFIC_CONTROL[1], LifecycleEvent::BlockTraffic);
        assert_eq!(LifecycleEvent::IN_PLACE_WITH_TRAFFIC_CONTROL[11], LifecycleEvent::AllowTraffic);
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
