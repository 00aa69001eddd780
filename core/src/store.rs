//! The local cache: one SQLite file per signed-in account (WAL), its schema applied from the
//! workspace's `migrations/` directory in order at open.
//!
//! Architecture invariant: opening a file written by a newer build is an error, never a
//! silent downgrade, so an older app cannot corrupt a newer cache.

use std::path::Path;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

/// Schema version this build creates and understands.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

const MIGRATIONS: &[&str] = &[include_str!("../../migrations/0001_cache.sql")];

/// Why the cache could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file was written by a newer Pitstop.
    #[error(
        "the local cache has schema version {found}, newer than this app understands ({known}); update the app"
    )]
    TooNew { found: i64, known: usize },
    /// SQLite refused (disk full, permissions, corruption).
    #[error("local database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A migration failed.
    #[error("upgrading the local cache failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
}

/// An open cache.
#[derive(Debug)]
pub struct Store {
    /// The connection; WAL mode so reads never wait for the sync worker's writes.
    conn: Connection,
}

impl Store {
    /// Opens or creates the cache at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > SCHEMA_VERSION as i64 {
            return Err(StoreError::TooNew {
                found,
                known: SCHEMA_VERSION,
            });
        }
        Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect()).to_latest(&mut conn)?;
        Ok(Self { conn })
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        let m = Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect());
        m.validate().unwrap();
    }

    #[test]
    fn fresh_file_is_migrated_and_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION as i64);
        store
            .conn
            .pragma_update(None, "user_version", SCHEMA_VERSION as i64 + 1)
            .unwrap();
        drop(store);
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
        assert!(err.to_string().contains("update the app"));
    }
}
