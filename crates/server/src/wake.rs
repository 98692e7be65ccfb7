//! Wake-ups for agents waiting on their long poll.
//!
//! `Notify::notify_one` stores a permit when nobody waits, so a wake-up that lands between a poll's store query
//! and its wait is not lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

#[derive(Default)]
pub(crate) struct Wakeups {
    by_instance: Mutex<HashMap<String, Arc<Notify>>>,
}

impl Wakeups {
    pub(crate) fn get(&self, instance_name: &str) -> Arc<Notify> {
        let mut map = self.by_instance.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        map.entry(instance_name.to_owned()).or_default().clone()
    }

    pub(crate) fn wake(&self, instance_name: &str) {
        self.get(instance_name).notify_one();
    }
}

/// Tells `cutover deploy logs -f` followers (long-polling `GET /v1/deployments/{id}/logs`) that hook output arrived.
/// A counter bumped on every append: a follower re-reads the store when it changes. Like [`Wakeups`], only a
/// latency optimisation; followers also look again every second.
pub(crate) struct LogFeed {
    appended: tokio::sync::watch::Sender<u64>,
}

impl Default for LogFeed {
    fn default() -> Self {
        Self { appended: tokio::sync::watch::Sender::new(0) }
    }
}

impl LogFeed {
    pub(crate) fn bump(&self) {
        self.appended.send_modify(|count| *count = count.wrapping_add(1));
    }

    pub(crate) fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.appended.subscribe()
    }
}
