//! Driver errors mapped onto [`StoreError`]: connection problems become
//! [`StoreError::Connection`], so hosts can tell an outage from a bug.

use editgroups_core::StoreError;
use sea_orm::{DbErr, RuntimeErr};

/// The name SQL stores give in errors.
pub(crate) const STORE: &str = "sql";

/// Wraps a driver error, saying what was being done.
pub(crate) fn db_error(doing: &str, error: DbErr) -> StoreError {
    let source = format!("{doing}: {error}").into();
    if is_connection_error(&error) {
        StoreError::Connection {
            store: STORE,
            source,
        }
    } else {
        StoreError::Backend {
            store: STORE,
            source,
        }
    }
}

/// A failure of the store's own logic or of stored data, not of the driver.
pub(crate) fn backend(message: impl Into<String>) -> StoreError {
    StoreError::Backend {
        store: STORE,
        source: message.into().into(),
    }
}

/// Data in the database that this code cannot read back.
pub(crate) fn corrupt(message: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        store: STORE,
        message: message.into(),
    }
}

fn is_connection_error(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            is_connection_sqlx(e)
        }
        _ => false,
    }
}

fn is_connection_sqlx(error: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match error {
        Error::Io(_)
        | Error::Tls(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed
        | Error::Protocol(_) => true,
        Error::Database(db) => db.code().is_some_and(|code| {
            // PostgreSQL: class 08 (connection exception), 57P01-57P03 (the server
            // terminated the session or is shutting down). MySQL/MariaDB:
            // 08S01 (communication link failure), 70100 (query interrupted by KILL).
            code.starts_with("08") || code.starts_with("57P") || code == "70100"
        }),
        _ => false,
    }
}
