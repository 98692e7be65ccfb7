//! Several server replicas on one database: who drives which deployment, and how replicas tell each other.
//!
//! Every unfinished deployment is driven by exactly one replica, the holder of its lease (a row of the store's
//! `leases` table: owner, expiry, epoch). [`orchestrator::advance`] (re)acquires the lease in the transaction that
//! writes the deployment's state, so a replica that lost its lease cannot commit a decision (the lease is the
//! fencing token); a replica that does not hold the lease forwards the request to the holder instead. The holder
//! renews its leases every third of their lifetime; when it dies they expire and [`maintain`] on another replica
//! takes them over within `lease + lease/3`.
//!
//! On PostgreSQL replicas talk through one LISTEN/NOTIFY channel: `wake <instance>` (an event became runnable:
//! wake that agent's long poll, wherever it waits) and `advance <deployment> [<instance>]` (a report or a stop
//! reached a replica that does not drive the deployment). Notifications are hints, never facts: a lost one costs
//! at most one lease-maintenance tick, after which the holder re-advances everything it drives.
//!
//! On SQLite there is one server; its replica id is stable (`local`), so after a restart it resumes its own
//! leases at once instead of waiting for them to expire.

use std::time::Duration;

use cutover_store::{StoreError, Tx};

use crate::{AppState, orchestrator};

/// The notification channel shared by the replicas.
const CHANNEL: &str = "cutover";

/// Lifetime of a lease, in ms.
fn lease_ms(state: &AppState) -> i64 {
    (state.inner.config.deployment_lease_secs * 1000) as i64
}

/// Takes or renews the lease of a deployment (or worker) for this replica, inside the caller's transaction.
/// Returns the lease's epoch, or None when another live replica holds it.
pub(crate) async fn acquire(state: &AppState, tx: &mut Tx, name: &str) -> Result<Option<i64>, StoreError> {
    let now = state.inner.clock.now_ms();
    tx.acquire_lease(name, &state.inner.replica_id, now, now + lease_ms(state)).await
}

/// Gives up this replica's lease of a finished deployment, in the transaction that finished it.
pub(crate) async fn release(state: &AppState, tx: &mut Tx, name: &str) -> Result<(), StoreError> {
    tx.release_lease(name, &state.inner.replica_id).await
}

/// Asks the replica that drives `deployment_id` to advance it (sent when `tx` commits).
pub(crate) async fn forward_advance(tx: &mut Tx, deployment_id: &str, changed: Option<&str>) -> Result<(), StoreError> {
    let payload = match changed {
        Some(instance) => format!("advance {deployment_id} {instance}"),
        None => format!("advance {deployment_id}"),
    };
    tx.notify(CHANNEL, &payload).await
}

/// Wakes an agent's long poll on every replica (sent when `tx` commits); the caller also wakes it locally.
pub(crate) async fn broadcast_wake(tx: &mut Tx, instance_name: &str) -> Result<(), StoreError> {
    tx.notify(CHANNEL, &format!("wake {instance_name}")).await
}

/// Whether this replica runs the once-per-cluster worker `name` now (taking or renewing its lease).
pub(crate) async fn holds_worker(state: &AppState, name: &str) -> bool {
    let result = async {
        let mut tx = state.store().begin().await?;
        let epoch = acquire(state, &mut tx, &format!("worker:{name}")).await?;
        tx.commit().await?;
        Ok::<bool, StoreError>(epoch.is_some())
    }
    .await;
    result.unwrap_or_else(|error| {
        tracing::warn!(message = "Worker lease check failed.", worker = name, %error);
        false
    })
}

/// Listens for the other replicas' notifications for as long as the server runs (PostgreSQL only).
pub(crate) async fn listen(state: AppState) {
    let mut listener = match state.store().listen(CHANNEL).await {
        Ok(Some(listener)) => listener,
        Ok(None) => return,
        Err(error) => {
            tracing::error!(message = "Cannot listen for notifications; wake-ups across replicas fall back to the lease tick.", %error);
            return;
        }
    };
    loop {
        let payload = match listener.recv().await {
            Ok(payload) => payload,
            Err(error) => {
                // The listener reconnects on the next call; what was sent meanwhile is covered by the lease tick.
                tracing::warn!(message = "Notification connection lost.", %error);
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let mut words = payload.split(' ');
        match (words.next(), words.next(), words.next()) {
            (Some("wake"), Some(instance), None) => state.inner.wakeups.wake(instance),
            (Some("advance"), Some(deployment_id), changed) => {
                if drives(&state, deployment_id).await {
                    let state = state.clone();
                    let deployment_id = deployment_id.to_owned();
                    let changed = changed.map(str::to_owned);
                    tokio::spawn(async move {
                        orchestrator::advance_logged(&state, &deployment_id, changed.as_deref()).await;
                    });
                }
            }
            _ => tracing::warn!(message = "Unknown notification.", %payload),
        }
    }
}

/// Whether this replica holds the (unexpired) lease of a deployment.
async fn drives(state: &AppState, deployment_id: &str) -> bool {
    let now = state.inner.clock.now_ms();
    let lease = async { state.store().begin().await?.lease(deployment_id).await }.await;
    matches!(lease, Ok(Some(lease)) if lease.owner == state.inner.replica_id && lease.expires_ms >= now)
}

/// Renews this replica's leases, takes over deployments nobody drives (their replica died), and re-advances the
/// deployments it drives (a forwarded request may have been lost). Runs every third of a lease.
pub(crate) async fn maintain_forever(state: AppState) {
    let every = Duration::from_millis((lease_ms(&state) / 3).max(100) as u64);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) = maintain(&state).await {
            tracing::warn!(message = "Lease maintenance failed.", %error);
        }
    }
}

pub(crate) async fn maintain(state: &AppState) -> Result<(), StoreError> {
    let now = state.inner.clock.now_ms();
    let (undriven, driven) = {
        let mut tx = state.store().begin().await?;
        tx.renew_leases(&state.inner.replica_id, now, now + lease_ms(state)).await?;
        let undriven = tx.undriven_deployments(now).await?;
        let driven = tx.deployments_driven_by(&state.inner.replica_id).await?;
        tx.commit().await?;
        (undriven, driven)
    };
    for deployment_id in undriven {
        let previous = { state.store().begin().await?.lease(&deployment_id).await? };
        if let Some(previous) = previous.filter(|lease| lease.owner != state.inner.replica_id) {
            tracing::warn!(
                message = "Taking over a deployment whose replica stopped renewing its lease.",
                %deployment_id,
                previous_owner = %previous.owner,
                expired_ms_ago = now - previous.expires_ms,
                previous_epoch = previous.epoch,
            );
        }
        orchestrator::advance_logged(state, &deployment_id, None).await;
    }
    for deployment_id in driven {
        orchestrator::advance_logged(state, &deployment_id, None).await;
    }
    crate::ecs::resume_restores(state).await
}
