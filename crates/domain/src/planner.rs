//! The rolling planner of EC2/on-premises in-place deployments: which instances go first, how many may be updated at
//! once, and when the deployment has succeeded or failed under its minimum-healthy-hosts rule.
//!
//! The planner is a pure function of the targets' progress. The executor calls [`step`] whenever a target changes,
//! applies what it returns, and calls it again; no planner state is kept between calls, so a restarted server
//! continues from the stored target statuses.
//!
//! The model (reference §4.2): with N targets and `min_healthy` from the rule, the budget `B = N − min_healthy` is
//! how many targets may be unavailable — in flight or failed — at once. Targets are dispatched in order while
//! `in_flight + failed < B`. Once failures use up the budget, no more are dispatched; when nothing is in flight any
//! more, the deployment fails and the undispatched targets are skipped. If every target was attempted, it succeeds
//! when at least `min_healthy` (and at least one) succeeded, which is why a failure on the last instance can still
//! succeed.

use std::cmp::Ordering;

use crate::config::MinimumHealthyHosts;
use crate::status::{DeploymentErrorCode, TargetStatus};

/// Whether an instance's last deployment succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstanceHealth {
    Healthy,
    /// The last deployment to the instance failed, or it has never been deployed to.
    Unhealthy,
}

/// Whether an instance runs the deployment group's target revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevisionHealth {
    /// It runs the group's target revision.
    Current,
    /// It runs an earlier revision.
    Old,
    /// What it runs is not known (for example it was not updated by a deployment that succeeded elsewhere).
    Unknown,
}

/// An instance about to be deployed to, with the health that decides its place in the order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Candidate {
    pub name: String,
    pub health: InstanceHealth,
    pub revision: RevisionHealth,
}

/// Puts candidates in dispatch order: unhealthy instances first, then by revision health (Unknown, Old, Current),
/// then by name.
///
/// Deploying to failed instances first means a bad revision is found on instances that were already down, before it
/// takes healthy ones out of service. The name tie-break makes the order independent of how the caller listed them.
pub fn order_candidates(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by(compare_candidates);
    candidates
}

fn compare_candidates(left: &Candidate, right: &Candidate) -> Ordering {
    let health_rank = |health: InstanceHealth| match health {
        InstanceHealth::Unhealthy => 0,
        InstanceHealth::Healthy => 1,
    };
    let revision_rank = |revision: RevisionHealth| match revision {
        RevisionHealth::Unknown => 0,
        RevisionHealth::Old => 1,
        RevisionHealth::Current => 2,
    };
    health_rank(left.health)
        .cmp(&health_rank(right.health))
        .then(revision_rank(left.revision).cmp(&revision_rank(right.revision)))
        .then_with(|| left.name.cmp(&right.name))
}

/// Checks at deployment start that the rule can be met by `n` targets, and returns `min_healthy`.
///
/// No targets → `NO_INSTANCES`; `min_healthy ≥ n` → `HEALTH_CONSTRAINTS_INVALID` (10 targets at 95% need all 10
/// healthy, so none could ever be taken down). OneAtATime with one target gives `min_healthy` 0, which is valid.
pub fn start(n: u64, rule: &MinimumHealthyHosts) -> Result<u64, DeploymentErrorCode> {
    if n == 0 {
        return Err(DeploymentErrorCode::NoInstances);
    }
    let min_healthy = rule.min_healthy(n);
    if min_healthy >= n {
        return Err(DeploymentErrorCode::HealthConstraintsInvalid);
    }
    Ok(min_healthy)
}

/// Returns how many of `n` targets may be unavailable (in flight or failed) at once: `n − min_healthy`, at least 1.
///
/// After [`start`] has accepted the rule this is simply `n − min_healthy`; the floor of 1 keeps a deployment that
/// skipped that check moving one target at a time instead of stalling.
pub fn unavailable_budget(n: u64, min_healthy: u64) -> u64 {
    n.saturating_sub(min_healthy).max(1)
}

/// Where one target stands in an in-place deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Progress {
    /// Not dispatched yet.
    Pending,
    /// Dispatched; its lifecycle events are running.
    InProgress,
    Succeeded,
    /// Its deployment failed. Stopped or unreachable instances count here too.
    Failed,
    /// Never attempted, because the deployment ended first.
    Skipped,
}

impl From<Progress> for TargetStatus {
    fn from(progress: Progress) -> Self {
        match progress {
            Progress::Pending => TargetStatus::Pending,
            Progress::InProgress => TargetStatus::InProgress,
            Progress::Succeeded => TargetStatus::Succeeded,
            Progress::Failed => TargetStatus::Failed,
            Progress::Skipped => TargetStatus::Skipped,
        }
    }
}

/// What the executor should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Start these targets (indices into the slice given to [`step`], in dispatch order).
    Dispatch(Vec<usize>),
    /// Nothing to start now; call again when an in-flight target finishes.
    Wait,
    /// Every target was attempted and enough succeeded.
    Succeeded,
    /// The deployment has failed: mark `skip` (targets never dispatched) Skipped and finish with `code`.
    Failed { code: DeploymentErrorCode, skip: Vec<usize> },
}

/// Decides the next move of an in-place deployment from its targets' progress, in dispatch order.
///
/// `min_healthy` is what [`start`] returned for `targets.len()` targets. The result depends only on the inputs:
/// called again without applying a `Dispatch`, it returns the same `Dispatch`; once the dispatched targets are
/// marked InProgress, it returns `Wait` or further dispatches, never the same target twice.
pub fn step(min_healthy: u64, targets: &[Progress]) -> Step {
    if targets.is_empty() {
        return Step::Failed { code: DeploymentErrorCode::NoInstances, skip: Vec::new() };
    }
    let counts = overview(targets);
    let budget = unavailable_budget(counts.total(), min_healthy);
    let pending = targets.iter().enumerate().filter(|(_, progress)| **progress == Progress::Pending);

    if counts.pending > 0 {
        if counts.failed >= budget {
            // The failures alone use up the budget: dispatch nothing more, and fail once in-flight targets settle.
            if counts.in_progress > 0 {
                return Step::Wait;
            }
            let skip = pending.map(|(index, _)| index).collect();
            return Step::Failed { code: DeploymentErrorCode::HealthConstraints, skip };
        }
        let room = (budget - counts.failed).saturating_sub(counts.in_progress);
        if room == 0 {
            return Step::Wait;
        }
        let room = usize::try_from(room).unwrap_or(usize::MAX);
        return Step::Dispatch(pending.map(|(index, _)| index).take(room).collect());
    }
    if counts.in_progress > 0 {
        return Step::Wait;
    }
    if counts.succeeded >= min_healthy && counts.succeeded >= 1 {
        Step::Succeeded
    } else {
        Step::Failed { code: DeploymentErrorCode::HealthConstraints, skip: Vec::new() }
    }
}

/// Counts of targets per status, as in `DeploymentInfo.deploymentOverview`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Overview {
    pub pending: u64,
    pub in_progress: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Blue/green replacement instances waiting for traffic; always 0 for in-place progress.
    pub ready: u64,
}

impl Overview {
    /// Returns the number of targets counted.
    pub fn total(&self) -> u64 {
        self.pending + self.in_progress + self.succeeded + self.failed + self.skipped + self.ready
    }

    /// Counts stored target statuses. Unknown targets appear in no column of CodeDeploy's overview, so they are
    /// left out.
    pub fn from_statuses(statuses: impl IntoIterator<Item = TargetStatus>) -> Self {
        let mut res = Self::default();
        for status in statuses {
            match status {
                TargetStatus::Pending => res.pending += 1,
                TargetStatus::InProgress => res.in_progress += 1,
                TargetStatus::Succeeded => res.succeeded += 1,
                TargetStatus::Failed => res.failed += 1,
                TargetStatus::Skipped => res.skipped += 1,
                TargetStatus::Ready => res.ready += 1,
                TargetStatus::Unknown => {}
            }
        }
        res
    }
}

/// Counts in-place targets per status.
pub fn overview(targets: &[Progress]) -> Overview {
    Overview::from_statuses(targets.iter().map(|&progress| TargetStatus::from(progress)))
}

#[cfg(test)]
mod tests {
    use super::*;

    use MinimumHealthyHosts::{FleetPercent, HostCount, OneAtATime};

    // ---- ordering ----

    fn candidate(name: &str, health: InstanceHealth, revision: RevisionHealth) -> Candidate {
        Candidate { name: name.to_owned(), health, revision }
    }

    #[test]
    fn candidates_are_ordered_failed_first() {
        use InstanceHealth::{Healthy, Unhealthy};
        use RevisionHealth::{Current, Old, Unknown};
        let input = vec![
            candidate("a-current", Healthy, Current),
            candidate("b-old", Healthy, Old),
            candidate("c-unknown", Healthy, Unknown),
            candidate("d-unhealthy-current", Unhealthy, Current),
            candidate("e-unhealthy-unknown", Unhealthy, Unknown),
            candidate("a-old", Healthy, Old),
            candidate("z-unhealthy-unknown", Unhealthy, Unknown),
            candidate("a-unhealthy-unknown", Unhealthy, Unknown),
        ];
        let names: Vec<String> = order_candidates(input).into_iter().map(|candidate| candidate.name).collect();
        assert_eq!(
            names,
            [
                "a-unhealthy-unknown",
                "e-unhealthy-unknown",
                "z-unhealthy-unknown",
                "d-unhealthy-current",
                "c-unknown",
                "a-old",
                "b-old",
                "a-current",
            ]
        );
    }

    #[test]
    fn candidate_order_ignores_input_order() {
        use InstanceHealth::{Healthy, Unhealthy};
        use RevisionHealth::{Current, Old};
        let input = vec![
            candidate("i-3", Healthy, Current),
            candidate("i-1", Healthy, Old),
            candidate("i-2", Unhealthy, Old),
            candidate("i-0", Healthy, Current),
        ];
        let mut reversed = input.clone();
        reversed.reverse();
        assert_eq!(order_candidates(input), order_candidates(reversed));
        assert_eq!(order_candidates(Vec::new()), Vec::new());
    }

    // ---- start ----

    #[test]
    fn start_checks_the_rule() {
        let cases = [
            (0, OneAtATime, Err(DeploymentErrorCode::NoInstances)),
            (0, HostCount(0), Err(DeploymentErrorCode::NoInstances)),
            (1, OneAtATime, Ok(0)),
            (9, OneAtATime, Ok(8)),
            (9, HostCount(6), Ok(6)),
            (9, FleetPercent(40), Ok(4)),
            (9, FleetPercent(50), Ok(5)),
            (9, HostCount(0), Ok(0)),
            (10, HostCount(8), Ok(8)),
            (10, FleetPercent(95), Err(DeploymentErrorCode::HealthConstraintsInvalid)),
            (10, FleetPercent(90), Ok(9)),
            (10, HostCount(10), Err(DeploymentErrorCode::HealthConstraintsInvalid)),
            (3, HostCount(5), Err(DeploymentErrorCode::HealthConstraintsInvalid)),
            (1, FleetPercent(1), Err(DeploymentErrorCode::HealthConstraintsInvalid)),
            (1, HostCount(0), Ok(0)),
        ];
        for (n, rule, expected) in cases {
            assert_eq!(start(n, &rule), expected, "{n} targets, {rule:?}");
        }
    }

    #[test]
    fn budgets() {
        let cases =
            [(9, 6, 3), (9, 4, 5), (9, 5, 4), (9, 0, 9), (10, 8, 2), (10, 9, 1), (1, 0, 1), (5, 5, 1), (5, 7, 1)];
        for (n, min_healthy, budget) in cases {
            assert_eq!(unavailable_budget(n, min_healthy), budget, "{n} {min_healthy}");
        }
    }

    // ---- single steps ----

    #[test]
    fn single_steps() {
        use Progress::{Failed as F, InProgress as I, Pending as P, Skipped as K, Succeeded as S};
        let failed = |skip: Vec<usize>| Step::Failed { code: DeploymentErrorCode::HealthConstraints, skip };
        let cases: Vec<(u64, Vec<Progress>, Step)> = vec![
            (6, vec![P; 9], Step::Dispatch(vec![0, 1, 2])),
            (0, vec![P; 4], Step::Dispatch(vec![0, 1, 2, 3])),
            (6, vec![I, I, I, P, P, P, P, P, P], Step::Wait),
            (6, vec![S, I, I, P, P, P, P, P, P], Step::Dispatch(vec![3])),
            (6, vec![F, I, I, P, P, P, P, P, P], Step::Wait),
            (6, vec![F, S, I, P, P, P, P, P, P], Step::Dispatch(vec![3])),
            (6, vec![F, F, S, S, P, P, P, P, P], Step::Dispatch(vec![4])),
            (6, vec![F, F, F, I, P, P, P, P, P], Step::Wait),
            (6, vec![F, F, F, S, P, P, P, P, P], failed(vec![4, 5, 6, 7, 8])),
            // Dispatch follows the given order even when earlier targets finished out of order.
            (8, vec![S, P, I, P, P, P, P, P, P, P], Step::Dispatch(vec![1])),
            (6, vec![S, S, S, S, S, S, F, F, I], Step::Wait),
            (6, vec![S, S, S, S, S, S, F, F, F], Step::Succeeded),
            (6, vec![S, S, S, S, S, F, F, F, S], Step::Succeeded),
            (7, vec![S, S, S, S, S, S, F, F, F], failed(vec![])),
            (0, vec![F, F, F], failed(vec![])),
            (0, vec![F, S, F], Step::Succeeded),
            (0, vec![S], Step::Succeeded),
            (0, vec![F], failed(vec![])),
            // After a failure was applied, the verdict does not change.
            (6, vec![F, F, F, S, K, K, K, K, K], failed(vec![])),
            // Without targets there is nothing to deploy to.
            (0, vec![], Step::Failed { code: DeploymentErrorCode::NoInstances, skip: vec![] }),
            // A rule that was never checked by `start` still moves one target at a time.
            (3, vec![P, P, P], Step::Dispatch(vec![0])),
            (3, vec![S, P, P], Step::Dispatch(vec![1])),
            (3, vec![F, P, P], failed(vec![1, 2])),
        ];
        for (min_healthy, targets, expected) in cases {
            assert_eq!(step(min_healthy, &targets), expected, "min {min_healthy}, {targets:?}");
        }
    }

    #[test]
    fn step_is_idempotent() {
        let mut targets = vec![Progress::Pending; 9];
        let first = step(4, &targets);
        assert_eq!(first, Step::Dispatch(vec![0, 1, 2, 3, 4]));
        assert_eq!(step(4, &targets), first, "same input, same answer");
        for index in [0, 1, 2, 3, 4] {
            targets[index] = Progress::InProgress;
        }
        assert_eq!(step(4, &targets), Step::Wait);
        assert_eq!(step(4, &targets), Step::Wait);
        targets[2] = Progress::Succeeded;
        assert_eq!(step(4, &targets), Step::Dispatch(vec![5]));
    }

    // ---- whole deployments ----

    /// How the simulated hosts finish.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Completion {
        /// Hosts finish one at a time, oldest dispatch first, and the planner runs after each.
        OneByOne,
        /// Every in-flight host finishes before the planner runs again, so each dispatch is a whole wave.
        WholeWave,
    }

    /// The final state of a simulated deployment.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Outcome {
        Succeeded,
        Failed(DeploymentErrorCode),
    }

    #[derive(Debug)]
    struct Run {
        /// The size of each dispatch, in order.
        dispatches: Vec<usize>,
        /// The most hosts in flight at once.
        peak_in_flight: usize,
        outcome: Outcome,
        /// The hosts marked Skipped.
        skipped: Vec<usize>,
        targets: Vec<Progress>,
    }

    /// Runs a whole deployment: `succeeds[i]` scripts whether host `i` (in dispatch order) succeeds.
    ///
    /// Along the way it checks the planner's invariants: only pending hosts are dispatched, never more than the
    /// budget is unavailable, and the deployment ends within a bounded number of steps.
    fn simulate(rule: MinimumHealthyHosts, succeeds: &[bool], completion: Completion) -> Run {
        let n = succeeds.len();
        let min_healthy = match start(n as u64, &rule) {
            Ok(min_healthy) => min_healthy,
            Err(code) => {
                return Run {
                    dispatches: vec![],
                    peak_in_flight: 0,
                    outcome: Outcome::Failed(code),
                    skipped: vec![],
                    targets: vec![],
                };
            }
        };
        let budget = unavailable_budget(n as u64, min_healthy) as usize;
        let mut targets = vec![Progress::Pending; n];
        let mut in_flight: Vec<usize> = Vec::new();
        let mut run = Run {
            dispatches: vec![],
            peak_in_flight: 0,
            outcome: Outcome::Succeeded,
            skipped: vec![],
            targets: vec![],
        };
        // Each host is dispatched once and finishes once; each planner call does at least one of those or ends.
        for _ in 0..=(2 * n + 1) {
            match step(min_healthy, &targets) {
                Step::Dispatch(indices) => {
                    assert!(!indices.is_empty(), "an empty dispatch would loop forever");
                    for &index in &indices {
                        assert_eq!(targets[index], Progress::Pending, "host {index} dispatched twice");
                        targets[index] = Progress::InProgress;
                        in_flight.push(index);
                    }
                    run.dispatches.push(indices.len());
                    run.peak_in_flight = run.peak_in_flight.max(in_flight.len());
                }
                Step::Wait => {
                    assert!(!in_flight.is_empty(), "waiting with nothing in flight would never end: {targets:?}");
                    let finishing = match completion {
                        Completion::OneByOne => vec![in_flight.remove(0)],
                        Completion::WholeWave => std::mem::take(&mut in_flight),
                    };
                    for index in finishing {
                        targets[index] = if succeeds[index] { Progress::Succeeded } else { Progress::Failed };
                    }
                }
                Step::Succeeded => {
                    run.outcome = Outcome::Succeeded;
                    break;
                }
                Step::Failed { code, skip } => {
                    for &index in &skip {
                        assert_eq!(targets[index], Progress::Pending, "only undispatched hosts are skipped");
                        targets[index] = Progress::Skipped;
                    }
                    run.outcome = Outcome::Failed(code);
                    run.skipped = skip;
                    break;
                }
            }
            let counts = overview(&targets);
            assert!(
                (counts.in_progress + counts.failed) as usize <= budget.max(counts.failed as usize),
                "more than the budget of {budget} unavailable: {targets:?}"
            );
            assert!(counts.in_progress as usize <= budget, "more than {budget} in flight: {targets:?}");
        }
        assert!(in_flight.is_empty(), "the deployment ended with hosts in flight: {targets:?}");
        assert!(
            targets.iter().all(|progress| !matches!(progress, Progress::Pending | Progress::InProgress)),
            "the deployment did not end: {targets:?}"
        );
        run.targets = targets;
        run
    }

    /// Scripted outcomes for `n` hosts where the hosts in `failing` fail.
    fn outcomes(n: usize, failing: &[usize]) -> Vec<bool> {
        (0..n).map(|index| !failing.contains(&index)).collect()
    }

    /// One worked example: a rule, the failing hosts, and what must happen.
    struct Example {
        rule: MinimumHealthyHosts,
        n: usize,
        failing: &'static [usize],
        completion: Completion,
        dispatches: &'static [usize],
        peak_in_flight: usize,
        outcome: Outcome,
        skipped: &'static [usize],
    }

    fn check_examples(examples: &[Example]) {
        for example in examples {
            let run = simulate(example.rule, &outcomes(example.n, example.failing), example.completion);
            let label = format!(
                "{} hosts, {:?}, failing {:?}, {:?}",
                example.n, example.rule, example.failing, example.completion
            );
            assert_eq!(run.dispatches, example.dispatches, "dispatch sizes: {label}");
            assert_eq!(run.peak_in_flight, example.peak_in_flight, "peak in flight: {label}");
            assert_eq!(run.outcome, example.outcome, "outcome: {label}");
            assert_eq!(run.skipped, example.skipped, "skipped: {label}");
        }
    }

    const HEALTH_CONSTRAINTS: Outcome = Outcome::Failed(DeploymentErrorCode::HealthConstraints);
    use Completion::{OneByOne, WholeWave};

    /// 9 hosts, HOST_COUNT 6: up to 3 at a time; succeeds iff at least 6 succeed.
    #[test]
    fn nine_hosts_host_count_six() {
        check_examples(&[
            Example {
                rule: HostCount(6),
                n: 9,
                failing: &[],
                completion: WholeWave,
                dispatches: &[3, 3, 3],
                peak_in_flight: 3,
                outcome: Outcome::Succeeded,
                skipped: &[],
            },
            Example {
                rule: HostCount(6),
                n: 9,
                failing: &[],
                completion: OneByOne,
                dispatches: &[3, 1, 1, 1, 1, 1, 1],
                peak_in_flight: 3,
                outcome: Outcome::Succeeded,
                skipped: &[],
            },
            // The whole last wave fails: 6 succeeded, which is enough.
            Example {
                rule: HostCount(6),
                n: 9,
                failing: &[6, 7, 8],
                completion: WholeWave,
                dispatches: &[3, 3, 3],
                peak_in_flight: 3,
                outcome: Outcome::Succeeded,
                skipped: &[],
            },
            // The whole first wave fails: the budget of 3 is gone and 6 hosts were never tried.
            Example {
                rule: HostCount(6),
                n: 9,
                failing: &[0, 1, 2],
                completion: WholeWave,
                dispatches: &[3],
                peak_in_flight: 3,
                outcome: HEALTH_CONSTRAINTS,
                skipped: &[3, 4, 5, 6, 7, 8],
            },
            // Two failures shrink the window to one host, and the third failure lands on the last host: 6 succeeded.
            Example {
                rule: HostCount(6),
                n: 9,
                failing: &[0, 4, 8],
                completion: OneByOne,
                dispatches: &[3, 1, 1, 1, 1, 1, 1],
                peak_in_flight: 3,
                outcome: Outcome::Succeeded,
                skipped: &[],
            },
            // The third failure comes while five hosts are still untried: fail, and skip them.
            Example {
                rule: HostCount(6),
                n: 9,
                failing: &[1, 2, 3],
                completion: OneByOne,
                dispatches: &[3, 1],
                peak_in_flight: 3,
                outcome: HEALTH_CONSTRAINTS,
                skipped: &[4, 5, 6, 7, 8],
            },
        ]);
    }

    /// 9 hosts, FLEET_PERCENT 40: min healthy ceil(3.6) = 4, up to 5 at a time; succeeds iff at least 4 succeed.
    #[test]
    fn nine_hosts_fleet_percent_forty() {
        check_examples(&[
            Example {
                rule: FleetPercent(40),
                n: 9,
                failing: &[],
                completion: WholeWave,
                dispatches: &[5, 4],
                peak_in_flight: 5,
                outcome: Outcome::Succeeded,
                skipped: &[],
            },
            // Five failures, but the budget runs out only once every host was tried: exactly 4 succeeded.
            Example {
                rule: FleetPercent(40),
                n: 9,
                failing: &[5, 6, 7, 8, 4],
                completion: WholeWave,
                dispatches: &[5, 4],
                peak_in_flight: 5,
                outcome: Outcome::Succeeded,
                skipped: &[],
            },
            // Five failures in the first wave use up the budget.
            Example {
                rule: FleetPercent(40),
                n: 9,
                failing: &[0, 1, 2, 3, 4],
                completion: WholeWave,
                dispatches: &[5],
                peak_in_flight: 5,
                outcome: HEALTH_CONSTRAINTS,
                skipped: &[5, 6, 7, 8],
            },
        ]);
    }

    /// CodeDeployDefault.HalfAtATime, 9 hosts: min healthy 5, up to 4 at a time; succeeds iff at least 5 succeed.
    #[test]
    fn nine_hosts_half_at_a_time() {
        let half = FleetPercent(50);
        check_examples(&[
            Example {
                rule: half,
                n: 9,
                failing: &[],
                completion: WholeWave,
                dispatches: &[4, 4, 1],
                peak_in_flight: 4,
                outcome: Outcome::Succeeded,
                skipped: &[],
            },
            Example {
                rule: half,
                n: 9,
                failing: &[5, 6, 7, 8],
                completion: WholeWave,
                dispatches: &[4, 4, 1],
                peak_in_flight: 4,
                outcome: Outcome::Succeeded,
                skipped: &[],
            },
            Example {
                rule: half,
                n: 9,
                failing: &[4, 5, 6, 7],
                completion: WholeWave,
                dispatches: &[4, 4],
                peak_in_flight: 4,
                outcome: HEALTH_CONSTRAINTS,
                skipped: &[8],
            },
        ]);
    }

    /// CodeDeployDefault.AllAtOnce, 9 hosts: all 9 at once; succeeds iff at least one succeeds.
    #[test]
    fn nine_hosts_all_at_once() {
        let all_at_once = HostCount(0);
        check_examples(&[
            Example {
                rule: all_at_once,
                n: 9,
                failing: &[],
                completion: OneByOne,
                dispatches: &[9],
                peak_in_flight: 9,
                outcome: Outcome::Succeeded,
                skipped: &[],
            },
            Example {
                rule: all_at_once,
                n: 9,
                failing: &[0, 1, 2, 3, 4, 5, 6, 8],
                completion: OneByOne,
                dispatches: &[9],
                peak_in_flight: 9,
                outcome: Outcome::Succeeded,
                skipped: &[],
            },
            Example {
                rule: all_at_once,
                n: 9,
                failing: &[0, 1, 2, 3, 4, 5, 6, 7, 8],
                completion: OneByOne,
                dispatches: &[9],
                peak_in_flight: 9,
                outcome: HEALTH_CONSTRAINTS,
                skipped: &[],
            },
        ]);
    }

    /// CodeDeployDefault.OneAtATime fails on the first failure, unless that failure is the last instance.
    #[test]
    fn one_at_a_time() {
        check_examples(&[
            Example {
                rule: OneAtATime,
                n: 5,
                failing: &[],
                completion: OneByOne,
                dispatches: &[1, 1, 1, 1, 1],
                peak_in_flight: 1,
                outcome: Outcome::Succeeded,
                skipped: &[],
            },
            Example {
                rule: OneAtATime,
                n: 5,
                failing: &[2],
                completion: OneByOne,
                dispatches: &[1, 1, 1],
                peak_in_flight: 1,
                outcome: HEALTH_CONSTRAINTS,
                skipped: &[3, 4],
            },
            Example {
                rule: OneAtATime,
                n: 5,
                failing: &[0],
                completion: WholeWave,
                dispatches: &[1],
                peak_in_flight: 1,
                outcome: HEALTH_CONSTRAINTS,
                skipped: &[1, 2, 3, 4],
            },
            // A failure on the last instance still leaves N − 1 healthy.
            Example {
                rule: OneAtATime,
                n: 5,
                failing: &[4],
                completion: OneByOne,
                dispatches: &[1, 1, 1, 1, 1],
                peak_in_flight: 1,
                outcome: Outcome::Succeeded,
                skipped: &[],
            },
        ]);
    }

    /// A single-instance group needs that one instance to succeed.
    #[test]
    fn single_instance() {
        check_examples(&[
            Example {
                rule: OneAtATime,
                n: 1,
                failing: &[],
                completion: OneByOne,
                dispatches: &[1],
                peak_in_flight: 1,
                outcome: Outcome::Succeeded,
                skipped: &[],
            },
            Example {
                rule: OneAtATime,
                n: 1,
                failing: &[0],
                completion: OneByOne,
                dispatches: &[1],
                peak_in_flight: 1,
                outcome: HEALTH_CONSTRAINTS,
                skipped: &[],
            },
            Example {
                rule: HostCount(0),
                n: 1,
                failing: &[0],
                completion: OneByOne,
                dispatches: &[1],
                peak_in_flight: 1,
                outcome: HEALTH_CONSTRAINTS,
                skipped: &[],
            },
        ]);
    }

    /// 10 hosts, min 8: fails once two have failed, unless the second failure is the last instance.
    #[test]
    fn ten_hosts_min_eight() {
        for rule in [HostCount(8), FleetPercent(80)] {
            check_examples(&[
                Example {
                    rule,
                    n: 10,
                    failing: &[],
                    completion: WholeWave,
                    dispatches: &[2, 2, 2, 2, 2],
                    peak_in_flight: 2,
                    outcome: Outcome::Succeeded,
                    skipped: &[],
                },
                // One failure narrows the window to one host at a time.
                Example {
                    rule,
                    n: 10,
                    failing: &[1],
                    completion: WholeWave,
                    dispatches: &[2, 1, 1, 1, 1, 1, 1, 1, 1],
                    peak_in_flight: 2,
                    outcome: Outcome::Succeeded,
                    skipped: &[],
                },
                Example {
                    rule,
                    n: 10,
                    failing: &[1, 5],
                    completion: OneByOne,
                    dispatches: &[2, 1, 1, 1, 1],
                    peak_in_flight: 2,
                    outcome: HEALTH_CONSTRAINTS,
                    skipped: &[6, 7, 8, 9],
                },
                Example {
                    rule,
                    n: 10,
                    failing: &[3, 9],
                    completion: OneByOne,
                    dispatches: &[2, 1, 1, 1, 1, 1, 1, 1, 1],
                    peak_in_flight: 2,
                    outcome: Outcome::Succeeded,
                    skipped: &[],
                },
                // Both hosts of the first pair fail.
                Example {
                    rule,
                    n: 10,
                    failing: &[0, 1],
                    completion: WholeWave,
                    dispatches: &[2],
                    peak_in_flight: 2,
                    outcome: HEALTH_CONSTRAINTS,
                    skipped: &[2, 3, 4, 5, 6, 7, 8, 9],
                },
                // Both hosts of the last pair fail: 8 succeeded.
                Example {
                    rule,
                    n: 10,
                    failing: &[8, 9],
                    completion: WholeWave,
                    dispatches: &[2, 2, 2, 2, 2],
                    peak_in_flight: 2,
                    outcome: Outcome::Succeeded,
                    skipped: &[],
                },
            ]);
        }
    }

    /// 10 hosts at 95% need all 10 healthy: fail at start, deploying nothing.
    #[test]
    fn ten_hosts_ninety_five_percent_is_invalid() {
        let run = simulate(FleetPercent(95), &outcomes(10, &[]), OneByOne);
        assert_eq!(run.outcome, Outcome::Failed(DeploymentErrorCode::HealthConstraintsInvalid));
        assert_eq!(run.dispatches, Vec::<usize>::new());
    }

    /// A deployment whose targets resolve to nothing fails with NO_INSTANCES.
    #[test]
    fn no_targets() {
        for rule in [OneAtATime, HostCount(0), FleetPercent(50)] {
            let run = simulate(rule, &[], OneByOne);
            assert_eq!(run.outcome, Outcome::Failed(DeploymentErrorCode::NoInstances), "{rule:?}");
        }
    }

    /// Every combination of fleet size (up to 8), rule and failure pattern, under both completion orders.
    ///
    /// Beyond the invariants `simulate` checks at each step, it checks the verdict against the model's definition.
    #[test]
    fn invariants_hold_for_every_small_deployment() {
        let mut n_runs = 0;
        for n in 0..=8_usize {
            let mut rules = vec![OneAtATime];
            rules.extend((0..=n as u64 + 1).map(HostCount));
            rules.extend([0, 1, 10, 25, 33, 40, 50, 60, 75, 80, 90, 99].map(FleetPercent));
            for rule in rules {
                for pattern in 0..(1_u32 << n) {
                    let succeeds: Vec<bool> = (0..n).map(|index| pattern & (1 << index) == 0).collect();
                    for completion in [OneByOne, WholeWave] {
                        check_run(rule, &succeeds, completion);
                        n_runs += 1;
                    }
                }
            }
        }
        assert!(n_runs > 10_000, "{n_runs}");
    }

    fn check_run(rule: MinimumHealthyHosts, succeeds: &[bool], completion: Completion) {
        let n = succeeds.len() as u64;
        let label = format!("{rule:?}, {succeeds:?}, {completion:?}");
        let run = simulate(rule, succeeds, completion);
        let Ok(min_healthy) = start(n, &rule) else {
            assert_eq!(run.dispatches.iter().sum::<usize>(), 0, "{label}");
            return;
        };
        let budget = unavailable_budget(n, min_healthy);
        let counts = overview(&run.targets);
        assert_eq!(counts.total(), n, "{label}");
        assert_eq!(run.dispatches.iter().sum::<usize>() as u64, n - counts.skipped, "{label}");
        assert!(run.peak_in_flight as u64 <= budget, "{label}");
        assert_eq!(counts.skipped as usize, run.skipped.len(), "{label}");

        let total_failures = succeeds.iter().filter(|&&succeeded| !succeeded).count() as u64;
        match run.outcome {
            Outcome::Succeeded => {
                assert_eq!(counts.skipped, 0, "a successful deployment attempted every host: {label}");
                assert!(counts.succeeded >= min_healthy && counts.succeeded >= 1, "{label}");
            }
            Outcome::Failed(code) => {
                assert_eq!(code, DeploymentErrorCode::HealthConstraints, "{label}");
                assert!(
                    counts.skipped > 0 || counts.succeeded < min_healthy || counts.succeeded == 0,
                    "failed without cause: {label}"
                );
                assert!(counts.failed >= 1, "{label}");
                if counts.skipped > 0 {
                    assert!(counts.failed >= budget, "hosts skipped before the budget was used up: {label}");
                }
            }
        }
        // Fewer failures than the budget can never stop a deployment early, and with every host attempted, the
        // successes then exceed min_healthy.
        if total_failures < budget {
            assert_eq!(counts.skipped, 0, "{label}");
            assert_eq!(run.outcome == Outcome::Succeeded, counts.succeeded >= 1, "{label}");
        }
        if total_failures == 0 {
            assert_eq!(run.outcome, Outcome::Succeeded, "{label}");
        }
    }

    #[test]
    fn overview_counts() {
        use Progress::*;
        let counts = overview(&[Pending, InProgress, InProgress, Succeeded, Failed, Skipped, Skipped, Succeeded]);
        assert_eq!(counts, Overview { pending: 1, in_progress: 2, succeeded: 2, failed: 1, skipped: 2, ready: 0 });
        assert_eq!(counts.total(), 8);
        assert_eq!(overview(&[]), Overview::default());

        let stored = [TargetStatus::Ready, TargetStatus::Ready, TargetStatus::Unknown, TargetStatus::Succeeded];
        assert_eq!(Overview::from_statuses(stored), Overview { succeeded: 1, ready: 2, ..Overview::default() });
    }
}
