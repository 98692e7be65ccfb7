//! The queries, as methods on [`Tx`]. Portable SQL only (see the crate docs).
//!
//! Status columns and their single writers (see ARCHITECTURE.md):
//! - `deployments.status`, `deployment_targets.status`: the server's orchestrator, through
//!   [`Tx::set_deployment_status`], [`Tx::start_deployment`] and [`Tx::set_target_status`].
//! - `lifecycle_events.status`: the command path, through [`Tx::claim_next_event`], [`Tx::record_event_result`]
//!   and [`Tx::skip_pending_events`].

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe};

use crate::rows::{self, *};
use crate::{Result, StoreError, Tx};

const GROUP_COLUMNS: &str = "g.id, g.application_id, a.name AS application_name, g.name, g.config_name, g.spec, \
     g.target_revision, g.last_successful_deployment_id, g.last_attempted_deployment_id, g.active_deployment_id, \
     g.create_time";

const DEPLOYMENT_COLUMNS: &str = "id, application_id, application_name, deployment_group_id, deployment_group_name, \
     config_name, status, creator, revision, bundle, previous_revision, options, min_healthy, error_code, \
     error_message, stop_requested, create_time, start_time, complete_time";

/// Filters of [`Tx::list_deployments`].
#[derive(Debug, Clone, Default)]
pub struct DeploymentFilter {
    pub deployment_group_id: Option<String>,
    pub application_id: Option<String>,
    pub statuses: Vec<String>,
    pub created_after: Option<i64>,
    pub created_before: Option<i64>,
}

/// The outcome of reporting a lifecycle event's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// The result was recorded.
    Recorded,
    /// The same result had already been recorded (a retried report); nothing changed.
    Duplicate,
    /// The event is not waiting for a result (unknown, never started, or already finished differently).
    NotInProgress,
}

/// A lifecycle event handed to an agent, with its deployment.
#[derive(Debug, Clone)]
pub struct ClaimedEvent {
    pub event: EventRow,
    pub deployment: DeploymentRow,
}

fn bind_opt_str<'q>(query: Query<'q, Any, AnyArguments>, value: &Option<String>) -> Query<'q, Any, AnyArguments> {
    query.bind(value.clone())
}

/// Turns a unique-key violation into a conflict: the check before an insert cannot see a concurrent transaction's
/// uncommitted row on PostgreSQL, so the constraint has the last word.
fn unique_conflict(what: String) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Database(error),
    }
}

impl Tx {
    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.0
    }

    // ----- applications -----

    pub async fn insert_application(&mut self, row: &ApplicationRow) -> Result<()> {
        if self.application_by_name(&row.name).await?.is_some() {
            return Err(StoreError::Conflict(format!("application {}", row.name)));
        }
        sqlx::query(
            "INSERT INTO applications (id, name, compute_platform, create_time, tags) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&row.id)
        .bind(&row.name)
        .bind(&row.compute_platform)
        .bind(row.create_time)
        .bind(&row.tags)
        .execute(self.conn())
        .await
        .map_err(unique_conflict(format!("application {}", row.name)))?;
        Ok(())
    }

    pub async fn application_by_name(&mut self, name: &str) -> Result<Option<ApplicationRow>> {
        let row =
            sqlx::query("SELECT * FROM applications WHERE name = $1").bind(name).fetch_optional(self.conn()).await?;
        row.as_ref().map(rows::application).transpose()
    }

    pub async fn application_by_id(&mut self, id: &str) -> Result<Option<ApplicationRow>> {
        let row = sqlx::query("SELECT * FROM applications WHERE id = $1").bind(id).fetch_optional(self.conn()).await?;
        row.as_ref().map(rows::application).transpose()
    }

    pub async fn list_applications(&mut self) -> Result<Vec<ApplicationRow>> {
        let rows = sqlx::query("SELECT * FROM applications ORDER BY name").fetch_all(self.conn()).await?;
        rows.iter().map(rows::application).collect()
    }

    pub async fn rename_application(&mut self, id: &str, new_name: &str) -> Result<()> {
        if self.application_by_name(new_name).await?.is_some() {
            return Err(StoreError::Conflict(format!("application {new_name}")));
        }
        sqlx::query("UPDATE applications SET name = $1 WHERE id = $2")
            .bind(new_name)
            .bind(id)
            .execute(self.conn())
            .await?;
        sqlx::query("UPDATE deployments SET application_name = $1 WHERE application_id = $2")
            .bind(new_name)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Deletes an application with its groups, revisions and deployment history.
    pub async fn delete_application(&mut self, id: &str) -> Result<()> {
        for statement in [
            "DELETE FROM event_logs WHERE deployment_id IN (SELECT id FROM deployments WHERE application_id = $1)",
            "DELETE FROM lifecycle_events WHERE deployment_id IN (SELECT id FROM deployments WHERE application_id = $1)",
            "DELETE FROM deployment_targets WHERE deployment_id IN (SELECT id FROM deployments WHERE application_id = $1)",
            "DELETE FROM deployments WHERE application_id = $1",
            "DELETE FROM group_instances WHERE deployment_group_id IN (SELECT id FROM deployment_groups WHERE application_id = $1)",
            "DELETE FROM deployment_groups WHERE application_id = $1",
            "DELETE FROM revisions WHERE application_id = $1",
            "DELETE FROM applications WHERE id = $1",
        ] {
            sqlx::query(statement).bind(id).execute(self.conn()).await?;
        }
        Ok(())
    }

    // ----- deployment configurations -----

    pub async fn insert_deployment_config(&mut self, row: &DeploymentConfigRow) -> Result<()> {
        if self.deployment_config_by_name(&row.name).await?.is_some() {
            return Err(StoreError::Conflict(format!("deployment config {}", row.name)));
        }
        sqlx::query(
            "INSERT INTO deployment_configs (id, name, compute_platform, spec, create_time) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&row.id)
        .bind(&row.name)
        .bind(&row.compute_platform)
        .bind(&row.spec)
        .bind(row.create_time)
        .execute(self.conn())
        .await
        .map_err(unique_conflict(format!("deployment config {}", row.name)))?;
        Ok(())
    }

    pub async fn deployment_config_by_name(&mut self, name: &str) -> Result<Option<DeploymentConfigRow>> {
        let row = sqlx::query("SELECT * FROM deployment_configs WHERE name = $1")
            .bind(name)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(rows::deployment_config).transpose()
    }

    pub async fn list_deployment_configs(&mut self) -> Result<Vec<DeploymentConfigRow>> {
        let rows = sqlx::query("SELECT * FROM deployment_configs ORDER BY name").fetch_all(self.conn()).await?;
        rows.iter().map(rows::deployment_config).collect()
    }

    pub async fn delete_deployment_config(&mut self, name: &str) -> Result<()> {
        sqlx::query("DELETE FROM deployment_configs WHERE name = $1").bind(name).execute(self.conn()).await?;
        Ok(())
    }

    /// Returns how many deployment groups use the configuration.
    pub async fn deployment_config_use_count(&mut self, name: &str) -> Result<i64> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM deployment_groups WHERE config_name = $1")
            .bind(name)
            .fetch_one(self.conn())
            .await?;
        Ok(count)
    }

    // ----- deployment groups -----

    pub async fn insert_deployment_group(&mut self, row: &DeploymentGroupRow) -> Result<()> {
        if self.deployment_group_by_name(&row.application_id, &row.name).await?.is_some() {
            return Err(StoreError::Conflict(format!("deployment group {}", row.name)));
        }
        sqlx::query(
            "INSERT INTO deployment_groups (id, application_id, name, config_name, spec, target_revision, \
             last_successful_deployment_id, last_attempted_deployment_id, active_deployment_id, create_time) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&row.id)
        .bind(&row.application_id)
        .bind(&row.name)
        .bind(&row.config_name)
        .bind(&row.spec)
        .bind(row.target_revision.clone())
        .bind(row.last_successful_deployment_id.clone())
        .bind(row.last_attempted_deployment_id.clone())
        .bind(row.active_deployment_id.clone())
        .bind(row.create_time)
        .execute(self.conn())
        .await
        .map_err(unique_conflict(format!("deployment group {}", row.name)))?;
        Ok(())
    }

    pub async fn deployment_group_by_name(
        &mut self,
        application_id: &str,
        name: &str,
    ) -> Result<Option<DeploymentGroupRow>> {
        let sql = format!(
            "SELECT {GROUP_COLUMNS} FROM deployment_groups g JOIN applications a ON a.id = g.application_id \
             WHERE g.application_id = $1 AND g.name = $2"
        );
        let row = sqlx::query(AssertSqlSafe(sql)).bind(application_id).bind(name).fetch_optional(self.conn()).await?;
        row.as_ref().map(rows::deployment_group).transpose()
    }

    pub async fn deployment_group_by_id(&mut self, id: &str) -> Result<Option<DeploymentGroupRow>> {
        let sql = format!(
            "SELECT {GROUP_COLUMNS} FROM deployment_groups g JOIN applications a ON a.id = g.application_id WHERE g.id = $1"
        );
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(self.conn()).await?;
        row.as_ref().map(rows::deployment_group).transpose()
    }

    pub async fn list_deployment_groups(&mut self, application_id: &str) -> Result<Vec<DeploymentGroupRow>> {
        let sql = format!(
            "SELECT {GROUP_COLUMNS} FROM deployment_groups g JOIN applications a ON a.id = g.application_id \
             WHERE g.application_id = $1 ORDER BY g.name"
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(application_id).fetch_all(self.conn()).await?;
        rows.iter().map(rows::deployment_group).collect()
    }

    /// Updates a group's name, configuration and settings (not its deployment bookkeeping).
    pub async fn update_deployment_group(&mut self, row: &DeploymentGroupRow) -> Result<()> {
        if let Some(existing) = self.deployment_group_by_name(&row.application_id, &row.name).await?
            && existing.id != row.id
        {
            return Err(StoreError::Conflict(format!("deployment group {}", row.name)));
        }
        sqlx::query("UPDATE deployment_groups SET name = $1, config_name = $2, spec = $3 WHERE id = $4")
            .bind(&row.name)
            .bind(&row.config_name)
            .bind(&row.spec)
            .bind(&row.id)
            .execute(self.conn())
            .await?;
        sqlx::query("UPDATE deployments SET deployment_group_name = $1 WHERE deployment_group_id = $2")
            .bind(&row.name)
            .bind(&row.id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn delete_deployment_group(&mut self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM group_instances WHERE deployment_group_id = $1").bind(id).execute(self.conn()).await?;
        sqlx::query("DELETE FROM deployment_groups WHERE id = $1").bind(id).execute(self.conn()).await?;
        Ok(())
    }

    /// Claims the group for a new deployment; false when another deployment is active (one per group).
    pub async fn claim_group_for_deployment(&mut self, group_id: &str, deployment_id: &str) -> Result<bool> {
        let res = sqlx::query(
            "UPDATE deployment_groups SET active_deployment_id = $1, last_attempted_deployment_id = $1 \
             WHERE id = $2 AND active_deployment_id IS NULL",
        )
        .bind(deployment_id)
        .bind(group_id)
        .execute(self.conn())
        .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Releases the group at the end of a deployment; on success records it as the group's last good one.
    pub async fn release_group(
        &mut self,
        group_id: &str,
        deployment_id: &str,
        succeeded_revision: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE deployment_groups SET active_deployment_id = NULL WHERE id = $1 AND active_deployment_id = $2",
        )
        .bind(group_id)
        .bind(deployment_id)
        .execute(self.conn())
        .await?;
        if let Some(revision) = succeeded_revision {
            sqlx::query(
                "UPDATE deployment_groups SET last_successful_deployment_id = $1, target_revision = $2 WHERE id = $3",
            )
            .bind(deployment_id)
            .bind(revision)
            .bind(group_id)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    pub async fn group_instances(&mut self, group_id: &str) -> Result<Vec<GroupInstanceRow>> {
        let rows = sqlx::query("SELECT * FROM group_instances WHERE deployment_group_id = $1")
            .bind(group_id)
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(rows::group_instance).collect()
    }

    pub async fn upsert_group_instance(&mut self, row: &GroupInstanceRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO group_instances (deployment_group_id, instance_name, healthy, revision_key) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (deployment_group_id, instance_name) DO UPDATE SET healthy = $3, revision_key = $4",
        )
        .bind(&row.deployment_group_id)
        .bind(&row.instance_name)
        .bind(i64::from(row.healthy))
        .bind(row.revision_key.clone())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    // ----- revisions and objects -----

    /// Registers a revision, or updates its description when it is already known.
    pub async fn upsert_revision(&mut self, row: &RevisionRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO revisions (application_id, revision_key, location, description, register_time) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (application_id, revision_key) DO UPDATE SET description = COALESCE($4, revisions.description)",
        )
        .bind(&row.application_id)
        .bind(&row.revision_key)
        .bind(&row.location)
        .bind(row.description.clone())
        .bind(row.register_time)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn revision(&mut self, application_id: &str, revision_key: &str) -> Result<Option<RevisionRow>> {
        let row = sqlx::query("SELECT * FROM revisions WHERE application_id = $1 AND revision_key = $2")
            .bind(application_id)
            .bind(revision_key)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(rows::revision).transpose()
    }

    pub async fn list_revisions(&mut self, application_id: &str) -> Result<Vec<RevisionRow>> {
        let rows =
            sqlx::query("SELECT * FROM revisions WHERE application_id = $1 ORDER BY register_time, revision_key")
                .bind(application_id)
                .fetch_all(self.conn())
                .await?;
        rows.iter().map(rows::revision).collect()
    }

    pub async fn mark_revision_used(&mut self, application_id: &str, revision_key: &str, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE revisions SET first_used_time = COALESCE(first_used_time, $1), last_used_time = $1 \
             WHERE application_id = $2 AND revision_key = $3",
        )
        .bind(now)
        .bind(application_id)
        .bind(revision_key)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Names of the groups that have deployed a revision, from deployment history.
    pub async fn groups_that_deployed(&mut self, application_id: &str, revision_json: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT deployment_group_name FROM deployments WHERE application_id = $1 AND revision = $2 \
             ORDER BY deployment_group_name",
        )
        .bind(application_id)
        .bind(revision_json)
        .fetch_all(self.conn())
        .await?;
        Ok(rows.into_iter().map(|(name,)| name).collect())
    }

    pub async fn put_object(&mut self, row: &ObjectRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO objects (bucket, object_key, sha256, size, create_time) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (bucket, object_key) DO UPDATE SET sha256 = $3, size = $4, create_time = $5",
        )
        .bind(&row.bucket)
        .bind(&row.key)
        .bind(&row.sha256)
        .bind(row.size)
        .bind(row.create_time)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn object(&mut self, bucket: &str, key: &str) -> Result<Option<ObjectRow>> {
        let row = sqlx::query("SELECT * FROM objects WHERE bucket = $1 AND object_key = $2")
            .bind(bucket)
            .bind(key)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(rows::object).transpose()
    }

    // ----- instances -----

    pub async fn insert_instance(&mut self, row: &InstanceRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO instances (name, arn, iam_user_arn, iam_session_arn, register_time, deregister_time, tags, \
             agent_version, hostname, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&row.name)
        .bind(&row.arn)
        .bind(row.iam_user_arn.clone())
        .bind(row.iam_session_arn.clone())
        .bind(row.register_time)
        .bind(row.deregister_time)
        .bind(&row.tags)
        .bind(row.agent_version.clone())
        .bind(row.hostname.clone())
        .bind(row.last_seen)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn instance(&mut self, name: &str) -> Result<Option<InstanceRow>> {
        let row = sqlx::query("SELECT * FROM instances WHERE name = $1").bind(name).fetch_optional(self.conn()).await?;
        row.as_ref().map(rows::instance).transpose()
    }

    pub async fn list_instances(&mut self) -> Result<Vec<InstanceRow>> {
        let rows = sqlx::query("SELECT * FROM instances ORDER BY name").fetch_all(self.conn()).await?;
        rows.iter().map(rows::instance).collect()
    }

    /// Replaces an instance's mutable fields (registration state, tags, agent facts).
    pub async fn update_instance(&mut self, row: &InstanceRow) -> Result<()> {
        let query = sqlx::query(
            "UPDATE instances SET arn = $1, iam_user_arn = $2, iam_session_arn = $3, register_time = $4, \
             deregister_time = $5, tags = $6, agent_version = $7, hostname = $8, last_seen = $9 WHERE name = $10",
        )
        .bind(&row.arn);
        let query = bind_opt_str(query, &row.iam_user_arn);
        let query = bind_opt_str(query, &row.iam_session_arn);
        let res = query
            .bind(row.register_time)
            .bind(row.deregister_time)
            .bind(&row.tags)
            .bind(row.agent_version.clone())
            .bind(row.hostname.clone())
            .bind(row.last_seen)
            .bind(&row.name)
            .execute(self.conn())
            .await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("instance {}", row.name)));
        }
        Ok(())
    }

    /// Records that the instance's agent was heard from. Writes at most once every few seconds per instance: a
    /// lease is tens of seconds, and a write per poll would cost more than the poll itself.
    pub async fn touch_instance(&mut self, name: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE instances SET last_seen = $1 WHERE name = $2 AND (last_seen IS NULL OR last_seen < $3)")
            .bind(now)
            .bind(name)
            .bind(now - 2_000)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    // ----- deployments -----

    /// Inserts a deployment with its targets (in dispatch order), each with the given lifecycle events, all Pending.
    pub async fn insert_deployment(
        &mut self,
        row: &DeploymentRow,
        targets: &[String],
        events: &[String],
    ) -> Result<()> {
        let planned: Vec<PlannedTarget> = targets
            .iter()
            .map(|instance_name| PlannedTarget {
                instance_name: instance_name.clone(),
                role: None,
                events: events.iter().map(|name| PlannedEvent::agent(name, 0)).collect(),
            })
            .collect();
        self.insert_deployment_plan(row, &planned).await
    }

    /// Inserts a deployment whose targets each have their own events (a blue/green deployment: the original and the
    /// replacement hosts run different events, in phases), in dispatch order.
    pub async fn insert_deployment_plan(&mut self, row: &DeploymentRow, targets: &[PlannedTarget]) -> Result<()> {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO deployments ({DEPLOYMENT_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        )))
        .bind(&row.id)
        .bind(&row.application_id)
        .bind(&row.application_name)
        .bind(&row.deployment_group_id)
        .bind(&row.deployment_group_name)
        .bind(&row.config_name)
        .bind(&row.status)
        .bind(&row.creator)
        .bind(&row.revision)
        .bind(&row.bundle)
        .bind(row.previous_revision.clone())
        .bind(&row.options)
        .bind(row.min_healthy)
        .bind(row.error_code.clone())
        .bind(row.error_message.clone())
        .bind(i64::from(row.stop_requested))
        .bind(row.create_time)
        .bind(row.start_time)
        .bind(row.complete_time)
        .execute(self.conn())
        .await?;
        self.insert_targets(&row.id, targets, 0, row.create_time).await
    }

    /// Adds targets to a deployment being run (a blue/green deployment's replacement hosts, once provisioned), after
    /// the ones it has.
    pub async fn add_deployment_targets(
        &mut self,
        deployment_id: &str,
        targets: &[PlannedTarget],
        now: i64,
    ) -> Result<()> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM deployment_targets WHERE deployment_id = $1")
            .bind(deployment_id)
            .fetch_one(self.conn())
            .await?;
        self.insert_targets(deployment_id, targets, count as usize, now).await
    }

    async fn insert_targets(
        &mut self,
        deployment_id: &str,
        targets: &[PlannedTarget],
        first_position: usize,
        now: i64,
    ) -> Result<()> {
        // Multi-row inserts: a deployment to thousands of hosts is one statement per few hundred rows.
        for (chunk_idx, chunk) in targets.chunks(200).enumerate() {
            let mut sql = String::from(
                "INSERT INTO deployment_targets (deployment_id, instance_name, position, status, last_updated, role) VALUES ",
            );
            let mut n = 0;
            for idx in 0..chunk.len() {
                if idx > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("(${}, ${}, ${}, 'Pending', ${}, ${})", n + 1, n + 2, n + 3, n + 4, n + 5));
                n += 5;
            }
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (idx, target) in chunk.iter().enumerate() {
                let position = (first_position + chunk_idx * 200 + idx) as i64;
                query = query
                    .bind(deployment_id.to_owned())
                    .bind(target.instance_name.clone())
                    .bind(position)
                    .bind(now)
                    .bind(target.role.clone());
            }
            query.execute(self.conn()).await?;
        }
        let rows: Vec<(&String, usize, &PlannedEvent)> = targets
            .iter()
            .flat_map(|target| {
                target.events.iter().enumerate().map(move |(position, event)| (&target.instance_name, position, event))
            })
            .collect();
        for chunk in rows.chunks(150) {
            let mut sql = String::from(
                "INSERT INTO lifecycle_events (deployment_id, instance_name, position, name, status, phase, runner) VALUES ",
            );
            let mut n = 0;
            for idx in 0..chunk.len() {
                if idx > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, 'Pending', ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5,
                    n + 6
                ));
                n += 6;
            }
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (instance_name, position, event) in chunk {
                query = query
                    .bind(deployment_id.to_owned())
                    .bind((*instance_name).clone())
                    .bind(*position as i64)
                    .bind(event.name.clone())
                    .bind(event.phase)
                    .bind(if event.server { "server" } else { "agent" });
            }
            query.execute(self.conn()).await?;
        }
        Ok(())
    }

    /// The phase a deployment has reached (see [`PlannedEvent::phase`]).
    pub async fn deployment_phase(&mut self, deployment_id: &str) -> Result<i64> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT phase FROM deployments WHERE id = $1")
            .bind(deployment_id)
            .fetch_optional(self.conn())
            .await?;
        Ok(row.map_or(0, |(phase,)| phase))
    }

    /// Moves a deployment to `phase`. Its running targets count as updated now: their first event of the new
    /// phase only became runnable, so the sweeper's wait for an agent to pick it up starts here.
    pub async fn set_deployment_phase(&mut self, deployment_id: &str, phase: i64, now: i64) -> Result<()> {
        sqlx::query("UPDATE deployments SET phase = $1 WHERE id = $2")
            .bind(phase)
            .bind(deployment_id)
            .execute(self.conn())
            .await?;
        sqlx::query(
            "UPDATE deployment_targets SET last_updated = $1 WHERE deployment_id = $2 AND status = 'InProgress'",
        )
        .bind(now)
        .bind(deployment_id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// How many events of phases up to `phase` are still open (Pending or InProgress), and the highest phase of any
    /// event of the deployment.
    pub async fn open_events_up_to_phase(&mut self, deployment_id: &str, phase: i64) -> Result<(i64, i64)> {
        let (open,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM lifecycle_events WHERE deployment_id = $1 AND phase <= $2              AND status IN ('Pending', 'InProgress')",
        )
        .bind(deployment_id)
        .bind(phase)
        .fetch_one(self.conn())
        .await?;
        let (max,): (Option<i64>,) = sqlx::query_as("SELECT MAX(phase) FROM lifecycle_events WHERE deployment_id = $1")
            .bind(deployment_id)
            .fetch_one(self.conn())
            .await?;
        Ok((open, max.unwrap_or(0)))
    }

    /// Server-run events that may run now: each the first open event of a running target, in a phase the deployment
    /// reached. Pending ones become InProgress here (the caller runs them after committing); InProgress ones are
    /// returned too, so a restarted server runs again what it was running when it stopped.
    /// `instance` limits the search to one target (the one whose events just changed), so an agent's report costs
    /// one target's events, not the deployment's.
    pub async fn start_server_events(
        &mut self,
        deployment_id: &str,
        instance: Option<&str>,
        now: i64,
    ) -> Result<Vec<EventRow>> {
        let only = if instance.is_some() { "AND e.instance_name = $2 " } else { "" };
        let sql = format!(
            "SELECT e.* FROM lifecycle_events e \
             JOIN deployment_targets t ON t.deployment_id = e.deployment_id AND t.instance_name = e.instance_name \
             JOIN deployments d ON d.id = e.deployment_id \
             WHERE e.deployment_id = $1 {only}AND e.runner = 'server' AND e.status IN ('Pending', 'InProgress') \
             AND t.status = 'InProgress' AND d.status = 'InProgress' AND e.phase <= d.phase \
             AND NOT EXISTS (SELECT 1 FROM lifecycle_events p WHERE p.deployment_id = e.deployment_id \
             AND p.instance_name = e.instance_name AND p.position < e.position AND p.status IN ('Pending', 'InProgress')) \
             ORDER BY e.instance_name, e.position"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(deployment_id);
        if let Some(instance) = instance {
            query = query.bind(instance);
        }
        let rows = query.fetch_all(self.conn()).await?;
        let mut events: Vec<EventRow> = rows.iter().map(rows::event).collect::<Result<_>>()?;
        for event in &mut events {
            if event.status == "Pending" {
                sqlx::query(
                    "UPDATE lifecycle_events SET status = 'InProgress', start_time = $1                      WHERE deployment_id = $2 AND instance_name = $3 AND position = $4 AND status = 'Pending'",
                )
                .bind(now)
                .bind(&event.deployment_id)
                .bind(&event.instance_name)
                .bind(event.position)
                .execute(self.conn())
                .await?;
                event.status = "InProgress".to_owned();
                event.start_time = Some(now);
            }
        }
        Ok(events)
    }

    pub async fn deployment(&mut self, id: &str) -> Result<Option<DeploymentRow>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(rows::deployment).transpose()
    }

    /// Reads a deployment and, on PostgreSQL, locks its row until the transaction ends: for read-modify-writes of
    /// its documents (options) that may race with another replica.
    pub async fn deployment_for_update(&mut self, id: &str) -> Result<Option<DeploymentRow>> {
        let sql = format!("SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE id = $1{}", self.dialect().for_update());
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(self.conn()).await?;
        row.as_ref().map(rows::deployment).transpose()
    }

    /// Lists deployments, newest first.
    pub async fn list_deployments(&mut self, filter: &DeploymentFilter) -> Result<Vec<DeploymentRow>> {
        // Dynamic SQL with our own $n counter: QueryBuilder<Any> emits `?`, which PostgreSQL rejects.
        let mut clauses = Vec::new();
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if filter.deployment_group_id.is_some() {
            clauses.push(format!("deployment_group_id = {}", next()));
        }
        if filter.application_id.is_some() {
            clauses.push(format!("application_id = {}", next()));
        }
        if !filter.statuses.is_empty() {
            let placeholders: Vec<String> = filter.statuses.iter().map(|_| next()).collect();
            clauses.push(format!("status IN ({})", placeholders.join(", ")));
        }
        if filter.created_after.is_some() {
            clauses.push(format!("create_time >= {}", next()));
        }
        if filter.created_before.is_some() {
            clauses.push(format!("create_time <= {}", next()));
        }
        let where_clause = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let sql =
            format!("SELECT {DEPLOYMENT_COLUMNS} FROM deployments {where_clause} ORDER BY create_time DESC, id DESC");
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(group_id) = &filter.deployment_group_id {
            query = query.bind(group_id.clone());
        }
        if let Some(application_id) = &filter.application_id {
            query = query.bind(application_id.clone());
        }
        for status in &filter.statuses {
            query = query.bind(status.clone());
        }
        if let Some(after) = filter.created_after {
            query = query.bind(after);
        }
        if let Some(before) = filter.created_before {
            query = query.bind(before);
        }
        let rows = query.fetch_all(self.conn()).await?;
        rows.iter().map(rows::deployment).collect()
    }

    /// Returns the ids of deployments that are not finished (for recovery after a restart).
    pub async fn active_deployment_ids(&mut self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM deployments WHERE status NOT IN ('Succeeded', 'Failed', 'Stopped') ORDER BY create_time",
        )
        .fetch_all(self.conn())
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Ids of InProgress deployments that started before `cutoff`.
    pub async fn deployments_started_before(&mut self, cutoff: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM deployments WHERE status = 'InProgress' AND start_time < $1 ORDER BY start_time",
        )
        .bind(cutoff)
        .fetch_all(self.conn())
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Fails every InProgress event of a deployment with the given diagnostics (a deployment deadline passed).
    pub async fn fail_running_events(
        &mut self,
        deployment_id: &str,
        diagnostics: &EventDiagnostics,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE lifecycle_events SET status = 'Failed', end_time = $1, error_code = $2, script_name = $3, \
             message = $4, log_tail = $5 WHERE deployment_id = $6 AND status = 'InProgress'",
        )
        .bind(now)
        .bind(&diagnostics.error_code)
        .bind(&diagnostics.script_name)
        .bind(&diagnostics.message)
        .bind(&diagnostics.log_tail)
        .bind(deployment_id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Moves a Created deployment to InProgress with its computed minimum of healthy hosts.
    pub async fn start_deployment(&mut self, id: &str, min_healthy: i64, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE deployments SET status = 'InProgress', min_healthy = $1, start_time = $2 WHERE id = $3 AND status = 'Created'",
        )
        .bind(min_healthy)
        .bind(now)
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Sets a deployment's status; terminal statuses also set the completion time and error information.
    pub async fn set_deployment_status(
        &mut self,
        id: &str,
        status: &str,
        error: Option<(&str, &str)>,
        complete_time: Option<i64>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE deployments SET status = $1, error_code = COALESCE($2, error_code), \
             error_message = COALESCE($3, error_message), complete_time = COALESCE($4, complete_time) WHERE id = $5",
        )
        .bind(status)
        .bind(error.map(|(code, _)| code.to_owned()))
        .bind(error.map(|(_, message)| message.to_owned()))
        .bind(complete_time)
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Replaces a deployment's options document (the server owns its content).
    pub async fn set_deployment_options(&mut self, id: &str, options: &str) -> Result<()> {
        sqlx::query("UPDATE deployments SET options = $1 WHERE id = $2")
            .bind(options)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn request_stop(&mut self, id: &str) -> Result<()> {
        sqlx::query("UPDATE deployments SET stop_requested = 1 WHERE id = $1").bind(id).execute(self.conn()).await?;
        Ok(())
    }

    /// Number of targets per status.
    pub async fn target_status_counts(&mut self, deployment_id: &str) -> Result<Vec<(String, i64)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM deployment_targets WHERE deployment_id = $1 GROUP BY status")
                .bind(deployment_id)
                .fetch_all(self.conn())
                .await?;
        Ok(rows)
    }

    /// Targets in one status, in dispatch order, at most `limit`.
    pub async fn targets_in_status(&mut self, deployment_id: &str, status: &str, limit: i64) -> Result<Vec<TargetRow>> {
        let rows = sqlx::query(
            "SELECT * FROM deployment_targets WHERE deployment_id = $1 AND status = $2 ORDER BY position LIMIT $3",
        )
        .bind(deployment_id)
        .bind(status)
        .bind(limit)
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(rows::target).collect()
    }

    pub async fn target(&mut self, deployment_id: &str, instance_name: &str) -> Result<Option<TargetRow>> {
        let row = sqlx::query("SELECT * FROM deployment_targets WHERE deployment_id = $1 AND instance_name = $2")
            .bind(deployment_id)
            .bind(instance_name)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(rows::target).transpose()
    }

    /// Events of every target in one status, ordered by target then position.
    pub async fn events_of_targets_in_status(&mut self, deployment_id: &str, status: &str) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(
            "SELECT e.* FROM lifecycle_events e JOIN deployment_targets t \
             ON t.deployment_id = e.deployment_id AND t.instance_name = e.instance_name \
             WHERE e.deployment_id = $1 AND t.status = $2 ORDER BY e.instance_name, e.position",
        )
        .bind(deployment_id)
        .bind(status)
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(rows::event).collect()
    }

    /// Marks every Pending target Skipped, with all its events.
    pub async fn skip_pending_targets(&mut self, deployment_id: &str, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE lifecycle_events SET status = 'Skipped' WHERE deployment_id = $1 AND status = 'Pending' \
             AND instance_name IN (SELECT instance_name FROM deployment_targets WHERE deployment_id = $1 AND status = 'Pending')",
        )
        .bind(deployment_id)
        .execute(self.conn())
        .await?;
        sqlx::query("UPDATE deployment_targets SET status = 'Skipped', last_updated = $1 WHERE deployment_id = $2 AND status = 'Pending'")
            .bind(now)
            .bind(deployment_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Marks every Pending event of the deployment Skipped (a stop: running events finish, nothing new starts).
    pub async fn skip_all_pending_events(&mut self, deployment_id: &str) -> Result<()> {
        sqlx::query("UPDATE lifecycle_events SET status = 'Skipped' WHERE deployment_id = $1 AND status = 'Pending'")
            .bind(deployment_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn targets(&mut self, deployment_id: &str) -> Result<Vec<TargetRow>> {
        let rows = sqlx::query("SELECT * FROM deployment_targets WHERE deployment_id = $1 ORDER BY position")
            .bind(deployment_id)
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(rows::target).collect()
    }

    pub async fn set_target_status(
        &mut self,
        deployment_id: &str,
        instance_name: &str,
        status: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE deployment_targets SET status = $1, last_updated = $2 WHERE deployment_id = $3 AND instance_name = $4",
        )
        .bind(status)
        .bind(now)
        .bind(deployment_id)
        .bind(instance_name)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// All lifecycle events of a deployment, ordered by target then position.
    pub async fn events(&mut self, deployment_id: &str) -> Result<Vec<EventRow>> {
        let rows =
            sqlx::query("SELECT * FROM lifecycle_events WHERE deployment_id = $1 ORDER BY instance_name, position")
                .bind(deployment_id)
                .fetch_all(self.conn())
                .await?;
        rows.iter().map(rows::event).collect()
    }

    pub async fn target_events(&mut self, deployment_id: &str, instance_name: &str) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(
            "SELECT * FROM lifecycle_events WHERE deployment_id = $1 AND instance_name = $2 ORDER BY position",
        )
        .bind(deployment_id)
        .bind(instance_name)
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(rows::event).collect()
    }

    /// Hands out the instance's next lifecycle event: one already handed out but not finished (its answer may
    /// have been lost) first, otherwise the next Pending event of a dispatched target, which becomes InProgress.
    /// Events in `running` (`(deployment_id, position)`) are being run by the agent right now and are skipped, as
    /// is the rest of their deployment (a host runs one event of a deployment at a time).
    pub async fn claim_next_event(
        &mut self,
        instance_name: &str,
        now: i64,
        running: &[(String, i64)],
    ) -> Result<Option<ClaimedEvent>> {
        let rows = sqlx::query(
            "SELECT e.*, d.phase AS deployment_phase FROM lifecycle_events e JOIN deployment_targets t \
             ON t.deployment_id = e.deployment_id AND t.instance_name = e.instance_name \
             JOIN deployments d ON d.id = e.deployment_id \
             WHERE e.instance_name = $1 AND t.status = 'InProgress' AND e.status IN ('Pending', 'InProgress') \
             AND d.status = 'InProgress' ORDER BY d.create_time, e.deployment_id, e.position",
        )
        .bind(instance_name)
        .fetch_all(self.conn())
        .await?;
        let mut events: Vec<(EventRow, i64)> = Vec::with_capacity(rows.len());
        for row in &rows {
            use sqlx::Row;
            events.push((rows::event(row)?, row.try_get("deployment_phase")?));
        }
        // The first open event of each deployment is the runnable one; prefer redelivering an InProgress one. It is
        // not the agent's when the server runs it (traffic events) or its phase has not been reached yet.
        let mut firsts: Vec<&EventRow> = Vec::new();
        let mut seen: Option<&str> = None;
        for (event, phase) in &events {
            if seen == Some(event.deployment_id.as_str()) {
                continue;
            }
            seen = Some(event.deployment_id.as_str());
            if event.runner == "agent" && event.phase <= *phase {
                firsts.push(event);
            }
        }
        firsts.retain(|event| !running.iter().any(|(deployment_id, _)| *deployment_id == event.deployment_id));
        let chosen = firsts.iter().find(|event| event.status == "InProgress").or_else(|| firsts.first()).copied();
        let Some(chosen) = chosen.cloned() else { return Ok(None) };
        let mut event = chosen;
        if event.status == "Pending" {
            let res = sqlx::query(
                "UPDATE lifecycle_events SET status = 'InProgress', start_time = $1 \
                 WHERE deployment_id = $2 AND instance_name = $3 AND position = $4 AND status = 'Pending'",
            )
            .bind(now)
            .bind(&event.deployment_id)
            .bind(instance_name)
            .bind(event.position)
            .execute(self.conn())
            .await?;
            if res.rows_affected() == 1 {
                event.status = "InProgress".to_owned();
                event.start_time = Some(now);
            } else {
                // A poll of the same host on another connection (another replica) started it first: hand out the
                // same event, as for any redelivery, rather than nothing.
                let row = sqlx::query(
                    "SELECT * FROM lifecycle_events WHERE deployment_id = $1 AND instance_name = $2 AND position = $3",
                )
                .bind(&event.deployment_id)
                .bind(instance_name)
                .bind(event.position)
                .fetch_optional(self.conn())
                .await?;
                match row.as_ref().map(rows::event).transpose()? {
                    Some(current) if current.status == "InProgress" => event = current,
                    _ => return Ok(None),
                }
            }
        }
        let deployment = self
            .deployment(&event.deployment_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("event of unknown deployment {}", event.deployment_id)))?;
        Ok(Some(ClaimedEvent { event, deployment }))
    }

    /// Records an agent's result for an InProgress event. Idempotent for retried reports.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_event_result(
        &mut self,
        deployment_id: &str,
        instance_name: &str,
        position: i64,
        status: &str,
        diagnostics: &EventDiagnostics,
        start_time: Option<i64>,
        end_time: i64,
    ) -> Result<RecordOutcome> {
        let row = sqlx::query(
            "SELECT * FROM lifecycle_events WHERE deployment_id = $1 AND instance_name = $2 AND position = $3",
        )
        .bind(deployment_id)
        .bind(instance_name)
        .bind(position)
        .fetch_optional(self.conn())
        .await?;
        let Some(existing) = row.as_ref().map(rows::event).transpose()? else {
            return Ok(RecordOutcome::NotInProgress);
        };
        if existing.status == status {
            return Ok(RecordOutcome::Duplicate);
        }
        if existing.status != "InProgress" {
            return Ok(RecordOutcome::NotInProgress);
        }
        // Guarded by the status read above: a report retried to another replica at the same moment loses here and
        // is answered as the duplicate it is.
        let done = sqlx::query(
            "UPDATE lifecycle_events SET status = $1, start_time = COALESCE($2, start_time), end_time = $3, \
             error_code = $4, script_name = $5, message = $6, log_tail = $7 \
             WHERE deployment_id = $8 AND instance_name = $9 AND position = $10 AND status = 'InProgress'",
        )
        .bind(status)
        .bind(start_time)
        .bind(end_time)
        .bind(&diagnostics.error_code)
        .bind(&diagnostics.script_name)
        .bind(&diagnostics.message)
        .bind(&diagnostics.log_tail)
        .bind(deployment_id)
        .bind(instance_name)
        .bind(position)
        .execute(self.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Ok(RecordOutcome::Duplicate);
        }
        sqlx::query("UPDATE deployment_targets SET last_updated = $1 WHERE deployment_id = $2 AND instance_name = $3")
            .bind(end_time)
            .bind(deployment_id)
            .bind(instance_name)
            .execute(self.conn())
            .await?;
        Ok(RecordOutcome::Recorded)
    }

    /// Marks every Pending event of a target Skipped (after a failure, a stop, or when the target is skipped).
    pub async fn skip_pending_events(&mut self, deployment_id: &str, instance_name: &str) -> Result<()> {
        sqlx::query(
            "UPDATE lifecycle_events SET status = 'Skipped' WHERE deployment_id = $1 AND instance_name = $2 AND status = 'Pending'",
        )
        .bind(deployment_id)
        .bind(instance_name)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Fails a Pending event the agent never picked up (the agent is not running or unreachable).
    pub async fn fail_unclaimed_event(
        &mut self,
        deployment_id: &str,
        instance_name: &str,
        position: i64,
        diagnostics: &EventDiagnostics,
        now: i64,
    ) -> Result<bool> {
        let res = sqlx::query(
            "UPDATE lifecycle_events SET status = 'Failed', end_time = $1, error_code = $2, script_name = $3, \
             message = $4, log_tail = $5 WHERE deployment_id = $6 AND instance_name = $7 AND position = $8 \
             AND status IN ('Pending', 'InProgress')",
        )
        .bind(now)
        .bind(&diagnostics.error_code)
        .bind(&diagnostics.script_name)
        .bind(&diagnostics.message)
        .bind(&diagnostics.log_tail)
        .bind(deployment_id)
        .bind(instance_name)
        .bind(position)
        .execute(self.conn())
        .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Open events that have waited since before `cutoff` and are the next (or running) event of their target, in
    /// running deployments whose lease `owner` holds, with their target and the instance's `last_seen`; the sweeper
    /// judges these.
    pub async fn stale_open_events(
        &mut self,
        cutoff: i64,
        owner: &str,
    ) -> Result<Vec<(TargetRow, EventRow, Option<i64>)>> {
        let rows = sqlx::query(
            "SELECT e.*, t.position AS target_position, t.status AS target_status, t.last_updated AS target_last_updated, \
             i.last_seen AS instance_last_seen \
             FROM lifecycle_events e \
             JOIN deployment_targets t ON t.deployment_id = e.deployment_id AND t.instance_name = e.instance_name \
             JOIN deployments d ON d.id = e.deployment_id \
             JOIN leases l ON l.name = e.deployment_id AND l.owner = $2 \
             LEFT JOIN instances i ON i.name = e.instance_name \
             WHERE t.status = 'InProgress' AND d.status = 'InProgress' AND e.runner = 'agent' AND e.phase <= d.phase \
             AND ((e.status = 'InProgress' AND e.start_time < $1) OR (e.status = 'Pending' AND t.last_updated < $1)) \
             AND NOT EXISTS (SELECT 1 FROM lifecycle_events p WHERE p.deployment_id = e.deployment_id \
                 AND p.instance_name = e.instance_name AND p.position < e.position AND p.status IN ('Pending', 'InProgress')) \
             ORDER BY e.deployment_id, e.instance_name",
        )
        .bind(cutoff)
        .bind(owner)
        .fetch_all(self.conn())
        .await?;
        let mut res = Vec::new();
        for row in &rows {
            use sqlx::Row;
            let event = rows::event(row)?;
            let target = TargetRow {
                deployment_id: event.deployment_id.clone(),
                instance_name: event.instance_name.clone(),
                position: row.try_get("target_position")?,
                status: row.try_get("target_status")?,
                last_updated: row.try_get("target_last_updated")?,
                role: None,
            };
            let last_seen: Option<i64> = row.try_get("instance_last_seen")?;
            res.push((target, event, last_seen));
        }
        Ok(res)
    }

    pub async fn put_event_log(
        &mut self,
        deployment_id: &str,
        instance_name: &str,
        position: i64,
        log: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO event_logs (deployment_id, instance_name, position, log) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (deployment_id, instance_name, position) DO UPDATE SET log = $4",
        )
        .bind(deployment_id)
        .bind(instance_name)
        .bind(position)
        .bind(log)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Appends a piece of a running event's log, streamed by its agent: `text` starts at byte `offset` of the log.
    /// A piece sent again (its acknowledgement was lost) adds only what is new, so retries never duplicate lines;
    /// nothing is added past `cap` bytes. Returns the log's length afterwards.
    pub async fn append_event_log(
        &mut self,
        deployment_id: &str,
        instance_name: &str,
        position: i64,
        offset: u64,
        text: &str,
        cap: usize,
    ) -> Result<usize> {
        // Heartbeats of one event may reach two replicas at once: lock the row (creating it if needed) so that
        // the read-modify-write below never loses a piece.
        if self.dialect() == crate::Dialect::Postgres {
            sqlx::query(
                "INSERT INTO event_logs (deployment_id, instance_name, position, log) VALUES ($1, $2, $3, '') \
                 ON CONFLICT (deployment_id, instance_name, position) DO NOTHING",
            )
            .bind(deployment_id)
            .bind(instance_name)
            .bind(position)
            .execute(self.conn())
            .await?;
        }
        let sql = format!(
            "SELECT log FROM event_logs WHERE deployment_id = $1 AND instance_name = $2 AND position = $3{}",
            self.dialect().for_update()
        );
        let current: Option<(String,)> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(deployment_id)
            .bind(instance_name)
            .bind(position)
            .fetch_optional(self.conn())
            .await?;
        let mut log = current.map(|(log,)| log).unwrap_or_default();
        let known = log.len() as u64;
        let new = match offset.cmp(&known) {
            // What the log already holds of this piece is skipped; the rest starts on a char boundary when the
            // piece repeats the log's bytes.
            std::cmp::Ordering::Less => {
                let skip = (known - offset) as usize;
                if skip >= text.len() || !text.is_char_boundary(skip) {
                    return Ok(log.len());
                }
                &text[skip..]
            }
            std::cmp::Ordering::Equal => text,
            // A gap: pieces are only dropped by the agent when they no longer fit, so say so and go on.
            std::cmp::Ordering::Greater => {
                log.push_str("\n... [part of the live log is missing] ...\n");
                text
            }
        };
        if new.is_empty() || log.len() + new.len() > cap {
            return Ok(log.len());
        }
        log.push_str(new);
        self.put_event_log(deployment_id, instance_name, position, &log).await?;
        Ok(log.len())
    }

    /// Full logs of a target's events, as (position, log).
    pub async fn event_logs(&mut self, deployment_id: &str, instance_name: &str) -> Result<Vec<(i64, String)>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT position, log FROM event_logs WHERE deployment_id = $1 AND instance_name = $2 ORDER BY position",
        )
        .bind(deployment_id)
        .bind(instance_name)
        .fetch_all(self.conn())
        .await?;
        Ok(rows)
    }
}

/// Plans of deployments.
impl Tx {
    /// The group's successful Install events, as (instance, deployment id, revision JSON), oldest deployment first:
    /// the last one per instance is what that host has installed for the group.
    pub async fn successful_installs(&mut self, deployment_group_id: &str) -> Result<Vec<(String, String, String)>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT e.instance_name, d.id, d.revision FROM lifecycle_events e \
             JOIN deployments d ON d.id = e.deployment_id \
             WHERE d.deployment_group_id = $1 AND e.name = 'Install' AND e.status = 'Succeeded' \
             ORDER BY d.create_time, d.id",
        )
        .bind(deployment_group_id)
        .fetch_all(self.conn())
        .await?;
        Ok(rows)
    }
}

/// What the server's `/metrics` shows about the store.
impl Tx {
    /// Counts for `/metrics`; instances not heard from since `live_since` (epoch ms) count as lost.
    pub async fn metrics_snapshot(&mut self, live_since: i64) -> Result<MetricsSnapshot> {
        let deployments: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM deployments GROUP BY status ORDER BY status")
                .fetch_all(self.conn())
                .await?;
        let (targets_pending,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM deployment_targets t JOIN deployments d ON d.id = t.deployment_id \
             WHERE t.status = 'Pending' AND d.status IN ('Created', 'InProgress')",
        )
        .fetch_one(self.conn())
        .await?;
        let events: Vec<(String, i64)> = sqlx::query_as(
            "SELECT e.status, COUNT(*) FROM lifecycle_events e JOIN deployment_targets t \
             ON t.deployment_id = e.deployment_id AND t.instance_name = e.instance_name \
             WHERE t.status = 'InProgress' AND e.status IN ('Pending', 'InProgress') GROUP BY e.status",
        )
        .fetch_all(self.conn())
        .await?;
        let count = |status: &str| events.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
        let (trigger_deliveries_pending,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM trigger_deliveries WHERE delivered_time IS NULL")
                .fetch_one(self.conn())
                .await?;
        let (instances_live, instances_lost): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN last_seen >= $1 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN last_seen >= $1 THEN 0 ELSE 1 END), 0) \
             FROM instances WHERE deregister_time IS NULL",
        )
        .bind(live_since)
        .fetch_one(self.conn())
        .await?;
        Ok(MetricsSnapshot {
            deployments,
            targets_pending,
            events_ready: count("Pending"),
            events_running: count("InProgress"),
            trigger_deliveries_pending,
            instances_live,
            instances_lost,
        })
    }
}

/// Streamed hook output: each event's log as contiguous pieces, and a cursor across the deployment's hosts.
impl Tx {
    /// Where the stored pieces of an event's log end (its byte length so far).
    pub async fn log_chunks_end(&mut self, deployment_id: &str, instance_name: &str, position: i64) -> Result<i64> {
        let (end,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(MAX(end_offset), 0) FROM log_chunks \
             WHERE deployment_id = $1 AND instance_name = $2 AND position = $3",
        )
        .bind(deployment_id)
        .bind(instance_name)
        .bind(position)
        .fetch_one(self.conn())
        .await?;
        Ok(end)
    }

    /// Appends a piece of an event's log at `offset` (the caller passes [`Tx::log_chunks_end`]); returns its `seq`.
    pub async fn append_log_chunk(
        &mut self,
        deployment_id: &str,
        instance_name: &str,
        position: i64,
        offset: i64,
        text: &str,
        now: i64,
    ) -> Result<i64> {
        // A cursor across hosts in commit order (see `counters`): `logs -f` never skips a piece committed late.
        let seq = self.next_seq("log_chunks").await?;
        sqlx::query(
            "INSERT INTO log_chunks (seq, deployment_id, instance_name, position, byte_offset, end_offset, text, \
             create_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(seq)
        .bind(deployment_id)
        .bind(instance_name)
        .bind(position)
        .bind(offset)
        .bind(offset + text.len() as i64)
        .bind(text)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(seq)
    }

    /// A deployment's pieces of log after cursor `after`, of one instance or of all, oldest first.
    pub async fn log_chunks_after(
        &mut self,
        deployment_id: &str,
        instance_name: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LogChunkRow>> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT c.seq, c.instance_name, e.name, c.text FROM log_chunks c \
             JOIN lifecycle_events e ON e.deployment_id = c.deployment_id AND e.instance_name = c.instance_name \
             AND e.position = c.position \
             WHERE c.deployment_id = $1 AND c.seq > $2 AND ($3 = '' OR c.instance_name = $3) \
             ORDER BY c.seq LIMIT $4",
        )
        .bind(deployment_id)
        .bind(after)
        .bind(instance_name.unwrap_or_default())
        .bind(limit)
        .fetch_all(self.conn())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(seq, instance_name, lifecycle_event, text)| LogChunkRow {
                seq,
                instance_name,
                lifecycle_event,
                text,
            })
            .collect())
    }
}

/// Diagnostics of a lifecycle event, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventDiagnostics {
    pub error_code: String,
    pub script_name: String,
    pub message: String,
    pub log_tail: String,
}

/// Trigger outbox: events written with the state change, expanded into deliveries and retried by a worker.
impl Tx {
    /// Appends an event for the group's triggers; `seq` orders events in commit order (see `counters`).
    pub async fn enqueue_trigger_event(
        &mut self,
        deployment_id: &str,
        deployment_group_id: &str,
        trigger_event: &str,
        instance_name: Option<&str>,
        status: &str,
        now: i64,
    ) -> Result<()> {
        let next = self.next_seq("trigger_events").await?;
        sqlx::query(
            "INSERT INTO trigger_events (seq, deployment_id, deployment_group_id, trigger_event, instance_name, status, \
             create_time, expanded) VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
        )
        .bind(next)
        .bind(deployment_id)
        .bind(deployment_group_id)
        .bind(trigger_event)
        .bind(instance_name.map(str::to_owned))
        .bind(status)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Events not yet expanded into deliveries, oldest first.
    pub async fn unexpanded_trigger_events(&mut self, limit: i64) -> Result<Vec<TriggerEventRow>> {
        let rows = sqlx::query("SELECT * FROM trigger_events WHERE expanded = 0 ORDER BY seq LIMIT $1")
            .bind(limit)
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(rows::trigger_event).collect()
    }

    /// Marks an event expanded (its deliveries, if any, were recorded in the same transaction).
    pub async fn mark_trigger_event_expanded(&mut self, seq: i64) -> Result<()> {
        sqlx::query("UPDATE trigger_events SET expanded = 1 WHERE seq = $1").bind(seq).execute(self.conn()).await?;
        Ok(())
    }

    /// Records a delivery to make (ignored if it exists: expansion is idempotent).
    pub async fn insert_trigger_delivery(&mut self, row: &TriggerDeliveryRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO trigger_deliveries (seq, trigger_name, target, payload, attempts, next_attempt, delivered_time, \
             last_error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (seq, trigger_name) DO NOTHING",
        )
        .bind(row.seq)
        .bind(&row.trigger_name)
        .bind(&row.target)
        .bind(&row.payload)
        .bind(row.attempts)
        .bind(row.next_attempt)
        .bind(row.delivered_time)
        .bind(row.last_error.clone())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Undelivered deliveries, oldest first.
    pub async fn pending_trigger_deliveries(&mut self, limit: i64) -> Result<Vec<TriggerDeliveryRow>> {
        let rows = sqlx::query(
            "SELECT * FROM trigger_deliveries WHERE delivered_time IS NULL ORDER BY seq, trigger_name LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(rows::trigger_delivery).collect()
    }

    /// Every delivery (for inspection and tests), oldest first.
    pub async fn trigger_deliveries(&mut self) -> Result<Vec<TriggerDeliveryRow>> {
        let rows =
            sqlx::query("SELECT * FROM trigger_deliveries ORDER BY seq, trigger_name").fetch_all(self.conn()).await?;
        rows.iter().map(rows::trigger_delivery).collect()
    }

    /// Records the outcome of one delivery attempt.
    pub async fn record_trigger_attempt(
        &mut self,
        seq: i64,
        trigger_name: &str,
        delivered_time: Option<i64>,
        next_attempt: i64,
        last_error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE trigger_deliveries SET attempts = attempts + 1, delivered_time = $1, next_attempt = $2, \
             last_error = $3 WHERE seq = $4 AND trigger_name = $5",
        )
        .bind(delivered_time)
        .bind(next_attempt)
        .bind(last_error.map(str::to_owned))
        .bind(seq)
        .bind(trigger_name)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

/// Resource tags of applications, deployment groups and deployment configurations, keyed by
/// `(resource_type, resource_id)`; the server decides what the type and id are.
impl Tx {
    /// A resource's tags as `(key, value)` pairs, ordered by key.
    pub async fn resource_tags(&mut self, resource_type: &str, resource_id: &str) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT tag_key, tag_value FROM resource_tags WHERE resource_type = $1 AND resource_id = $2 ORDER BY tag_key",
        )
        .bind(resource_type)
        .bind(resource_id)
        .fetch_all(self.conn())
        .await?;
        Ok(rows)
    }

    /// Adds tags to a resource; a key it already has gets the new value.
    pub async fn put_resource_tags(
        &mut self,
        resource_type: &str,
        resource_id: &str,
        tags: &[(String, String)],
    ) -> Result<()> {
        for (key, value) in tags {
            sqlx::query(
                "INSERT INTO resource_tags (resource_type, resource_id, tag_key, tag_value) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (resource_type, resource_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
            )
            .bind(resource_type)
            .bind(resource_id)
            .bind(key)
            .bind(value)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    /// Removes the tags with these keys from a resource (keys it does not have are ignored).
    pub async fn remove_resource_tags(
        &mut self,
        resource_type: &str,
        resource_id: &str,
        keys: &[String],
    ) -> Result<()> {
        for key in keys {
            sqlx::query("DELETE FROM resource_tags WHERE resource_type = $1 AND resource_id = $2 AND tag_key = $3")
                .bind(resource_type)
                .bind(resource_id)
                .bind(key)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// Removes every tag of a resource (when the resource is deleted).
    pub async fn delete_resource_tags(&mut self, resource_type: &str, resource_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM resource_tags WHERE resource_type = $1 AND resource_id = $2")
            .bind(resource_type)
            .bind(resource_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

/// Zonal deployments: zones of targets and per-zone progress.
impl Tx {
    /// Records the zone of a target (None: the host has no zone tag).
    pub async fn set_target_zone(
        &mut self,
        deployment_id: &str,
        instance_name: &str,
        zone: Option<&str>,
    ) -> Result<()> {
        sqlx::query("UPDATE deployment_targets SET zone = $1 WHERE deployment_id = $2 AND instance_name = $3")
            .bind(zone.map(str::to_owned))
            .bind(deployment_id)
            .bind(instance_name)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Target counts per (zone, status).
    pub async fn zone_status_counts(&mut self, deployment_id: &str) -> Result<Vec<(Option<String>, String, i64)>> {
        let rows: Vec<(Option<String>, String, i64)> = sqlx::query_as(
            "SELECT zone, status, COUNT(*) FROM deployment_targets WHERE deployment_id = $1 GROUP BY zone, status",
        )
        .bind(deployment_id)
        .fetch_all(self.conn())
        .await?;
        Ok(rows)
    }

    /// Pending targets of one zone (None: hosts without a zone), in dispatch order, at most `limit`.
    pub async fn pending_targets_in_zone(
        &mut self,
        deployment_id: &str,
        zone: Option<&str>,
        limit: i64,
    ) -> Result<Vec<TargetRow>> {
        let rows =
            match zone {
                Some(zone) => sqlx::query(
                    "SELECT * FROM deployment_targets WHERE deployment_id = $1 AND status = 'Pending' AND zone = $2 \
                     ORDER BY position LIMIT $3",
                )
                .bind(deployment_id)
                .bind(zone)
                .bind(limit)
                .fetch_all(self.conn())
                .await?,
                None => sqlx::query(
                    "SELECT * FROM deployment_targets WHERE deployment_id = $1 AND status = 'Pending' AND zone IS NULL \
                     ORDER BY position LIMIT $2",
                )
                .bind(deployment_id)
                .bind(limit)
                .fetch_all(self.conn())
                .await?,
            };
        rows.iter().map(rows::target).collect()
    }
}

/// Retention of delivered notifications.
impl Tx {
    /// Deletes deliveries delivered before `before` and events whose deliveries are all gone or delivered;
    /// returns how many rows went.
    pub async fn prune_trigger_history(&mut self, before: i64) -> Result<u64> {
        let deliveries =
            sqlx::query("DELETE FROM trigger_deliveries WHERE delivered_time IS NOT NULL AND delivered_time < $1")
                .bind(before)
                .execute(self.conn())
                .await?
                .rows_affected();
        let events = sqlx::query(
            "DELETE FROM trigger_events WHERE expanded = 1 AND create_time < $1 \
             AND NOT EXISTS (SELECT 1 FROM trigger_deliveries d WHERE d.seq = trigger_events.seq)",
        )
        .bind(before)
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(deliveries + events)
    }
}

/// A bucket of the embedded S3 endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRow {
    pub name: String,
    pub create_time: i64,
}

/// One version of an object of the embedded S3 endpoint: the S3 name, the blob it maps to and its S3 metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersionRow {
    pub bucket: String,
    pub key: String,
    /// None only for objects stored before objects had versions.
    pub version_id: Option<String>,
    /// Hex SHA-256 of the content: the blob's name, and what agents verify.
    pub sha256: String,
    /// The S3 ETag without quotes (hex MD5, or `<hex>-<parts>` for a multipart upload); None for objects stored
    /// before S3 ETags were kept, whose ETag was their sha256.
    pub etag: Option<String>,
    pub size: i64,
    pub content_type: Option<String>,
    pub create_time: i64,
}

impl ObjectVersionRow {
    /// The ETag clients were given for this object.
    pub fn s3_etag(&self) -> &str {
        self.etag.as_deref().unwrap_or(&self.sha256)
    }
}

/// The tar bundle built from one commit of a Git repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitBundleRow {
    pub repository: String,
    pub commit_id: String,
    pub sha256: String,
    pub size: i64,
    pub create_time: i64,
}

fn bucket_row(row: &sqlx::any::AnyRow) -> Result<BucketRow> {
    use sqlx::Row;
    Ok(BucketRow { name: row.try_get("name")?, create_time: row.try_get("create_time")? })
}

/// Reads a row of `objects` or `object_versions` (the same columns; `objects.version_id` may be NULL).
fn object_version_row(row: &sqlx::any::AnyRow) -> Result<ObjectVersionRow> {
    use sqlx::Row;
    Ok(ObjectVersionRow {
        bucket: row.try_get("bucket")?,
        key: row.try_get("object_key")?,
        version_id: row.try_get("version_id")?,
        sha256: row.try_get("sha256")?,
        etag: row.try_get("etag")?,
        size: row.try_get("size")?,
        content_type: row.try_get("content_type")?,
        create_time: row.try_get("create_time")?,
    })
}

const OBJECT_VERSION_COLUMNS: &str = "bucket, object_key, version_id, sha256, etag, size, content_type, create_time";

/// The embedded S3 endpoint (buckets, object versions) and the bundles of Git revisions.
impl Tx {
    /// Creates a bucket; false when it already exists.
    pub async fn insert_bucket(&mut self, name: &str, now: i64) -> Result<bool> {
        let done = sqlx::query("INSERT INTO buckets (name, create_time) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(now)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn bucket(&mut self, name: &str) -> Result<Option<BucketRow>> {
        let row = sqlx::query("SELECT name, create_time FROM buckets WHERE name = $1")
            .bind(name)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(bucket_row).transpose()
    }

    pub async fn list_buckets(&mut self) -> Result<Vec<BucketRow>> {
        let rows = sqlx::query("SELECT name, create_time FROM buckets ORDER BY name").fetch_all(self.conn()).await?;
        rows.iter().map(bucket_row).collect()
    }

    /// Whether a bucket holds any object (older versions of deleted objects do not count).
    pub async fn bucket_has_objects(&mut self, name: &str) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM objects WHERE bucket = $1 LIMIT 1")
            .bind(name)
            .fetch_optional(self.conn())
            .await?;
        Ok(row.is_some())
    }

    /// Deletes a bucket with the versions left behind by deleted objects; the caller checked it holds no object.
    pub async fn delete_bucket(&mut self, name: &str) -> Result<()> {
        sqlx::query("DELETE FROM object_versions WHERE bucket = $1").bind(name).execute(self.conn()).await?;
        sqlx::query("DELETE FROM buckets WHERE name = $1").bind(name).execute(self.conn()).await?;
        Ok(())
    }

    /// Records a new version of an object and makes it the current one.
    pub async fn put_object_version(&mut self, row: &ObjectVersionRow) -> Result<()> {
        if let Some(version_id) = &row.version_id {
            sqlx::query(
                "INSERT INTO object_versions (bucket, object_key, version_id, sha256, etag, size, content_type, create_time) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&row.bucket)
            .bind(&row.key)
            .bind(version_id)
            .bind(&row.sha256)
            .bind(row.s3_etag())
            .bind(row.size)
            .bind(row.content_type.clone())
            .bind(row.create_time)
            .execute(self.conn())
            .await?;
        }
        self.set_current_object(row).await
    }

    async fn set_current_object(&mut self, row: &ObjectVersionRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO objects (bucket, object_key, sha256, size, create_time, etag, version_id, content_type) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (bucket, object_key) DO UPDATE SET sha256 = $3, size = $4, create_time = $5, etag = $6, \
             version_id = $7, content_type = $8",
        )
        .bind(&row.bucket)
        .bind(&row.key)
        .bind(&row.sha256)
        .bind(row.size)
        .bind(row.create_time)
        .bind(row.etag.clone())
        .bind(row.version_id.clone())
        .bind(row.content_type.clone())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The current version of an object.
    pub async fn current_object(&mut self, bucket: &str, key: &str) -> Result<Option<ObjectVersionRow>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {OBJECT_VERSION_COLUMNS} FROM objects WHERE bucket = $1 AND object_key = $2"
        )))
        .bind(bucket)
        .bind(key)
        .fetch_optional(self.conn())
        .await?;
        row.as_ref().map(object_version_row).transpose()
    }

    /// One version of an object, current or not.
    pub async fn object_version(
        &mut self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<Option<ObjectVersionRow>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {OBJECT_VERSION_COLUMNS} FROM object_versions WHERE bucket = $1 AND object_key = $2 AND version_id = $3"
        )))
        .bind(bucket)
        .bind(key)
        .bind(version_id)
        .fetch_optional(self.conn())
        .await?;
        row.as_ref().map(object_version_row).transpose()
    }

    /// Current objects of a bucket whose key starts with `prefix` and sorts after `after`, in key order (byte order
    /// on SQLite; PostgreSQL needs the "C" collation on `object_key` to list in S3's order), at most `limit`.
    pub async fn list_objects_after(
        &mut self,
        bucket: &str,
        prefix: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<ObjectVersionRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {OBJECT_VERSION_COLUMNS} FROM objects WHERE bucket = $1 AND substr(object_key, 1, length($2)) = $2 \
             AND object_key > $3 ORDER BY object_key LIMIT $4"
        )))
        .bind(bucket)
        .bind(prefix)
        .bind(after)
        .bind(limit)
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(object_version_row).collect()
    }

    /// Removes the current version of an object (its versions stay, as in a versioned S3 bucket); false when there
    /// was none.
    pub async fn delete_current_object(&mut self, bucket: &str, key: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM objects WHERE bucket = $1 AND object_key = $2")
            .bind(bucket)
            .bind(key)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes one version of an object; when it was the current one, the newest remaining version becomes current.
    /// False when there was no such version.
    pub async fn delete_object_version(&mut self, bucket: &str, key: &str, version_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM object_versions WHERE bucket = $1 AND object_key = $2 AND version_id = $3")
            .bind(bucket)
            .bind(key)
            .bind(version_id)
            .execute(self.conn())
            .await?
            .rows_affected();
        let current = self.current_object(bucket, key).await?;
        if current.as_ref().and_then(|row| row.version_id.as_deref()) == Some(version_id) {
            self.delete_current_object(bucket, key).await?;
            let newest = sqlx::query(AssertSqlSafe(format!(
                "SELECT {OBJECT_VERSION_COLUMNS} FROM object_versions WHERE bucket = $1 AND object_key = $2 \
                 ORDER BY create_time DESC, version_id DESC LIMIT 1"
            )))
            .bind(bucket)
            .bind(key)
            .fetch_optional(self.conn())
            .await?;
            if let Some(row) = newest.as_ref().map(object_version_row).transpose()? {
                self.set_current_object(&row).await?;
            }
            return Ok(true);
        }
        Ok(done > 0)
    }

    /// The bundle built from a commit, if it was built before.
    pub async fn git_bundle(&mut self, repository: &str, commit_id: &str) -> Result<Option<GitBundleRow>> {
        let row: Option<(String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT repository, commit_id, sha256, size, create_time FROM git_bundles WHERE repository = $1 AND commit_id = $2",
        )
        .bind(repository)
        .bind(commit_id)
        .fetch_optional(self.conn())
        .await?;
        Ok(row.map(|(repository, commit_id, sha256, size, create_time)| GitBundleRow {
            repository,
            commit_id,
            sha256,
            size,
            create_time,
        }))
    }

    /// Records (or replaces) the bundle built from a commit.
    pub async fn put_git_bundle(&mut self, row: &GitBundleRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO git_bundles (repository, commit_id, sha256, size, create_time) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (repository, commit_id) DO UPDATE SET sha256 = $3, size = $4, create_time = $5",
        )
        .bind(&row.repository)
        .bind(&row.commit_id)
        .bind(&row.sha256)
        .bind(row.size)
        .bind(row.create_time)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
