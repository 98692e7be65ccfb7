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
