//! Running one host command the way the agent does, whoever handed it out: the server's poll ([`crate::runner`]) or
//! `cutover local` ([`crate::local`]).
//!
//! A command whose id has a stored outcome is not run again (that outcome is returned instead). Otherwise the
//! deployment's tracking file is written, the event runs (naming each hook script in the tracking file while it
//! runs), its outcome is stored, and the tracking file is removed. What happens around the event (heartbeats, log
//! streaming, reporting) is the caller's.

use std::convert::Infallible;
use std::future::Future;

use cutover_api_types::agent::HostCommand;

use crate::eventlog::LineObserver;
use crate::executor::Executor;
use crate::state::{CommandStore, StoredCommand, Tracking};

/// The command path shared by the runner and local runs.
#[derive(Debug, Clone)]
pub struct CommandRunner {
    executor: Executor,
    store: CommandStore,
    tracking: Tracking,
}

/// What [`CommandRunner::run`] did.
#[derive(Debug, Clone)]
pub enum Ran {
    /// The command had run before: its stored outcome (which may not have been reported yet).
    Before(StoredCommand),
    /// The command ran now; its outcome is stored, not reported.
    Now(StoredCommand),
}

impl CommandRunner {
    /// Commands run by `executor`, with their outcomes and tracking files under the executor's root.
    pub fn new(executor: Executor) -> Self {
        let layout = executor.layout().clone();
        Self { executor, store: CommandStore::new(&layout), tracking: Tracking::new(&layout) }
    }

    pub fn executor(&self) -> &Executor {
        &self.executor
    }

    pub fn store(&self) -> &CommandStore {
        &self.store
    }

    pub fn tracking(&self) -> &Tracking {
        &self.tracking
    }

    /// Runs `command` unless it ran before. `observer` sees every line of the event's log as it is written;
    /// `alongside` (e.g. heartbeats) is polled while the event runs and dropped when it ends.
    pub async fn run(
        &self,
        command: &HostCommand,
        observer: Option<LineObserver>,
        alongside: impl Future<Output = Infallible>,
    ) -> Ran {
        match self.store.get(&command.command_id) {
            Ok(Some(stored)) => return Ran::Before(stored),
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "cannot read stored command results"),
        }
        let tracking = match self.tracking.begin(&command.deployment.deployment_id, &command.command_id) {
            Ok(record) => Some(record),
            Err(error) => {
                tracing::error!(%error, "cannot write the tracking file");
                None
            }
        };
        let outcome = {
            let event = std::pin::pin!(self.executor.run_event_observed(command, tracking.as_ref(), observer));
            let alongside = std::pin::pin!(alongside);
            tokio::select! {
                outcome = event => outcome,
                never = alongside => match never {},
            }
        };
        let stored = StoredCommand {
            command_id: command.command_id.clone(),
            deployment_id: command.deployment.deployment_id.clone(),
            lifecycle_event: command.lifecycle_event.clone(),
            outcome,
            reported: false,
        };
        if let Err(error) = self.store.put(&stored) {
            tracing::error!(%error, "cannot store the command result");
        }
        if let Some(record) = &tracking {
            self.tracking.end(record);
        }
        Ran::Now(stored)
    }
}
