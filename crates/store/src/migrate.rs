//! Schema migrations, embedded in the binary and applied in order at start.
//!
//! We keep our own tiny runner instead of `sqlx::migrate!` so the store needs no proc-macro build and the same
//! bookkeeping works on every backend. Each migration runs in one transaction with its bookkeeping row; on
//! PostgreSQL that transaction first takes an advisory lock, so replicas starting together apply each migration once.
//! A migration may have a PostgreSQL-only part (`NNNN_name.postgres.sql`), run after the portable one.

use sqlx::AnyPool;

use crate::{Dialect, Result, StoreError};

/// (version, portable SQL, PostgreSQL-only SQL).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, include_str!("../migrations/0001_initial.sql"), ""),
    (2, include_str!("../migrations/0002_triggers.sql"), ""),
    (3, include_str!("../migrations/0003_resource_tags.sql"), ""),
    (4, include_str!("../migrations/0004_zones.sql"), ""),
    (5, include_str!("../migrations/0005_s3_and_git.sql"), ""),
    (6, include_str!("../migrations/0006_security.sql"), ""),
    (7, include_str!("../migrations/0007_log_chunks.sql"), ""),
    (8, include_str!("../migrations/0008_scale_out.sql"), include_str!("../migrations/0008_scale_out.postgres.sql")),
    (9, include_str!("../migrations/0009_traffic.sql"), ""),
    (10, include_str!("../migrations/0010_task_sets.sql"), ""),
];

/// Arbitrary key of the advisory lock that serializes migrations across replicas.
const MIGRATION_LOCK: i64 = 0x0063_7574_6f76_6572;

async fn lock(tx: &mut sqlx::Transaction<'static, sqlx::Any>, dialect: Dialect) -> Result<()> {
    if dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MIGRATION_LOCK).execute(&mut **tx).await?;
    }
    Ok(())
}

pub(crate) async fn run(pool: &AnyPool, dialect: Dialect) -> Result<()> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, dialect).await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    for (version, portable, postgres) in MIGRATIONS {
        let mut tx = pool.begin().await?;
        lock(&mut tx, dialect).await?;
        let applied: Option<(i64,)> = sqlx::query_as("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(*version)
            .fetch_optional(&mut *tx)
            .await?;
        if applied.is_some() {
            continue;
        }
        let specific = if dialect == Dialect::Postgres { *postgres } else { "" };
        for statement in split_statements(portable).into_iter().chain(split_statements(specific)) {
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
