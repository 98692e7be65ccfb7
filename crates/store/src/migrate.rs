//! Schema migrations, embedded in the binary and applied in order at start.
//!
//! We keep our own tiny runner instead of `sqlx::migrate!` so the store needs no proc-macro build and the same
//! bookkeeping works on every backend. Each migration runs in one transaction with its bookkeeping row.

use sqlx::{AnyPool, Executor};

use crate::{Result, StoreError};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_initial.sql")),
    (2, include_str!("../migrations/0002_triggers.sql")),
    (3, include_str!("../migrations/0003_resource_tags.sql")),
    (4, include_str!("../migrations/0004_zones.sql")),
    (5, include_str!("../migrations/0005_s3_and_git.sql")),
    (6, include_str!("../migrations/0006_security.sql")),
    (7, include_str!("../migrations/0007_log_chunks.sql")),
];

pub(crate) async fn run(pool: &AnyPool) -> Result<()> {
    pool.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await?;
    for (version, sql) in MIGRATIONS {
        let applied: Option<(i64,)> = sqlx::query_as("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(*version)
            .fetch_optional(pool)
            .await?;
        if applied.is_some() {
            continue;
        }
        let mut tx = pool.begin().await?;
        for statement in split_statements(sql) {
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&mut *tx)
                .await
                .map_err(|source| StoreError::Migration { version: *version, source })?;
        }
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)")
            .bind(*version)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Splits a migration into statements (the Any driver runs one statement per query), dropping comments.
fn split_statements(sql: &str) -> Vec<String> {
    let without_comments: String = sql
        .lines()
        .map(|line| match line.find("--") {
            Some(idx) => &line[..idx],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    without_comments.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}
