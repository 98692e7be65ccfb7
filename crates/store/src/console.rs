//! Read-only queries of the web console: history with limits, cross-application lists, search by name, and a cheap
//! change stamp for live pages. Nothing here writes.

use sqlx::AssertSqlSafe;

use crate::rows::{self, *};
use crate::{Result, Tx};

const DEPLOYMENT_COLUMNS: &str = "d.id, d.application_id, d.application_name, d.deployment_group_id, \
     d.deployment_group_name, d.config_name, d.status, d.creator, d.revision, d.bundle, d.previous_revision, \
     d.options, d.min_healthy, d.error_code, d.error_message, d.stop_requested, d.create_time, d.start_time, \
     d.complete_time";

/// Which deployments [`Tx::recent_deployments`] returns.
#[derive(Debug, Clone)]
pub enum DeploymentScope<'a> {
    Application(&'a str),
    Group(&'a str),
    /// Deployments that targeted this instance.
    Instance(&'a str),
}

/// A group's health record of an instance, with the names of its group and application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceGroupRow {
    pub instance_name: String,
    pub application_name: String,
    pub deployment_group_name: String,
    pub healthy: bool,
    pub revision_key: Option<String>,
}

/// Lifecycle events of a deployment in one status: how many, and the latest start and end among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventStatusStamp {
    pub status: String,
    pub count: i64,
    pub max_start_time: i64,
    pub max_end_time: i64,
}

impl Tx {
    /// The newest `limit` deployments of an application, a group or an instance, newest first.
    pub async fn recent_deployments(&mut self, scope: DeploymentScope<'_>, limit: i64) -> Result<Vec<DeploymentRow>> {
        let (condition, key) = match scope {
            DeploymentScope::Application(id) => ("d.application_id = $1", id),
            DeploymentScope::Group(id) => ("d.deployment_group_id = $1", id),
            DeploymentScope::Instance(name) => {
                ("d.id IN (SELECT deployment_id FROM deployment_targets WHERE instance_name = $1)", name)
            }
        };
        let sql = format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM deployments d WHERE {condition} \
             ORDER BY d.create_time DESC, d.id DESC LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(key).bind(limit).fetch_all(&mut *self.0).await?;
        rows.iter().map(rows::deployment).collect()
    }

    /// Every deployment group of every application, by application then group name.
    pub async fn all_deployment_groups(&mut self) -> Result<Vec<DeploymentGroupRow>> {
        let rows = sqlx::query(
            "SELECT g.id, g.application_id, a.name AS application_name, g.name, g.config_name, g.spec, \
             g.target_revision, g.last_successful_deployment_id, g.last_attempted_deployment_id, \
             g.active_deployment_id, g.create_time \
             FROM deployment_groups g JOIN applications a ON a.id = g.application_id ORDER BY a.name, g.name",
        )
        .fetch_all(&mut *self.0)
        .await?;
        rows.iter().map(rows::deployment_group).collect()
    }

    /// Every group's record of every instance (health and revision as of its group's last deployment to it).
    pub async fn all_group_instances(&mut self) -> Result<Vec<InstanceGroupRow>> {
        let rows: Vec<(String, String, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT gi.instance_name, a.name, g.name, gi.healthy, gi.revision_key FROM group_instances gi \
             JOIN deployment_groups g ON g.id = gi.deployment_group_id JOIN applications a ON a.id = g.application_id \
             ORDER BY gi.instance_name, a.name, g.name",
        )
        .fetch_all(&mut *self.0)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(instance_name, application_name, deployment_group_name, healthy, revision_key)| InstanceGroupRow {
                instance_name,
                application_name,
                deployment_group_name,
                healthy: healthy != 0,
                revision_key,
            })
            .collect())
    }

    /// Ids of deployments whose id starts with `prefix` (ids are upper case), newest first.
    pub async fn deployment_ids_with_prefix(&mut self, prefix: &str, limit: i64) -> Result<Vec<String>> {
        // Escape LIKE's wildcards: the prefix is user input.
        let escaped = prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM deployments WHERE id LIKE $1 ESCAPE '\\' ORDER BY create_time DESC, id DESC LIMIT $2",
        )
        .bind(format!("{escaped}%"))
        .bind(limit)
        .fetch_all(&mut *self.0)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// What changes whenever a deployment's events move: per status, how many events and their latest times.
    pub async fn event_status_stamps(&mut self, deployment_id: &str) -> Result<Vec<EventStatusStamp>> {
        let rows: Vec<(String, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT status, COUNT(*), MAX(start_time), MAX(end_time) FROM lifecycle_events WHERE deployment_id = $1 \
             GROUP BY status ORDER BY status",
        )
        .bind(deployment_id)
        .fetch_all(&mut *self.0)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(status, count, start, end)| EventStatusStamp {
                status,
                count,
                max_start_time: start.unwrap_or(0),
                max_end_time: end.unwrap_or(0),
            })
            .collect())
    }

    /// The size of each of a target's event logs, in characters: what changes when its agent streams output.
    pub async fn event_log_sizes(&mut self, deployment_id: &str, instance_name: &str) -> Result<Vec<(i64, i64)>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT position, LENGTH(log) FROM event_logs WHERE deployment_id = $1 AND instance_name = $2 \
             ORDER BY position",
        )
        .bind(deployment_id)
        .bind(instance_name)
        .fetch_all(&mut *self.0)
        .await?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    #[tokio::test]
    async fn streamed_log_pieces_are_appended_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("db")).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        let append = async |tx: &mut crate::Tx, offset: u64, text: &str| {
            tx.append_event_log("d-1", "web-1", 2, offset, text, 20).await.unwrap()
        };
        assert_eq!(append(&mut tx, 0, "one\n").await, 4);
        // A piece sent again, with what came since: only the new part is added.
        assert_eq!(append(&mut tx, 0, "one\ntwo\n").await, 8);
        assert_eq!(append(&mut tx, 4, "two\n").await, 8);
        assert_eq!(append(&mut tx, 8, "three\n").await, 14);
        // Past the cap, nothing more is kept.
        assert_eq!(append(&mut tx, 14, "four and more\n").await, 14);
        assert_eq!(tx.event_logs("d-1", "web-1").await.unwrap(), vec![(2, "one\ntwo\nthree\n".to_owned())]);
        assert_eq!(tx.event_log_sizes("d-1", "web-1").await.unwrap(), vec![(2, 14)]);
    }
}
