//! A pool's members: the set behind one atomic pointer, weighted selection, active health checks and in-flight
//! counts.
//!
//! The set is immutable once published; a change builds a new one and stores it in one step, so a request sees
//! either the old members or the new ones. What must outlive a change — health state and in-flight counts — lives in
//! a [`Tracker`] per member (id and address), which a new set takes over from the old one when the member stays.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http_body_util::Empty;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

use crate::config::HealthCheck;
use crate::driver::{Member, MemberState, MemberStatus};
use crate::proxy::ProxyBody;

/// Idle upstream connections kept per member.
const MAX_IDLE: usize = 64;
/// An idle connection is not reused after this long: the member may be closing it just as a request goes out (Node's
/// default keep-alive timeout is 5 s), and that request could not be retried unless it is a bodiless GET.
const IDLE_TIMEOUT: Duration = Duration::from_secs(4);

/// What survives a change of the member set for one member (same id, same address).
pub(crate) struct Tracker {
    pub(crate) id: String,
    pub(crate) address: String,
    healthy: AtomicBool,
    in_flight: AtomicU64,
    idle: Mutex<Vec<(http1::SendRequest<ProxyBody>, Instant)>>,
}

impl Tracker {
    fn new(id: &str, address: &str) -> Tracker {
        Tracker {
            id: id.to_owned(),
            address: address.to_owned(),
            healthy: AtomicBool::new(false),
            in_flight: AtomicU64::new(0),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// An idle connection to this member that is still open.
    pub(crate) fn take_idle(&self) -> Option<http1::SendRequest<ProxyBody>> {
        let mut idle = lock(&self.idle);
        idle.retain(|(sender, since)| sender.is_ready() && since.elapsed() < IDLE_TIMEOUT);
        idle.pop().map(|(sender, _)| sender)
    }

    pub(crate) fn put_idle(&self, sender: http1::SendRequest<ProxyBody>) {
        let mut idle = lock(&self.idle);
        if idle.len() < MAX_IDLE {
            idle.push((sender, Instant::now()));
        }
    }
}

/// Counts a request on a member from the moment it is chosen until its response body is done (or dropped).
pub(crate) struct InFlight(Arc<Tracker>);

impl InFlight {
    pub(crate) fn new(tracker: Arc<Tracker>) -> InFlight {
        tracker.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(tracker)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Clone)]
struct Slot {
    member: Member,
    tracker: Arc<Tracker>,
}

impl Slot {
    fn eligible(&self) -> bool {
        self.member.state == MemberState::Ready && self.member.weight > 0 && self.tracker.healthy.load(Ordering::SeqCst)
    }

    fn status(&self, state: MemberState) -> MemberStatus {
        MemberStatus {
            id: self.member.id.clone(),
            address: self.member.address.clone(),
            weight: self.member.weight,
            state,
            healthy: self.tracker.healthy.load(Ordering::SeqCst),
            in_flight: self.tracker.in_flight(),
        }
    }
}

/// One published member set with its smooth weighted round-robin position.
struct MemberSet {
    slots: Vec<Slot>,
    /// Each slot's running "current weight" (nginx's smooth weighted round-robin).
    current: Mutex<Vec<i64>>,
}

impl MemberSet {
    fn new(slots: Vec<Slot>) -> MemberSet {
        let current = Mutex::new(vec![0; slots.len()]);
        MemberSet { slots, current }
    }

    /// Every eligible member not yet tried gains its weight; the one ahead is chosen and pays back the total. Over
    /// any run the shares match the weights, and a heavy member's turns are spread rather than bunched.
    fn pick(&self, tried: &[Arc<Tracker>]) -> Option<Arc<Tracker>> {
        let mut current = lock(&self.current);
        let mut total = 0i64;
        let mut best: Option<usize> = None;
        for (index, slot) in self.slots.iter().enumerate() {
            if !slot.eligible() || tried.iter().any(|seen| Arc::ptr_eq(seen, &slot.tracker)) {
                continue;
            }
            let weight = i64::from(slot.member.weight);
            current[index] += weight;
            total += weight;
            if best.is_none_or(|ahead| current[index] > current[ahead]) {
                best = Some(index);
            }
        }
        let chosen = best?;
        current[chosen] -= total;
        Some(self.slots[chosen].tracker.clone())
    }
}

/// A pool: its members, and members removed from it that still finish requests.
pub struct Pool {
    pub name: String,
    check: HealthCheck,
    members: ArcSwap<MemberSet>,
    /// Removed (or readdressed) members with requests in flight; forgotten once those finish.
    retired: Mutex<Vec<Slot>>,
    /// Serializes changes, so two concurrent ones cannot lose each other's retired members.
    changing: Mutex<()>,
}

impl Pool {
    pub fn new(name: String, check: HealthCheck) -> Pool {
        Pool {
            name,
            check,
            members: ArcSwap::from_pointee(MemberSet::new(Vec::new())),
            retired: Mutex::new(Vec::new()),
            changing: Mutex::new(()),
        }
    }

    /// Makes the members exactly `members` in one store. A member keeps its health and in-flight count when its id
    /// and address stay; a new one starts unhealthy, with a health check of its own. Must run inside the runtime.
    pub fn apply(&self, members: Vec<Member>) {
        let _changing = lock(&self.changing);
        let mut retired = lock(&self.retired);
        let mut known: Vec<Slot> = self.members.load().slots.iter().cloned().chain(retired.drain(..)).collect();
        let mut slots = Vec::with_capacity(members.len());
        for member in members {
            let kept =
                known.iter().position(|slot| slot.member.id == member.id && slot.member.address == member.address);
            let tracker = match kept {
                Some(index) => known.swap_remove(index).tracker,
                None => {
                    let tracker = Arc::new(Tracker::new(&member.id, &member.address));
                    spawn_health_check(&self.name, Arc::downgrade(&tracker), self.check.clone());
                    tracker
                }
            };
            slots.push(Slot { member, tracker });
        }
        self.members.store(Arc::new(MemberSet::new(slots)));
        known.retain(|slot| slot.tracker.in_flight() > 0);
        *retired = known;
    }

    /// The member the next request goes to, skipping those already tried for it; None when no member is eligible
    /// (Ready, weight above 0, healthy).
    pub(crate) fn pick(&self, tried: &[Arc<Tracker>]) -> Option<Arc<Tracker>> {
        self.members.load().pick(tried)
    }

    /// The members, then removed members still finishing requests (reported as draining, or maint if they were).
    pub fn status(&self) -> Vec<MemberStatus> {
        let mut statuses: Vec<MemberStatus> =
            self.members.load().slots.iter().map(|slot| slot.status(slot.member.state)).collect();
        let mut retired = lock(&self.retired);
        retired.retain(|slot| slot.tracker.in_flight() > 0);
        statuses.extend(retired.iter().map(|slot| match slot.member.state {
            MemberState::Maint => slot.status(MemberState::Maint),
            _ => slot.status(MemberState::Drain),
        }));
        statuses
    }
}

/// A poisoned lock only means another request panicked; the data (counters, idle connections) is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Checks a member every interval for as long as any member set, request or retired list still holds it.
fn spawn_health_check(pool: &str, tracker: Weak<Tracker>, check: HealthCheck) {
    let pool = pool.to_owned();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(check.interval_ms));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (mut passes, mut failures) = (0u32, 0u32);
        loop {
            interval.tick().await;
            let Some(address) = tracker.upgrade().map(|tracker| tracker.address.clone()) else { return };
            let timeout = Duration::from_millis(check.timeout_ms);
            let outcome = match tokio::time::timeout(timeout, probe(&address, &check.path)).await {
                Ok(Ok(status)) if status.is_success() || status.is_redirection() => Ok(()),
                Ok(Ok(status)) => Err(format!("answered {status}")),
                Ok(Err(error)) => Err(error),
                Err(_) => Err(format!("no answer within {} ms", check.timeout_ms)),
            };
            let Some(tracker) = tracker.upgrade() else { return };
            let was = tracker.healthy.load(Ordering::SeqCst);
            match outcome {
                Ok(()) => {
                    (passes, failures) = (passes.saturating_add(1), 0);
                    if !was && passes >= check.healthy_threshold {
                        tracker.healthy.store(true, Ordering::SeqCst);
                        tracing::info!(pool, member = tracker.id, address, "member is healthy");
                    }
                }
                Err(reason) => {
                    (passes, failures) = (0, failures.saturating_add(1));
                    if was && failures >= check.unhealthy_threshold {
                        tracker.healthy.store(false, Ordering::SeqCst);
                        tracing::warn!(pool, member = tracker.id, address, reason, "member is unhealthy");
                    }
                }
            }
        }
    });
}

/// One health-check request on a connection of its own.
async fn probe(address: &str, path: &str) -> Result<hyper::StatusCode, String> {
    let stream = tokio::net::TcpStream::connect(address).await.map_err(|error| format!("connect: {error}"))?;
    let (mut sender, connection) =
        http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream)).await.map_err(|error| error.to_string())?;
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, address)
        .header(hyper::header::USER_AGENT, "cutover-router health check")
        .body(Empty::new())
        .map_err(|error| error.to_string())?;
    // The connection is driven on its own: an upstream that answers and closes at once (`Connection: close`) must
    // count as an answer, which racing the two futures would sometimes miss. A close without an answer fails the
    // request instead.
    let driver = tokio::spawn(connection);
    let response = sender.send_request(request).await;
    driver.abort();
    response.map(|response| response.status()).map_err(|error| {
        match error.is_canceled() || error.is_incomplete_message() {
            true => "connection closed without an answer".to_owned(),
            false => error.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(weights: &[u32]) -> MemberSet {
        let slots = weights
            .iter()
            .enumerate()
            .map(|(index, weight)| {
                let member = Member {
                    id: format!("m{index}"),
                    address: format!("127.0.0.1:{}", 1000 + index),
                    weight: *weight,
                    state: MemberState::Ready,
                };
                let tracker = Arc::new(Tracker::new(&member.id, &member.address));
                tracker.healthy.store(true, Ordering::SeqCst);
                Slot { member, tracker }
            })
            .collect();
        MemberSet::new(slots)
    }

    fn counts(set: &MemberSet, picks: usize) -> Vec<usize> {
        let mut counts = vec![0; set.slots.len()];
        for _ in 0..picks {
            let chosen = set.pick(&[]).expect("an eligible member");
            counts[set.slots.iter().position(|slot| Arc::ptr_eq(&slot.tracker, &chosen)).unwrap()] += 1;
        }
        counts
    }

    #[test]
    fn smooth_weighted_round_robin_gives_exact_shares_spread_out() {
        assert_eq!(counts(&set(&[9000, 1000]), 1000), [900, 100]);
        assert_eq!(counts(&set(&[5, 1, 1]), 7), [5, 1, 1]);
        assert_eq!(counts(&set(&[0, 3]), 10), [0, 10]);
        // Smooth: with 5/1/1 the heavy member never gets more than 3 turns in a row.
        let set = set(&[5, 1, 1]);
        let order: Vec<String> = (0..7).map(|_| set.pick(&[]).unwrap().id.clone()).collect();
        assert_eq!(order, ["m0", "m0", "m1", "m0", "m2", "m0", "m0"]);
    }

    #[test]
    fn ineligible_and_tried_members_are_skipped() {
        let set = set(&[1, 1, 1]);
        set.slots[0].tracker.healthy.store(false, Ordering::SeqCst);
        let tried = [set.slots[1].tracker.clone()];
        for _ in 0..5 {
            assert_eq!(set.pick(&tried).unwrap().id, "m2");
        }
        let all = [set.slots[1].tracker.clone(), set.slots[2].tracker.clone()];
        assert!(set.pick(&all).is_none());
    }
}
