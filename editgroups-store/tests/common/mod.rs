//! Databases for the SQL store tests: a SQLite file, SQLite in memory, and a fresh
//! database per test on the PostgreSQL and MariaDB servers (see README.md, "Test
//! databases"), created and dropped by the test. A server that does not answer
//! fails the test: it is never skipped.
//!
//! The servers default to `postgres://postgres@127.0.0.1:5432/test` and
//! `mysql://root@127.0.0.1:3306/test`; `EDITGROUPS_TEST_POSTGRES` and
//! `EDITGROUPS_TEST_MYSQL` change them.

#![allow(dead_code, unreachable_pub)]

use editgroups_store::SqlStore;
use sea_orm::{ConnectionTrait, Database};
use std::sync::atomic::{AtomicU64, Ordering};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SqliteFile,
    SqliteMemory,
    Postgres,
    Mysql,
}

pub const ALL: [Kind; 4] = [
    Kind::SqliteFile,
    Kind::SqliteMemory,
    Kind::Postgres,
    Kind::Mysql,
];

/// A database made for one test.
#[derive(Debug)]
pub struct TestDb {
    pub kind: Kind,
    pub url: String,
    admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "egtest_{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn postgres_admin() -> String {
    std::env::var("EDITGROUPS_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

pub fn mysql_admin() -> String {
    std::env::var("EDITGROUPS_TEST_MYSQL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned())
}

/// The URL of database `name` on the server of `admin` (same credentials).
pub fn on_server(admin: &str, name: &str) -> String {
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    format!("{base}/{name}")
}

impl TestDb {
    pub async fn new(kind: Kind, prefix: &str) -> TestDb {
        match kind {
            Kind::SqliteFile => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("store.db");
                TestDb {
                    kind,
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    admin: None,
                    _dir: Some(dir),
                }
            }
            Kind::SqliteMemory => TestDb {
                kind,
                url: "sqlite::memory:".to_owned(),
                admin: None,
                _dir: None,
            },
            Kind::Postgres | Kind::Mysql => {
                let admin = if kind == Kind::Postgres {
                    postgres_admin()
                } else {
                    mysql_admin()
                };
                let name = unique_name(prefix);
                let conn = Database::connect(&admin).await.unwrap_or_else(|e| {
                    panic!("the test server {admin} does not answer (see README.md, 'Test databases'): {e}")
                });
                conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                conn.close().await.unwrap();
                TestDb {
                    kind,
                    url: on_server(&admin, &name),
                    admin: Some((admin, name)),
                    _dir: None,
                }
            }
        }
    }

    pub async fn open(&self) -> SqlStore {
        SqlStore::open(&self.url)
            .await
            .unwrap_or_else(|e| panic!("opening {}: {e}", self.url))
    }

    /// Drops the server database (after the stores on it are closed).
    pub async fn drop_db(self) {
        if let Some((admin, name)) = &self.admin {
            let conn = Database::connect(admin).await.unwrap();
            let sql = if self.kind == Kind::Postgres {
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            } else {
                format!("DROP DATABASE IF EXISTS {name}")
            };
            conn.execute_unprepared(&sql).await.unwrap();
            conn.close().await.unwrap();
        }
    }
}
