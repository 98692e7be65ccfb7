//! Cutover's state store: the only crate that speaks SQL.
//!
//! Everything goes through `sqlx::Any` with portable SQL (`$n` placeholders, TEXT/BIGINT columns, epoch-ms times,
//! JSON documents as TEXT), so the same queries and migrations serve SQLite (the embedded default) and PostgreSQL
//! (several server replicas). Functions take `now` and freshly minted IDs from the caller; the store never reads a
//! clock.
//!
//! Writes that must be atomic take a [`Tx`]: the caller begins it, reads, decides with pure domain code and
//! writes, then commits. On SQLite the pool has a single connection, so transactions are serialized. On
//! PostgreSQL the pool has several (READ COMMITTED), so every read-modify-write here either is one guarded
//! statement (a compare-and-set on a status) or locks its row first (`FOR UPDATE`, see [`Dialect`]); the few
//! places where the two engines differ ask the transaction's dialect.

mod console;
mod lease;
mod migrate;
mod rows;
mod security;
mod sql;
mod task_sets;

pub use console::*;
pub use lease::*;
pub use rows::*;
pub use security::*;
pub use sql::*;
pub use task_sets::*;

use std::path::Path;
use std::str::FromStr;

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool};

/// The database engine behind a [`Store`]: the one switch for the few statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// One file, one connection, one server.
    Sqlite,
    /// Several connections and possibly several server replicas.
    Postgres,
}

impl Dialect {
    /// Row lock for a read that precedes a write of the same row (SQLite's single connection needs none).
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}

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
    dialect: Dialect,
    /// The PostgreSQL URL, for the notification listener's own connection.
    url: Option<String>,
}

/// An open transaction; dropped without [`Tx::commit`] it rolls back.
pub struct Tx(sqlx::Transaction<'static, Any>, Dialect);

/// A subscription to a notification channel ([`Store::listen`]).
pub struct Listener(sqlx::postgres::PgListener);

impl Listener {
    /// The next notification's payload. After a lost connection the listener reconnects and listens again;
    /// notifications sent meanwhile are lost, which callers must tolerate (they are wake-ups, not facts).
    pub async fn recv(&mut self) -> Result<String> {
        Ok(self.0.recv().await?.payload().to_owned())
    }
}

impl Tx {
    /// The engine this transaction runs on.
    pub fn dialect(&self) -> Dialect {
        self.1
    }

    /// Sends a notification when the transaction commits (PostgreSQL's NOTIFY is transactional); nothing on
    /// SQLite.
    pub async fn notify(&mut self, channel: &str, payload: &str) -> Result<()> {
        if self.1 == Dialect::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)").bind(channel).bind(payload).execute(&mut *self.0).await?;
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<()> {
        self.0.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Opens the database a URL names: `postgres://…` (or `postgresql://…`) for PostgreSQL, `sqlite://PATH` or a
    /// plain path for SQLite.
    pub async fn open(url: &str) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Store::open_postgres(url, 10).await
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            Store::open_sqlite(Path::new(path)).await
        }
    }

    /// Connects to PostgreSQL with a pool of at most `max_connections` and applies pending migrations (several
    /// replicas starting at once are serialized by an advisory lock in [`migrate::run`]).
    pub async fn open_postgres(url: &str, max_connections: u32) -> Result<Store> {
        sqlx::any::install_default_drivers();
        // Fail early with the driver's own message on a malformed URL.
        let _ = sqlx::postgres::PgConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(2))
            .min_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(30))
            .connect(url)
            .await?;
        let store = Store { pool, dialect: Dialect::Postgres, url: Some(url.to_owned()) };
        migrate::run(&store.pool, store.dialect).await?;
        Ok(store)
    }

    /// Which engine this store runs on.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

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
        let store = Store { pool, dialect: Dialect::Sqlite, url: None };
        migrate::run(&store.pool, store.dialect).await?;
        Ok(store)
    }

    /// Begins a transaction.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(Tx(self.pool.begin().await?, self.dialect))
    }

    /// Listens on a notification channel (PostgreSQL's LISTEN, on a connection of its own); None on SQLite,
    /// where the one server process needs no cross-process notifications.
    pub async fn listen(&self, channel: &str) -> Result<Option<Listener>> {
        let Some(url) = &self.url else { return Ok(None) };
        let mut listener = sqlx::postgres::PgListener::connect(url).await?;
        listener.listen(channel).await?;
        Ok(Some(Listener(listener)))
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
