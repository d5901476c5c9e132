//! The transaction a chunk is applied in.
//!
//! On the store's own sqlx pools (every store opened from a URL) the
//! transaction runs on a pool connection through sqlx directly: sea-orm does not
//! hand out the driver connection of its transactions, and copies every
//! statement's values before binding them. On PostgreSQL the chunk's edits then
//! go in with `COPY … FROM STDIN (FORMAT binary)` on that connection (see
//! `copy`), which PostgreSQL reads faster than any `INSERT`. Other connections
//! (a mock, a proxy handed to `SqlStore::from_connection`) go through sea-orm.

use super::error::db_error;
use async_trait::async_trait;
use editgroups_core::StoreError;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

/// Runs `$body` with `$txn` bound to the transaction `$chunk` holds, whichever
/// kind it is.
macro_rules! on_txn {
    ($chunk:expr, $txn:ident => $body:expr) => {
        match $chunk {
            ChunkTxn::SeaOrm($txn) => $body,
            #[cfg(feature = "postgres")]
            ChunkTxn::Postgres($txn) => $body,
            #[cfg(feature = "sqlite")]
            ChunkTxn::Sqlite($txn) => $body,
            #[cfg(feature = "mysql")]
            ChunkTxn::MySql($txn) => $body,
        }
    };
}

/// A chunk's transaction: everything [`ConnectionTrait`] offers, and `COPY`
/// where the database has it.
pub(crate) enum ChunkTxn {
    /// A sea-orm transaction.
    SeaOrm(DatabaseTransaction),
    /// A PostgreSQL transaction on a pool connection.
    #[cfg(feature = "postgres")]
    Postgres(sqlx_txn::SqlxTxn<sea_orm::sqlx::Postgres>),
    /// A SQLite transaction on the pool's connection.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx_txn::SqlxTxn<sea_orm::sqlx::Sqlite>),
    /// A MySQL/MariaDB transaction on a pool connection.
    #[cfg(feature = "mysql")]
    MySql(sqlx_txn::SqlxTxn<sea_orm::sqlx::MySql>),
}

impl ChunkTxn {
    /// Starts the transaction of a chunk: SQLite takes its write lock at once.
    pub(crate) async fn begin(db: &DatabaseConnection) -> Result<Self, StoreError> {
        #[cfg(feature = "postgres")]
        if let sea_orm::DatabaseConnectionType::SqlxPostgresPoolConnection(_) = &db.inner {
            // The match proves the pool is there: the accessor cannot panic.
            let pool = db.get_postgres_connection_pool();
            return sqlx_txn::SqlxTxn::begin(pool, None, DbBackend::Postgres)
                .await
                .map(Self::Postgres)
                .map_err(|e| db_error("starting a transaction", e));
        }
        #[cfg(feature = "sqlite")]
        if let sea_orm::DatabaseConnectionType::SqlxSqlitePoolConnection(_) = &db.inner {
            // As for PostgreSQL. The write lock is taken at once.
            let pool = db.get_sqlite_connection_pool();
            return sqlx_txn::SqlxTxn::begin(pool, Some("BEGIN IMMEDIATE"), DbBackend::Sqlite)
                .await
                .map(Self::Sqlite)
                .map_err(|e| db_error("starting a transaction", e));
        }
        #[cfg(feature = "mysql")]
        if let sea_orm::DatabaseConnectionType::SqlxMySqlPoolConnection(_) = &db.inner {
            let pool = db.get_mysql_connection_pool();
            return sqlx_txn::SqlxTxn::begin(pool, None, DbBackend::MySql)
                .await
                .map(Self::MySql)
                .map_err(|e| db_error("starting a transaction", e));
        }
        begin_writing(db).await.map(Self::SeaOrm)
    }

    /// Commits the transaction.
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        on_txn!(self, txn => txn.commit().await)
    }

    /// Called once the chunk's state is loaded, before its writes. PostgreSQL:
    /// a foreign key is checked by one query per row, prepared once, which
    /// `force_custom_plan` (set on the store's connections so that loads are
    /// planned for their actual lists, see `SqlStore::connect`) would plan
    /// again for every row (a fifth of the server's time on a chunk of
    /// edits). The writes use cached plans.
    pub(crate) async fn start_writes(&self) -> Result<(), StoreError> {
        match self {
            Self::SeaOrm(_) => Ok(()),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => Ok(()),
            #[cfg(feature = "mysql")]
            Self::MySql(_) => Ok(()),
            #[cfg(feature = "postgres")]
            Self::Postgres(txn) => txn
                .execute_unprepared("SET LOCAL plan_cache_mode = auto")
                .await
                .map(|_| ())
                .map_err(|e| db_error("preparing the writes", e)),
        }
    }

    /// The PostgreSQL connection that `COPY` runs on, when there is one.
    #[cfg(feature = "postgres")]
    pub(crate) fn postgres(&self) -> Option<&sqlx_txn::SqlxTxn<sea_orm::sqlx::Postgres>> {
        match self {
            Self::Postgres(txn) => Some(txn),
            _ => None,
        }
    }
}

/// Starts a sea-orm transaction that writes: SQLite takes its write lock at once.
pub(crate) async fn begin_writing(
    db: &DatabaseConnection,
) -> Result<DatabaseTransaction, StoreError> {
    let backend = db.get_database_backend();
    let options = TransactionOptions {
        sqlite_transaction_mode: (backend == DbBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    db.begin_with_options(options)
        .await
        .map_err(|e| db_error("starting a transaction", e))
}

#[async_trait]
impl ConnectionTrait for ChunkTxn {
    fn get_database_backend(&self) -> DbBackend {
        on_txn!(self, txn => txn.get_database_backend())
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        on_txn!(self, txn => txn.execute_raw(stmt).await)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        on_txn!(self, txn => txn.execute_unprepared(sql).await)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        on_txn!(self, txn => txn.query_one_raw(stmt).await)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        on_txn!(self, txn => txn.query_all_raw(stmt).await)
    }
}

#[cfg(any(feature = "postgres", feature = "sqlite", feature = "mysql"))]
pub(crate) mod sqlx_txn {
    //! A transaction on a connection of the store's sqlx pool, its statements
    //! run by sqlx as sea-orm runs them, their values moved rather than copied.

    use async_trait::async_trait;
    use futures::lock::Mutex;
    use sea_orm::sea_query::Values;
    use sea_orm::sqlx::{self, Database, Executor, IntoArguments, Pool, Transaction};
    use sea_orm::{
        ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr, Statement,
    };
    use sea_query_sqlx::SqlxValues;

    /// A transaction on a pool connection, rolled back if dropped uncommitted
    /// (sqlx's [`Transaction`] does that when the connection goes back to the
    /// pool).
    pub(crate) struct SqlxTxn<DB: Database> {
        /// Behind a lock because [`ConnectionTrait`] runs statements through
        /// `&self`; one statement runs at a time.
        txn: Mutex<Transaction<'static, DB>>,
        backend: DbBackend,
    }

    impl<DB: Database> SqlxTxn<DB> {
        /// Begins with `statement` (`BEGIN` when `None`).
        pub(super) async fn begin(
            pool: &Pool<DB>,
            statement: Option<&'static str>,
            backend: DbBackend,
        ) -> Result<Self, DbErr> {
            let begun = match statement {
                Some(statement) => pool.begin_with(statement).await,
                None => pool.begin().await,
            };
            let txn = begun.map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e.into())))?;
            Ok(Self {
                txn: Mutex::new(txn),
                backend,
            })
        }

        pub(super) async fn commit(self) -> Result<(), DbErr> {
            self.txn.into_inner().commit().await.map_err(exec_error)
        }
    }

    #[cfg(feature = "postgres")]
    impl SqlxTxn<sqlx::Postgres> {
        /// Runs `COPY … FROM STDIN` (`statement`) with `data`, in the format
        /// the statement names.
        pub(crate) async fn copy_in(&self, statement: &str, data: Vec<u8>) -> Result<u64, DbErr> {
            let mut txn = self.txn.lock().await;
            let mut copy = txn.copy_in_raw(statement).await.map_err(exec_error)?;
            if let Err(e) = copy.send(data).await {
                // Ends the copy so that the connection stays usable; the
                // transaction fails with the first error.
                let _ = copy.abort(e.to_string()).await;
                return Err(exec_error(e));
            }
            copy.finish().await.map_err(exec_error)
        }
    }

    fn exec_error(error: sqlx::Error) -> DbErr {
        DbErr::Exec(RuntimeErr::SqlxError(error.into()))
    }

    fn query_error(error: sqlx::Error) -> DbErr {
        DbErr::Query(RuntimeErr::SqlxError(error.into()))
    }

    /// A sea-orm statement as a sqlx query, as sea-orm runs it.
    fn sqlx_query<DB>(stmt: Statement) -> sqlx::query::Query<'static, DB, SqlxValues>
    where
        DB: Database,
        SqlxValues: IntoArguments<DB>,
    {
        let values = stmt.values.unwrap_or_else(|| Values(Vec::new()));
        sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql), SqlxValues(values))
    }

    #[async_trait]
    impl<DB> ConnectionTrait for SqlxTxn<DB>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        SqlxValues: IntoArguments<DB>,
        QueryResult: From<DB::Row>,
        ExecResult: From<DB::QueryResult>,
    {
        fn get_database_backend(&self) -> DbBackend {
            self.backend
        }

        async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
            let mut txn = self.txn.lock().await;
            sqlx_query(stmt)
                .execute(&mut **txn)
                .await
                .map(Into::into)
                .map_err(exec_error)
        }

        async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
            let mut txn = self.txn.lock().await;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut **txn)
                .await
                .map(Into::into)
                .map_err(exec_error)
        }

        async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
            let mut txn = self.txn.lock().await;
            sqlx_query(stmt)
                .fetch_optional(&mut **txn)
                .await
                .map(|row| row.map(Into::into))
                .map_err(query_error)
        }

        async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
            let mut txn = self.txn.lock().await;
            sqlx_query(stmt)
                .fetch_all(&mut **txn)
                .await
                .map(|rows| rows.into_iter().map(Into::into).collect())
                .map_err(query_error)
        }
    }
}
