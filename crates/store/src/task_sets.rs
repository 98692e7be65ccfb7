//! Task set assignments of container services (ECS deployments): which task sets each host is to run, and what its
//! agent last reported of them.
//!
//! Writers: the server's ECS deployment flow inserts, promotes and deletes rows (the desired state); the agent's
//! task-set report is the only writer of the reported columns (`running`, `healthy`, `upstreams`, `error`,
//! `replaced`, `messages`, `reported_at`, `logs`, `logs_at`).

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Tx};

/// Messages kept per task set (the newest); older ones are dropped.
const MESSAGES_KEPT: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSetRow {
    pub instance_name: String,
    pub task_set_id: String,
    /// `<cluster>/<service>`.
    pub service: String,
    /// The deployment that created the task set.
    pub deployment_id: String,
    /// `primary` (serves production) or `replacement` (a deployment's new task set).
    pub role: String,
    /// The task definition, JSON.
    pub definition: String,
    pub task_count: i64,
    pub container_name: String,
    pub container_port: i64,
    pub assigned_at: i64,
    pub running: i64,
    pub healthy: bool,
    /// JSON list of `host:port`.
    pub upstreams: String,
    pub error: Option<String>,
    pub replaced: i64,
    /// What the agent said happened (replaced tasks with their last output), newest last.
    pub messages: String,
    pub reported_at: Option<i64>,
    /// JSON list of container logs, from the last report that carried them.
    pub logs: Option<String>,
    pub logs_at: Option<i64>,
    pub logs_wanted_until: Option<i64>,
}

/// A task set to assign to a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTaskSet {
    pub instance_name: String,
    pub task_set_id: String,
    pub service: String,
    pub deployment_id: String,
    pub role: String,
    pub definition: String,
    pub task_count: i64,
    pub container_name: String,
    pub container_port: i64,
}

/// One task set as an agent reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskSetReportRow {
    pub task_set_id: String,
    pub running: i64,
    pub healthy: bool,
    pub upstreams: String,
    pub error: Option<String>,
    pub replaced: i64,
    /// New messages, appended to the kept ones.
    pub messages: String,
    pub logs: Option<String>,
}

fn task_set(row: &AnyRow) -> Result<TaskSetRow> {
    let healthy: i64 = row.try_get("healthy")?;
    Ok(TaskSetRow {
        instance_name: row.try_get("instance_name")?,
        task_set_id: row.try_get("task_set_id")?,
        service: row.try_get("service")?,
        deployment_id: row.try_get("deployment_id")?,
        role: row.try_get("role")?,
        definition: row.try_get("definition")?,
        task_count: row.try_get("task_count")?,
        container_name: row.try_get("container_name")?,
        container_port: row.try_get("container_port")?,
        assigned_at: row.try_get("assigned_at")?,
        running: row.try_get("running")?,
        healthy: healthy != 0,
        upstreams: row.try_get("upstreams")?,
        error: row.try_get("error")?,
        replaced: row.try_get("replaced")?,
        messages: row.try_get("messages")?,
        reported_at: row.try_get("reported_at")?,
        logs: row.try_get("logs")?,
        logs_at: row.try_get("logs_at")?,
        logs_wanted_until: row.try_get("logs_wanted_until")?,
    })
}

impl Tx {
    pub async fn insert_task_sets(&mut self, rows: &[NewTaskSet], now: i64) -> Result<()> {
        for row in rows {
            sqlx::query(
                "INSERT INTO task_set_assignments (instance_name, task_set_id, service, deployment_id, role, \
                 definition, task_count, container_name, container_port, assigned_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&row.instance_name)
            .bind(&row.task_set_id)
            .bind(&row.service)
            .bind(&row.deployment_id)
            .bind(&row.role)
            .bind(&row.definition)
            .bind(row.task_count)
            .bind(&row.container_name)
            .bind(row.container_port)
            .bind(now)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    /// The task sets a host is to run, by id.
    pub async fn task_sets_of_instance(&mut self, instance_name: &str) -> Result<Vec<TaskSetRow>> {
        let rows = sqlx::query("SELECT * FROM task_set_assignments WHERE instance_name = $1 ORDER BY task_set_id")
            .bind(instance_name)
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(task_set).collect()
    }

    /// A service's task sets on every host, by host.
    pub async fn task_sets_of_service(&mut self, service: &str) -> Result<Vec<TaskSetRow>> {
        let rows = sqlx::query(
            "SELECT * FROM task_set_assignments WHERE service = $1 ORDER BY role, instance_name, task_set_id",
        )
        .bind(service)
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(task_set).collect()
    }

    /// Every assigned task set, by service and host.
    pub async fn all_task_sets(&mut self) -> Result<Vec<TaskSetRow>> {
        let rows = sqlx::query("SELECT * FROM task_set_assignments ORDER BY service, role, instance_name, task_set_id")
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(task_set).collect()
    }

    /// The task sets a deployment created (its replacement), by host.
    pub async fn task_sets_of_deployment(&mut self, deployment_id: &str) -> Result<Vec<TaskSetRow>> {
        let rows = sqlx::query(
            "SELECT * FROM task_set_assignments WHERE deployment_id = $1 ORDER BY instance_name, task_set_id",
        )
        .bind(deployment_id)
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(task_set).collect()
    }

    /// Withdraws a deployment's task sets (its replacement is removed): their hosts stop them.
    pub async fn delete_task_sets_of_deployment(&mut self, deployment_id: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM task_set_assignments WHERE deployment_id = $1 AND role = 'replacement'")
            .bind(deployment_id)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected())
    }

    /// The deployment's replacement becomes the service's primary; the previous primary task sets are withdrawn.
    pub async fn promote_task_sets(&mut self, service: &str, deployment_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM task_set_assignments WHERE service = $1 AND role = 'primary' AND deployment_id <> $2")
            .bind(service)
            .bind(deployment_id)
            .execute(self.conn())
            .await?;
        sqlx::query(
            "UPDATE task_set_assignments SET role = 'primary' WHERE service = $1 AND deployment_id = $2 \
             AND role = 'replacement'",
        )
        .bind(service)
        .bind(deployment_id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Records what an agent reports of one of its task sets (ignored if the set is no longer assigned to it).
    pub async fn record_task_set_report(
        &mut self,
        instance_name: &str,
        report: &TaskSetReportRow,
        now: i64,
    ) -> Result<bool> {
        let Some(current) =
            sqlx::query("SELECT messages FROM task_set_assignments WHERE instance_name = $1 AND task_set_id = $2")
                .bind(instance_name)
                .bind(&report.task_set_id)
                .fetch_optional(self.conn())
                .await?
        else {
            return Ok(false);
        };
        let mut messages: String = current.try_get("messages")?;
        if !report.messages.is_empty() {
            messages.push_str(&report.messages);
            if !messages.ends_with('\n') {
                messages.push('\n');
            }
            if messages.len() > MESSAGES_KEPT {
                let mut cut = messages.len() - MESSAGES_KEPT;
                while !messages.is_char_boundary(cut) {
                    cut += 1;
                }
                messages = messages[cut..].to_owned();
            }
        }
        // Logs only replace the kept ones when the report carries them.
        let sql = if report.logs.is_some() {
            "UPDATE task_set_assignments SET running = $1, healthy = $2, upstreams = $3, error = $4, replaced = $5, \
             messages = $6, reported_at = $7, logs = $8, logs_at = $7 WHERE instance_name = $9 AND task_set_id = $10"
        } else {
            "UPDATE task_set_assignments SET running = $1, healthy = $2, upstreams = $3, error = $4, replaced = $5, \
             messages = $6, reported_at = $7, logs = COALESCE($8, logs) WHERE instance_name = $9 AND task_set_id = $10"
        };
        sqlx::query(sql)
            .bind(report.running)
            .bind(i64::from(report.healthy))
            .bind(&report.upstreams)
            .bind(report.error.clone())
            .bind(report.replaced)
            .bind(messages)
            .bind(now)
            .bind(report.logs.clone())
            .bind(instance_name)
            .bind(&report.task_set_id)
            .execute(self.conn())
            .await?;
        Ok(true)
    }

    /// Asks the hosts of a service's task sets to send their containers' logs until `until` (epoch ms).
    pub async fn request_task_set_logs(&mut self, service: &str, until: i64) -> Result<()> {
        sqlx::query("UPDATE task_set_assignments SET logs_wanted_until = $1 WHERE service = $2")
            .bind(until)
            .bind(service)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
