//! Queries of the security tables: access keys, enrolment tokens, the audit log, revision signatures and the keys
//! deployment groups trust. Secrets arrive here already sealed or hashed; the store never sees one in the clear.

use sqlx::Row;

use crate::{Result, Tx};

/// One access key (API user or host agent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyRow {
    pub access_key_id: String,
    pub secret_sealed: String,
    pub role: String,
    pub description: String,
    pub instance_name: Option<String>,
    pub create_time: i64,
    pub last_used_time: Option<i64>,
}

/// One enrolment token (its secret only as a digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentTokenRow {
    pub token_id: String,
    pub secret_sha256: String,
    pub expire_time: i64,
    pub uses_left: Option<i64>,
    pub create_time: i64,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEventRow {
    pub seq: i64,
    pub event_time: i64,
    pub access_key_id: String,
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub source: String,
    pub outcome: String,
}

fn access_key(row: &sqlx::any::AnyRow) -> Result<AccessKeyRow> {
    Ok(AccessKeyRow {
        access_key_id: row.try_get("access_key_id")?,
        secret_sealed: row.try_get("secret_sealed")?,
        role: row.try_get("role")?,
        description: row.try_get("description")?,
        instance_name: row.try_get("instance_name")?,
        create_time: row.try_get("create_time")?,
        last_used_time: row.try_get("last_used_time")?,
    })
}

impl Tx {
    // ----- access keys -----

    pub async fn insert_access_key(&mut self, row: &AccessKeyRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO access_keys (access_key_id, secret_sealed, role, description, instance_name, create_time, \
             last_used_time) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&row.access_key_id)
        .bind(&row.secret_sealed)
        .bind(&row.role)
        .bind(&row.description)
        .bind(row.instance_name.clone())
        .bind(row.create_time)
        .bind(row.last_used_time)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn access_key(&mut self, access_key_id: &str) -> Result<Option<AccessKeyRow>> {
        let row = sqlx::query("SELECT * FROM access_keys WHERE access_key_id = $1")
            .bind(access_key_id)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(access_key).transpose()
    }

    /// API keys (not agent credentials), oldest first.
    pub async fn list_access_keys(&mut self) -> Result<Vec<AccessKeyRow>> {
        let rows =
            sqlx::query("SELECT * FROM access_keys WHERE instance_name IS NULL ORDER BY create_time, access_key_id")
                .fetch_all(self.conn())
                .await?;
        rows.iter().map(access_key).collect()
    }

    pub async fn count_access_keys(&mut self) -> Result<i64> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM access_keys WHERE instance_name IS NULL")
            .fetch_one(self.conn())
            .await?;
        Ok(count)
    }

    /// The agent credential of an instance, if it enrolled.
    pub async fn instance_access_key(&mut self, instance_name: &str) -> Result<Option<AccessKeyRow>> {
        let row = sqlx::query("SELECT * FROM access_keys WHERE instance_name = $1")
            .bind(instance_name)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(access_key).transpose()
    }

    /// Deletes a key; returns whether it existed.
    pub async fn delete_access_key(&mut self, access_key_id: &str) -> Result<bool> {
        let res = sqlx::query("DELETE FROM access_keys WHERE access_key_id = $1")
            .bind(access_key_id)
            .execute(self.conn())
            .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Deletes an instance's agent credential (deregistration locks the agent out).
    pub async fn delete_instance_access_keys(&mut self, instance_name: &str) -> Result<()> {
        sqlx::query("DELETE FROM access_keys WHERE instance_name = $1")
            .bind(instance_name)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Records a key's use, at most once a minute per key (a write per request would cost more than the request).
    pub async fn touch_access_key(&mut self, access_key_id: &str, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE access_keys SET last_used_time = $1 WHERE access_key_id = $2 \
             AND (last_used_time IS NULL OR last_used_time < $3)",
        )
        .bind(now)
        .bind(access_key_id)
        .bind(now - 60_000)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    // ----- enrolment tokens -----

    pub async fn insert_enrollment_token(&mut self, row: &EnrollmentTokenRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO enrollment_tokens (token_id, secret_sha256, expire_time, uses_left, create_time) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&row.token_id)
        .bind(&row.secret_sha256)
        .bind(row.expire_time)
        .bind(row.uses_left)
        .bind(row.create_time)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn enrollment_token(&mut self, token_id: &str) -> Result<Option<EnrollmentTokenRow>> {
        let row = sqlx::query("SELECT * FROM enrollment_tokens WHERE token_id = $1")
            .bind(token_id)
            .fetch_optional(self.conn())
            .await?;
        row.map(|row| {
            Ok(EnrollmentTokenRow {
                token_id: row.try_get("token_id")?,
                secret_sha256: row.try_get("secret_sha256")?,
                expire_time: row.try_get("expire_time")?,
                uses_left: row.try_get("uses_left")?,
                create_time: row.try_get("create_time")?,
            })
        })
        .transpose()
    }

    /// Uses up one enrolment of a counted token; returns false when none is left.
    pub async fn consume_enrollment_token(&mut self, token_id: &str) -> Result<bool> {
        let res =
            sqlx::query("UPDATE enrollment_tokens SET uses_left = uses_left - 1 WHERE token_id = $1 AND uses_left > 0")
                .bind(token_id)
                .execute(self.conn())
                .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Forgets tokens that expired before `before`.
    pub async fn delete_expired_enrollment_tokens(&mut self, before: i64) -> Result<()> {
        sqlx::query("DELETE FROM enrollment_tokens WHERE expire_time < $1").bind(before).execute(self.conn()).await?;
        Ok(())
    }

    // ----- audit log -----

    /// Appends an entry; its `seq` is assigned here (the caller's is ignored).
    pub async fn append_audit_event(&mut self, row: &AuditEventRow) -> Result<i64> {
        let seq = self.next_seq("audit_events").await?;
        sqlx::query(
            "INSERT INTO audit_events (seq, event_time, access_key_id, principal, action, resource, source, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(seq)
        .bind(row.event_time)
        .bind(&row.access_key_id)
        .bind(&row.principal)
        .bind(&row.action)
        .bind(&row.resource)
        .bind(&row.source)
        .bind(&row.outcome)
        .execute(self.conn())
        .await?;
        Ok(seq)
    }

    /// Entries with `seq` below `before` (all when None), newest first.
    pub async fn audit_events(&mut self, before: Option<i64>, limit: i64) -> Result<Vec<AuditEventRow>> {
        let rows = sqlx::query("SELECT * FROM audit_events WHERE seq < $1 ORDER BY seq DESC LIMIT $2")
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(self.conn())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEventRow {
                    seq: row.try_get("seq")?,
                    event_time: row.try_get("event_time")?,
                    access_key_id: row.try_get("access_key_id")?,
                    principal: row.try_get("principal")?,
                    action: row.try_get("action")?,
                    resource: row.try_get("resource")?,
                    source: row.try_get("source")?,
                    outcome: row.try_get("outcome")?,
                })
            })
            .collect()
    }

    // ----- revision signatures and trusted keys -----

    pub async fn put_bundle_signature(
        &mut self,
        sha256: &str,
        public_key: &str,
        signature: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query("DELETE FROM bundle_signatures WHERE sha256 = $1 AND public_key = $2")
            .bind(sha256)
            .bind(public_key)
            .execute(self.conn())
            .await?;
        sqlx::query(
            "INSERT INTO bundle_signatures (sha256, public_key, signature, create_time) VALUES ($1, $2, $3, $4)",
        )
        .bind(sha256)
        .bind(public_key)
        .bind(signature)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// (public key, signature) pairs recorded for a bundle.
    pub async fn bundle_signatures(&mut self, sha256: &str) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT public_key, signature FROM bundle_signatures WHERE sha256 = $1 ORDER BY public_key")
                .bind(sha256)
                .fetch_all(self.conn())
                .await?;
        Ok(rows)
    }

    pub async fn group_trusted_keys(&mut self, deployment_group_id: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT public_key FROM group_trusted_keys WHERE deployment_group_id = $1 ORDER BY public_key",
        )
        .bind(deployment_group_id)
        .fetch_all(self.conn())
        .await?;
        Ok(rows.into_iter().map(|(key,)| key).collect())
    }

    /// Replaces the keys a group trusts (an empty list lifts the signature requirement).
    pub async fn set_group_trusted_keys(&mut self, deployment_group_id: &str, keys: &[String]) -> Result<()> {
        sqlx::query("DELETE FROM group_trusted_keys WHERE deployment_group_id = $1")
            .bind(deployment_group_id)
            .execute(self.conn())
            .await?;
        for key in keys {
            sqlx::query("INSERT INTO group_trusted_keys (deployment_group_id, public_key) VALUES ($1, $2)")
                .bind(deployment_group_id)
                .bind(key)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// Whether `instance_name` is a target of a deployment whose bundle has this digest: an agent may download
    /// only the bundles of its own deployments. (`sha256` is checked to be hex by the caller, so the LIKE
    /// pattern holds no wildcard of the caller's.)
    pub async fn instance_may_fetch_bundle(&mut self, instance_name: &str, sha256: &str) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM deployments d JOIN deployment_targets t ON t.deployment_id = d.id \
             WHERE t.instance_name = $1 AND d.bundle LIKE $2 LIMIT 1",
        )
        .bind(instance_name)
        .bind(format!("%\"sha256\":\"{sha256}\"%"))
        .fetch_optional(self.conn())
        .await?;
        Ok(row.is_some())
    }
}
