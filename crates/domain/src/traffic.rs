//! Traffic control: the phases of a blue/green deployment and the router weights that give each fleet its share.
//!
//! A blue/green deployment runs fleet-wide steps one after another (CodeDeploy's §6 flow): install the revision on
//! the replacement (Green) hosts, optionally wait in Ready, let traffic in to them, then block traffic to the
//! original (Blue) hosts. Each lifecycle event carries the phase from which it may run; the deployment moves to the
//! next phase once every event of the earlier ones closed. A rollback swaps the roles: the originals get traffic
//! back and the replacements are blocked.

use crate::lifecycle::LifecycleEvent;

/// A host's part in a blue/green deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// An original host, running the current revision and serving traffic when the deployment starts.
    Blue,
    /// A replacement host, which receives the new revision and then the traffic.
    Green,
}

impl Role {
    /// The spelling CodeDeploy uses for `instanceType`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Blue => "Blue",
            Self::Green => "Green",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "Blue" => Some(Self::Blue),
            "Green" => Some(Self::Green),
            _ => None,
        }
    }
}

/// The phases of a blue/green deployment, in order.
pub mod phase {
    /// Install on the replacement hosts (ApplicationStop … ValidateService).
    pub const INSTALL: i64 = 0;
    /// BeforeAllowTraffic on the hosts that get traffic.
    pub const BEFORE_ALLOW: i64 = 1;
    /// AllowTraffic: the server moves the traffic (all at once, or step by step for canary/linear).
    pub const ALLOW: i64 = 2;
    pub const AFTER_ALLOW: i64 = 3;
    pub const BEFORE_BLOCK: i64 = 4;
    /// BlockTraffic: the server drains the hosts that lose traffic.
    pub const BLOCK: i64 = 5;
    pub const AFTER_BLOCK: i64 = 6;
    /// The last phase: once it closed, the originals wait for termination (or are kept alive).
    pub const LAST: i64 = AFTER_BLOCK;
}

/// The events a host runs in a blue/green deployment, each with its phase.
///
/// Normal deployment: Green hosts install and get traffic, Blue hosts are blocked. Rollback (`rollback`): Blue hosts
/// get traffic back and Green hosts are blocked; nothing is installed.
pub fn blue_green_events(role: Role, rollback: bool) -> Vec<(LifecycleEvent, i64)> {
    use LifecycleEvent as E;
    let allow = [
        (E::BeforeAllowTraffic, phase::BEFORE_ALLOW),
        (E::AllowTraffic, phase::ALLOW),
        (E::AfterAllowTraffic, phase::AFTER_ALLOW),
    ];
    let block = [
        (E::BeforeBlockTraffic, phase::BEFORE_BLOCK),
        (E::BlockTraffic, phase::BLOCK),
        (E::AfterBlockTraffic, phase::AFTER_BLOCK),
    ];
    match (role, rollback) {
        (Role::Green, false) => {
            let mut events: Vec<_> = LifecycleEvent::IN_PLACE.iter().map(|event| (*event, phase::INSTALL)).collect();
            events.extend(allow);
            events
        }
        (Role::Blue, false) | (Role::Green, true) => block.to_vec(),
        (Role::Blue, true) => allow.to_vec(),
    }
}

/// Per-member router weights that give the new fleet `new_percent` of the traffic: `(old_each, new_each)`.
///
/// Each fleet's share is spread evenly over its members, scaled so the heaviest member gets at most `max_weight`
/// (the router's limit: 256 for HAProxy). A fleet with a share above zero never rounds down to weight 0, and a fleet
/// with no share gets exactly 0. With no member on one side, the other side takes everything.
pub fn split_weights(new_percent: u64, old_members: usize, new_members: usize, max_weight: u32) -> (u32, u32) {
    let new_percent = new_percent.min(100);
    let old_share = if old_members == 0 { 0.0 } else { (100 - new_percent) as f64 / old_members as f64 };
    let new_share = if new_members == 0 { 0.0 } else { new_percent as f64 / new_members as f64 };
    let heaviest = old_share.max(new_share);
    if heaviest == 0.0 {
        return (0, 0);
    }
    let scale = f64::from(max_weight.max(1)) / heaviest;
    let weight =
        |share: f64| if share == 0.0 { 0 } else { ((share * scale).round() as u32).clamp(1, max_weight.max(1)) };
    (weight(old_share), weight(new_share))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blue_green_events_per_role() {
        use LifecycleEvent as E;
        let green = blue_green_events(Role::Green, false);
        assert_eq!(green.len(), 10);
        assert_eq!(green[0], (E::ApplicationStop, phase::INSTALL));
        assert_eq!(green[6], (E::ValidateService, phase::INSTALL));
        assert_eq!(green[8], (E::AllowTraffic, phase::ALLOW));
        let blue = blue_green_events(Role::Blue, false);
        assert_eq!(
            blue,
            [
                (E::BeforeBlockTraffic, phase::BEFORE_BLOCK),
                (E::BlockTraffic, phase::BLOCK),
                (E::AfterBlockTraffic, phase::AFTER_BLOCK)
            ]
        );
        assert_eq!(blue_green_events(Role::Green, true), blue);
        assert_eq!(blue_green_events(Role::Blue, true)[1], (E::AllowTraffic, phase::ALLOW));
        for role in [Role::Blue, Role::Green] {
            for rollback in [false, true] {
                let events = blue_green_events(role, rollback);
                assert!(events.windows(2).all(|pair| pair[0].1 <= pair[1].1), "phases never go back");
            }
        }
    }

    #[test]
    fn weights_give_each_fleet_its_share() {
        // (new %, old members, new members, max) -> (old each, new each)
        let cases = [
            (0, 2, 2, 256, (256, 0)),
            (100, 2, 2, 256, (0, 256)),
            (10, 2, 2, 256, (256, 28)),
            (50, 1, 3, 10_000, (10_000, 3_333)),
            (25, 3, 1, 256, (256, 256)),
            (40, 3, 1, 256, (128, 256)),
            (1, 4, 1, 256, (256, 10)),
            (30, 0, 2, 256, (0, 256)),
            (30, 2, 0, 256, (256, 0)),
            (0, 0, 0, 256, (0, 0)),
        ];
        for (new_percent, old, new, max, expected) in cases {
            assert_eq!(split_weights(new_percent, old, new, max), expected, "{new_percent}% {old}/{new} max {max}");
        }
    }

    #[test]
    fn shares_from_weights_match_the_percentage() {
        for new_percent in [1, 5, 10, 25, 33, 50, 75, 90, 99] {
            for (old, new) in [(1, 1), (2, 2), (3, 1), (1, 4), (5, 3)] {
                let (old_w, new_w) = split_weights(new_percent, old, new, 256);
                let total = f64::from(old_w) * old as f64 + f64::from(new_w) * new as f64;
                let share = f64::from(new_w) * new as f64 / total * 100.0;
                assert!((share - new_percent as f64).abs() < 1.0, "{new_percent}% {old}/{new}: {share:.2}%");
            }
        }
    }
}
