//! Leases: which server replica drives a running deployment, or runs a worker that must run once per cluster.
//!
//! A lease row names its owner, when it expires and an epoch that grows by one on every takeover. Acquiring is one
//! upsert guarded by "mine or expired", so two replicas can never both succeed; on PostgreSQL it also locks the row
//! until the transaction ends, so a replica that writes a deployment's state in the transaction that (re)acquired
//! its lease cannot commit after another replica took it over: the lease is the fencing token of those writes.

use sqlx::Row;

use crate::{Result, Tx};

/// One lease row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    pub name: String,
    pub owner: String,
    pub expires_ms: i64,
    pub epoch: i64,
}

impl Tx {
    /// Takes or renews the lease `name` for `owner` until `expires_ms`, if it is free, already `owner`'s, or
    /// expired at `now`. Returns its epoch (unchanged on renewal, plus one on takeover), or None when another
    /// owner holds it.
    pub async fn acquire_lease(&mut self, name: &str, owner: &str, now: i64, expires_ms: i64) -> Result<Option<i64>> {
        let row: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO leases (name, owner, expires_ms, epoch) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (name) DO UPDATE SET owner = $2, expires_ms = $3, \
             epoch = CASE WHEN leases.owner = $2 THEN leases.epoch ELSE leases.epoch + 1 END \
             WHERE leases.owner = $2 OR leases.expires_ms < $4 \
             RETURNING epoch",
        )
        .bind(name)
        .bind(owner)
        .bind(expires_ms)
        .bind(now)
        .fetch_optional(self.conn())
        .await?;
        Ok(row.map(|(epoch,)| epoch))
    }

    /// Extends every unexpired lease of `owner` to `expires_ms`; returns how many.
    pub async fn renew_leases(&mut self, owner: &str, now: i64, expires_ms: i64) -> Result<u64> {
        let done = sqlx::query("UPDATE leases SET expires_ms = $1 WHERE owner = $2 AND expires_ms >= $3")
            .bind(expires_ms)
            .bind(owner)
            .bind(now)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected())
    }

    /// Gives up a lease (a finished deployment); a lease someone else holds is left alone.
    pub async fn release_lease(&mut self, name: &str, owner: &str) -> Result<()> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND owner = $2")
            .bind(name)
            .bind(owner)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn lease(&mut self, name: &str) -> Result<Option<LeaseRow>> {
        let row = sqlx::query("SELECT name, owner, expires_ms, epoch FROM leases WHERE name = $1")
            .bind(name)
            .fetch_optional(self.conn())
            .await?;
        row.map(|row| {
            Ok(LeaseRow {
                name: row.try_get("name")?,
                owner: row.try_get("owner")?,
                expires_ms: row.try_get("expires_ms")?,
                epoch: row.try_get("epoch")?,
            })
        })
        .transpose()
    }

    /// Unfinished deployments that no replica drives: no lease, or an expired one.
    pub async fn undriven_deployments(&mut self, now: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT d.id FROM deployments d LEFT JOIN leases l ON l.name = d.id \
             WHERE d.status NOT IN ('Succeeded', 'Failed', 'Stopped') AND (l.owner IS NULL OR l.expires_ms < $1) \
             ORDER BY d.create_time",
        )
        .bind(now)
        .fetch_all(self.conn())
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Unfinished deployments whose lease `owner` holds.
    pub async fn deployments_driven_by(&mut self, owner: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT d.id FROM deployments d JOIN leases l ON l.name = d.id \
             WHERE l.owner = $1 AND d.status NOT IN ('Succeeded', 'Failed', 'Stopped') ORDER BY d.create_time",
        )
        .bind(owner)
        .fetch_all(self.conn())
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The next number of the counter `name` (a row of `counters`); the row stays locked until commit.
    pub(crate) async fn next_seq(&mut self, name: &str) -> Result<i64> {
        let (value,): (i64,) = sqlx::query_as("UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value")
            .bind(name)
            .fetch_one(self.conn())
            .await?;
        Ok(value)
    }
}
