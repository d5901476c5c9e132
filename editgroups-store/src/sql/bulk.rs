//! Multi-row statements, split under each backend's bind-parameter limit.
//!
//! The SQL text is written here rather than through `sea-query`'s expression tree:
//! a chunk can carry a million values, and building a tree per value costs more
//! than the database's work. Only identifiers from [`super::schema`] and
//! placeholders go into the text; every value is bound.

use super::error::db_error;
use super::lists::PacketBytes;
use editgroups_core::StoreError;
use sea_orm::sea_query::{Iden, Value};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::collections::VecDeque;
use std::fmt::Write;

/// A table or column name.
pub(crate) type Col = dyn Iden + Sync;

/// The most rows one statement carries, whatever the bind limit allows: very large
/// statements are slow to prepare and hold locks longer.
const MAX_ROWS: usize = 1000;

/// The bytes of values after which a MySQL statement takes no more rows. A
/// statement's values travel in one packet, which the server refuses above its
/// `max_allowed_packet` (4 MiB by default on MySQL 5.7, 16 MiB on MariaDB):
/// a thousand edits with long summaries (MediaWiki keeps 1,000 characters, and
/// their HTML is several times longer) would fail their chunk on every retry.
const MYSQL_STATEMENT_BYTES: usize = 2 << 20;

/// The most bind parameters one statement may use on a backend.
pub(crate) fn bind_limit(backend: DbBackend) -> usize {
    match backend {
        DbBackend::Sqlite => 32_766,
        _ => 65_535,
    }
}

/// How many rows of `columns` values fit in one statement.
pub(crate) fn rows_per_statement(backend: DbBackend, columns: usize) -> usize {
    (bind_limit(backend) / columns.max(1)).clamp(1, MAX_ROWS)
}

fn quote(backend: DbBackend, name: &Col, out: &mut String) {
    let q = if backend == DbBackend::MySql {
        '`'
    } else {
        '"'
    };
    out.push(q);
    out.push_str(&name.to_string());
    out.push(q);
}

/// The length a list of `len` values is padded to: the next power of two (at
/// least 8), capped at `limit`.
pub(crate) fn padded_len(len: usize, limit: usize) -> usize {
    len.max(8)
        .next_power_of_two()
        .min(limit)
        .max(len.min(limit))
}

/// Statement sizes for `rows` rows: full statements, then the rest split into
/// powers of two, so that a table sees few statement shapes (each prepared once
/// per connection) however many rows a chunk has.
fn statement_sizes(rows: usize, per_statement: usize) -> Vec<usize> {
    let mut sizes = vec![per_statement; rows / per_statement];
    let rest = rows % per_statement;
    let mut bit = 1usize << (usize::BITS - 1);
    while bit > 0 {
        if rest & bit != 0 {
            sizes.push(bit);
        }
        bit >>= 1;
    }
    sizes
}

/// What to do when a row's key is already there.
#[derive(Clone, Copy)]
pub(crate) enum Conflict<'a> {
    /// Fail: the caller knows the rows are new.
    Fail,
    /// Overwrite these columns (the key being `key`).
    Update {
        /// The unique key that conflicts.
        key: &'a [&'a Col],
        /// The columns to overwrite.
        columns: &'a [&'a Col],
    },
    /// Add these (integer) columns' new values to the stored ones.
    Add {
        /// The unique key that conflicts.
        key: &'a [&'a Col],
        /// The columns to add to.
        columns: &'a [&'a Col],
    },
}

/// Inserts rows (each with one value per column) in as few statements as the
/// bind limit allows.
pub(crate) async fn insert<C: ConnectionTrait>(
    db: &C,
    table: &Col,
    columns: &[&Col],
    rows: Vec<Vec<Value>>,
    conflict: Conflict<'_>,
    doing: &str,
) -> Result<(), StoreError> {
    insert_built_lazily(
        db,
        table,
        columns,
        rows.into_iter().map(Ok),
        conflict,
        doing,
    )
    .await
}

/// Like [`insert`], with rows built as they are needed: the rows of a statement
/// are built while the database runs the statement before, so that building
/// and executing overlap.
pub(crate) async fn insert_built_lazily<C, I>(
    db: &C,
    table: &Col,
    columns: &[&Col],
    rows: I,
    conflict: Conflict<'_>,
    doing: &str,
) -> Result<(), StoreError>
where
    C: ConnectionTrait,
    I: ExactSizeIterator<Item = Result<Vec<Value>, StoreError>>,
{
    if rows.len() == 0 {
        return Ok(());
    }
    if db.get_database_backend() == DbBackend::Postgres {
        // One statement for all rows: nothing to overlap.
        let rows = rows.collect::<Result<Vec<_>, _>>()?;
        if let Some(statement) = postgres_unnest_insert(table, columns, &rows, conflict) {
            return db
                .execute_raw(statement)
                .await
                .map(|_| ())
                .map_err(|e| db_error(doing, e));
        }
        let count = rows.len();
        return execute_statements(
            db,
            table,
            columns,
            rows.into_iter().map(Ok),
            count,
            conflict,
            doing,
        )
        .await;
    }
    let count = rows.len();
    execute_statements(db, table, columns, rows, count, conflict, doing).await
}

/// Executes `count` rows in as few statements as the bind limit (and on MySQL
/// the packet size) allows, building each statement's values while the one
/// before runs.
async fn execute_statements<C, I>(
    db: &C,
    table: &Col,
    columns: &[&Col],
    mut rows: I,
    count: usize,
    conflict: Conflict<'_>,
    doing: &str,
) -> Result<(), StoreError>
where
    C: ConnectionTrait,
    I: Iterator<Item = Result<Vec<Value>, StoreError>>,
{
    let backend = db.get_database_backend();
    let shape = Shape {
        backend,
        table,
        columns,
        conflict,
        max_bytes: (backend == DbBackend::MySql).then_some(MYSQL_STATEMENT_BYTES),
    };
    let mut planned: VecDeque<usize> =
        statement_sizes(count, rows_per_statement(backend, columns.len())).into();
    // The next statement; one cut short by its bytes leaves the rest of its
    // rows to the next.
    let mut build_next = |rows: &mut I| -> Result<Option<Statement>, StoreError> {
        let Some(size) = planned.pop_front() else {
            return Ok(None);
        };
        let (statement, taken) = build_statement(&shape, rows, size, doing)?;
        if taken < size {
            planned.push_front(size - taken);
        }
        Ok(Some(statement))
    };
    let Some(mut next) = build_next(&mut rows)? else {
        return Ok(());
    };
    loop {
        // `join` polls the execution first, which hands the statement to the
        // database, then builds the next statement meanwhile.
        let execution = db.execute_raw(next);
        let (executed, built) = futures::join!(execution, async { build_next(&mut rows) });
        executed.map_err(|e| db_error(doing, e))?;
        match built? {
            Some(statement) => next = statement,
            None => break,
        }
    }
    Ok(())
}

/// What the statements of one [`execute_statements`] share.
struct Shape<'a> {
    backend: DbBackend,
    table: &'a Col,
    columns: &'a [&'a Col],
    conflict: Conflict<'a>,
    /// Values' bytes after which a statement takes no more rows.
    max_bytes: Option<usize>,
}

/// One `INSERT` of the next `size` rows, or of fewer once their values reach
/// the shape's bytes (one row at least); with the number of rows taken.
fn build_statement<I>(
    shape: &Shape<'_>,
    rows: &mut I,
    size: usize,
    doing: &str,
) -> Result<(Statement, usize), StoreError>
where
    I: Iterator<Item = Result<Vec<Value>, StoreError>>,
{
    let &Shape {
        backend,
        table,
        columns,
        conflict,
        max_bytes,
    } = shape;
    let mut sql = String::with_capacity(256 + size * columns.len() * 4);
    push_insert_into(backend, table, columns, &mut sql);
    sql.push_str(" VALUES ");
    let mut values = Vec::with_capacity(size * columns.len());
    let mut bytes = 0;
    let mut taken = 0;
    for r in 0..size {
        let row = rows.next().ok_or_else(|| {
            super::error::backend(format!("{doing}: fewer rows than announced"))
        })??;
        if row.len() != columns.len() {
            return Err(super::error::backend(format!(
                "{doing}: a row has {} values for {} columns",
                row.len(),
                columns.len()
            )));
        }
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns.len() {
            if c > 0 {
                sql.push_str(", ");
            }
            if backend == DbBackend::Postgres {
                // Writing to a String cannot fail.
                let _ = write!(sql, "${}", values.len() + c + 1);
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
        if max_bytes.is_some() {
            bytes += row.iter().map(PacketBytes::packet_bytes).sum::<usize>();
        }
        values.extend(row);
        taken = r + 1;
        if max_bytes.is_some_and(|max| bytes >= max) {
            break;
        }
    }
    push_conflict(backend, table, conflict, &mut sql);
    Ok((Statement::from_sql_and_values(backend, sql, values), taken))
}

/// Appends `INSERT INTO table (columns)`.
fn push_insert_into(backend: DbBackend, table: &Col, columns: &[&Col], sql: &mut String) {
    sql.push_str("INSERT INTO ");
    push_table_columns(backend, table, columns, sql);
}

/// Appends `table (columns)`, quoted.
fn push_table_columns(backend: DbBackend, table: &Col, columns: &[&Col], sql: &mut String) {
    quote(backend, table, sql);
    sql.push_str(" (");
    for (i, col) in columns.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        quote(backend, *col, sql);
    }
    sql.push(')');
}

/// PostgreSQL: `COPY table (columns) FROM STDIN (FORMAT binary)`.
#[cfg(feature = "postgres")]
pub(crate) fn copy_statement(table: &Col, columns: &[&Col]) -> String {
    let mut sql = String::from("COPY ");
    push_table_columns(DbBackend::Postgres, table, columns, &mut sql);
    sql.push_str(" FROM STDIN (FORMAT binary)");
    sql
}

/// Appends what to do on a conflicting key.
fn push_conflict(backend: DbBackend, table: &Col, conflict: Conflict<'_>, sql: &mut String) {
    if let Conflict::Add { key, columns } = conflict {
        push_conflict_key(backend, key, sql);
        for (i, col) in columns.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            quote(backend, *col, sql);
            sql.push_str(" = ");
            if backend == DbBackend::MySql {
                quote(backend, *col, sql);
                sql.push_str(" + VALUES(");
                quote(backend, *col, sql);
                sql.push(')');
            } else {
                quote(backend, table, sql);
                sql.push('.');
                quote(backend, *col, sql);
                sql.push_str(" + excluded.");
                quote(backend, *col, sql);
            }
        }
        return;
    }
    if let Conflict::Update { key, columns } = conflict {
        if backend == DbBackend::MySql {
            sql.push_str(" ON DUPLICATE KEY UPDATE ");
            for (i, col) in columns.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                quote(backend, *col, sql);
                sql.push_str(" = VALUES(");
                quote(backend, *col, sql);
                sql.push(')');
            }
        } else {
            sql.push_str(" ON CONFLICT (");
            for (i, col) in key.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                quote(backend, *col, sql);
            }
            sql.push_str(") DO UPDATE SET ");
            for (i, col) in columns.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                quote(backend, *col, sql);
                sql.push_str(" = excluded.");
                quote(backend, *col, sql);
            }
        }
    }
}

/// Appends `ON DUPLICATE KEY UPDATE ` or `ON CONFLICT (key) DO UPDATE SET `.
fn push_conflict_key(backend: DbBackend, key: &[&Col], sql: &mut String) {
    if backend == DbBackend::MySql {
        sql.push_str(" ON DUPLICATE KEY UPDATE ");
    } else {
        sql.push_str(" ON CONFLICT (");
        for (i, col) in key.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            quote(backend, *col, sql);
        }
        sql.push_str(") DO UPDATE SET ");
    }
}

/// PostgreSQL: all rows in one statement, one parameter per column: an array
/// literal (`{1,NULL,3}`) that `unnest` turns back into rows. One short statement,
/// prepared and planned once, whatever the number of rows; a `VALUES` list with
/// thousands of parameters costs PostgreSQL more to parse and plan than to insert.
/// `None` when a value has no array form here (the caller then uses `VALUES`).
fn postgres_unnest_insert(
    table: &Col,
    columns: &[&Col],
    rows: &[Vec<Value>],
    conflict: Conflict<'_>,
) -> Option<Statement> {
    let backend = DbBackend::Postgres;
    let first = rows.first()?;
    let types: Vec<&str> = first.iter().map(postgres_type).collect::<Option<_>>()?;
    if types.len() != columns.len() {
        return None;
    }
    let mut arrays: Vec<String> = vec![String::from("{"); columns.len()];
    for (r, row) in rows.iter().enumerate() {
        if row.len() != columns.len() {
            return None;
        }
        for ((value, array), ty) in row.iter().zip(&mut arrays).zip(&types) {
            if postgres_type(value)? != *ty {
                return None;
            }
            if r > 0 {
                array.push(',');
            }
            push_array_element(value, array)?;
        }
    }
    let mut sql = String::with_capacity(256);
    push_insert_into(backend, table, columns, &mut sql);
    sql.push_str(" SELECT * FROM unnest(");
    for (c, ty) in types.iter().enumerate() {
        let _ = write!(sql, "{}${}::{ty}[]", if c == 0 { "" } else { ", " }, c + 1);
    }
    sql.push(')');
    push_conflict(backend, table, conflict, &mut sql);
    let values = arrays.into_iter().map(|mut array| {
        array.push('}');
        Value::from(array)
    });
    Some(Statement::from_sql_and_values(backend, sql, values))
}

/// The PostgreSQL type of a value, for the kinds of values the store writes.
fn postgres_type(value: &Value) -> Option<&'static str> {
    Some(match value {
        Value::Bool(_) => "boolean",
        Value::SmallInt(_) => "smallint",
        Value::Int(_) => "integer",
        Value::BigInt(_) => "bigint",
        Value::String(_) => "text",
        _ => return None,
    })
}

/// A value as an element of an array literal: text always quoted, with `"` and
/// `\` escaped, so that no text reads as `NULL` or splits the array.
fn push_array_element(value: &Value, out: &mut String) -> Option<()> {
    match value {
        Value::Bool(Some(b)) => out.push(if *b { 't' } else { 'f' }),
        Value::SmallInt(Some(i)) => {
            let _ = write!(out, "{i}");
        }
        Value::Int(Some(i)) => {
            let _ = write!(out, "{i}");
        }
        Value::BigInt(Some(i)) => {
            let _ = write!(out, "{i}");
        }
        Value::String(Some(text)) => {
            out.reserve(text.len() + 2);
            out.push('"');
            for ch in text.chars() {
                if ch == '"' || ch == '\\' {
                    out.push('\\');
                }
                out.push(ch);
            }
            out.push('"');
        }
        Value::Bool(None)
        | Value::SmallInt(None)
        | Value::Int(None)
        | Value::BigInt(None)
        | Value::String(None) => out.push_str("NULL"),
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_come_in_few_sizes() {
        assert_eq!(
            statement_sizes(2_345, 1_000),
            [1_000, 1_000, 256, 64, 16, 8, 1]
        );
        assert_eq!(statement_sizes(0, 1_000), Vec::<usize>::new());
        for rows in 0..3_000 {
            let sizes = statement_sizes(rows, 1_000);
            assert_eq!(sizes.iter().sum::<usize>(), rows);
            assert!(sizes.iter().all(|&s| s == 1_000 || s.is_power_of_two()));
        }
    }

    #[test]
    fn mysql_statements_stop_taking_rows_at_their_bytes() {
        use sea_orm::sea_query::Alias;
        let table = Alias::new("t");
        let (a, b) = (Alias::new("a"), Alias::new("b"));
        let columns: [&Col; 2] = [&a, &b];
        let shape = Shape {
            backend: DbBackend::MySql,
            table: &table,
            columns: &columns,
            conflict: Conflict::Fail,
            max_bytes: Some(10_000),
        };
        // 2,000 bytes of text a row (with the values' overhead, 2,022).
        let row = || {
            Ok(vec![
                Value::from("x".repeat(1_000)),
                Value::from("y".repeat(1_000)),
            ])
        };
        let mut rows = std::iter::repeat_with(row).take(12);
        let (statement, taken) = build_statement(&shape, &mut rows, 12, "testing").unwrap();
        assert_eq!(taken, 5);
        assert_eq!(statement.values.map(|v| v.0.len()), Some(10));
        assert_eq!(statement.sql.matches('(').count(), 1 + 5);
        // Rows that stay under the bytes fill the statement.
        let small = || Ok(vec![Value::from("x"), Value::from(1_i64)]);
        let mut rows = std::iter::repeat_with(small).take(12);
        let (_, taken) = build_statement(&shape, &mut rows, 12, "testing").unwrap();
        assert_eq!(taken, 12);
        // A row larger than the bytes alone is a statement of its own.
        let huge = || Ok(vec![Value::from("x".repeat(20_000)), Value::from(1_i64)]);
        let mut rows = std::iter::repeat_with(huge).take(3);
        let (_, taken) = build_statement(&shape, &mut rows, 3, "testing").unwrap();
        assert_eq!(taken, 1);
    }

    #[test]
    fn in_lists_are_padded_to_powers_of_two() {
        assert_eq!(padded_len(3, 100), 8);
        assert_eq!(padded_len(9, 100), 16);
        assert_eq!(padded_len(90, 100), 100);
        assert_eq!(padded_len(100, 100), 100);
    }
}
