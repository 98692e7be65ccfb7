//! Cutover's state store: the only crate that speaks SQL.
//!
//! Everything goes through `sqlx::Any` with portable SQL (`$n` placeholders, TEXT/BIGINT columns, epoch-ms times,
//! JSON documents as TEXT), so the same queries and migrations serve SQLite (the embedded default) and, later,
//! PostgreSQL. Functions take `now` and freshly minted IDs from the caller; the store never reads a clock.
//!
//! Writes that must be atomic take a [`Tx`]: the caller begins it, reads, decides with pure domain code and
//! writes, then commits. On SQLite the pool has a single connection, so transactions are serialized and a
//! read-modify-write can never interleave with another.

mod console;
mod migrate;
mod rows;
mod security;
mod sql;

pub use console::*;
pub use rows::*;
pub use security::*;
pub use sql::*;

use std::path::Path;
use std::str::FromStr;

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool};

/// The errors of the store boundary.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration {version} failed: {source}")]
    Migration { version: i64, source: sqlx::Error },
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A handle on the database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
}

/// An open transaction; dropped without [`Tx::commit`] it rolls back.
pub struct Tx(sqlx::Transaction<'static, Any>);

impl Tx {
    pub async fn commit(self) -> Result<()> {
        self.0.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and applies pending migrations.
    pub async fn open_sqlite(path: &Path) -> Result<Store> {
        sqlx::any::install_default_drivers();
        // Validate the path early: sqlx's URL parser would otherwise report a confusing error.
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let _ = sqlx::sqlite::SqliteConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            // One connection: SQLite has one writer anyway, and it makes every transaction serializable
            // without BEGIN IMMEDIATE or retries on SQLITE_BUSY.
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            // Waiting for the single connection is the design, not a symptom: don't log every long wait.
            .acquire_slow_level(log::LevelFilter::Off)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    use sqlx::Executor;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        let store = Store { pool };
        migrate::run(&store.pool).await?;
        Ok(store)
    }

    /// Begins a transaction.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(Tx(self.pool.begin().await?))
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
