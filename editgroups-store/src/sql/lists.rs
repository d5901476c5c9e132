//! Conditions on a list of values: `column IN (…)`, split under the bind limit,
//! or on PostgreSQL `column = ANY($1)` with the whole list bound as one array.
//!
//! An `IN` list has one placeholder per value, so each length is a statement of
//! its own that the database parses and plans again (lists are padded to powers
//! of two to keep those few). An array is one placeholder whatever its length:
//! one statement, prepared once, and no bind limit to split under.

use super::bulk;
use sea_orm::DbBackend;
use sea_orm::sea_query::{Expr, ExprTrait, Value};

/// A kind of value the store puts in lists.
pub(crate) trait ListValue: Clone + Into<Value> {
    /// The PostgreSQL array of such values.
    #[cfg(feature = "postgres")]
    const ARRAY: sea_orm::sea_query::ArrayType;
}

impl ListValue for i64 {
    #[cfg(feature = "postgres")]
    const ARRAY: sea_orm::sea_query::ArrayType = sea_orm::sea_query::ArrayType::BigInt;
}

impl ListValue for &str {
    #[cfg(feature = "postgres")]
    const ARRAY: sea_orm::sea_query::ArrayType = sea_orm::sea_query::ArrayType::String;
}

/// `column` is one of `values`. Pass lists from [`parts`]: on other backends than
/// PostgreSQL, each must fit under the bind limit with the statement's other values.
pub(crate) fn is_one_of<T: ListValue>(backend: DbBackend, column: Expr, values: &[T]) -> Expr {
    #[cfg(feature = "postgres")]
    if backend == DbBackend::Postgres {
        // No element is null, so the array converts to the driver's without fail.
        let array = values.iter().cloned().map(Into::into).collect();
        let array = Value::Array(T::ARRAY, Some(Box::new(array)));
        return column.eq(sea_orm::sea_query::Func::cust("ANY").arg(array));
    }
    let _ = backend;
    column.is_in(values.iter().cloned())
}

/// The bytes of values after which a MySQL list takes no more: a statement
/// travels in one packet, refused above the server's `max_allowed_packet`
/// (4 MiB by default on MySQL 5.7, 16 MiB on MariaDB). Padding may double it.
const MYSQL_LIST_BYTES: usize = 1 << 20;

/// The bytes of a list's values on MySQL, where lists are split by bytes too.
pub(crate) fn max_list_bytes(backend: DbBackend) -> Option<usize> {
    (backend == DbBackend::MySql).then_some(MYSQL_LIST_BYTES)
}

/// About the bytes a value takes in a MySQL statement's packet besides its
/// data: its type and length prefix.
const PACKET_VALUE_OVERHEAD: usize = 11;

/// About the bytes a value takes in a statement's packet (lists here, rows in
/// `bulk`).
pub(crate) trait PacketBytes {
    /// Its data and its type and length prefix.
    fn packet_bytes(&self) -> usize;
}

impl PacketBytes for i64 {
    fn packet_bytes(&self) -> usize {
        8 + PACKET_VALUE_OVERHEAD
    }
}

impl PacketBytes for &str {
    fn packet_bytes(&self) -> usize {
        self.len() + PACKET_VALUE_OVERHEAD
    }
}

impl PacketBytes for (i64, String) {
    fn packet_bytes(&self) -> usize {
        self.0.packet_bytes() + self.1.len() + PACKET_VALUE_OVERHEAD
    }
}

impl PacketBytes for Value {
    fn packet_bytes(&self) -> usize {
        let data = match self {
            Value::String(Some(text)) => text.len(),
            Value::Bytes(Some(bytes)) => bytes.len(),
            _ => 8,
        };
        data + PACKET_VALUE_OVERHEAD
    }
}

/// The lists to query `items` in, for conditions made by [`is_one_of`]: all of
/// them at once on PostgreSQL; elsewhere lists under the bind limit (and on
/// MySQL under [`max_list_bytes`]), leaving room for a few other values.
pub(crate) fn parts<T: Clone + PacketBytes>(backend: DbBackend, items: &[T]) -> Vec<Vec<T>> {
    parts_of_at_most(backend, items, bulk::bind_limit(backend) - 16)
}

/// [`parts`] with lists of at most `limit` values where lists are bound value by
/// value. Each is padded (with its last value again) to a power of two, so that
/// few statement shapes are prepared (see `bulk`).
pub(crate) fn parts_of_at_most<T: Clone + PacketBytes>(
    backend: DbBackend,
    items: &[T],
    limit: usize,
) -> Vec<Vec<T>> {
    if backend == DbBackend::Postgres {
        return if items.is_empty() {
            Vec::new()
        } else {
            vec![items.to_vec()]
        };
    }
    padded_parts(items, limit, max_list_bytes(backend))
}

/// Lists of at most `limit` values, and of values up to `max_bytes` (a list
/// reaching it takes no more), each padded to a power of two.
pub(crate) fn padded_parts<T: Clone + PacketBytes>(
    items: &[T],
    limit: usize,
    max_bytes: Option<usize>,
) -> Vec<Vec<T>> {
    let most = bulk::padded_len(limit, limit);
    let mut parts = Vec::new();
    let mut rest = items;
    while !rest.is_empty() {
        let mut len = most.min(rest.len());
        if let Some(max) = max_bytes {
            let mut bytes = 0;
            if let Some(at) = rest[..len].iter().position(|item| {
                bytes += item.packet_bytes();
                bytes >= max
            }) {
                len = at + 1;
            }
        }
        let (part, later) = rest.split_at(len);
        let mut part = part.to_vec();
        if let Some(last) = part.last().cloned() {
            part.resize(bulk::padded_len(len, limit), last);
        }
        parts.push(part);
        rest = later;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_queries_a_list_at_once_and_others_in_padded_parts() {
        let items: Vec<i64> = (0..40).collect();
        assert_eq!(
            parts_of_at_most(DbBackend::Postgres, &items, 16),
            vec![items.clone()]
        );
        assert!(parts_of_at_most::<i64>(DbBackend::Postgres, &[], 16).is_empty());
        let sqlite = parts_of_at_most(DbBackend::Sqlite, &items, 16);
        assert_eq!(sqlite.iter().map(Vec::len).collect::<Vec<_>>(), [16, 16, 8]);
        // The last part is padded with its last value.
        assert_eq!(sqlite[2], [32, 33, 34, 35, 36, 37, 38, 39]);
        let short = parts_of_at_most(DbBackend::MySql, &items[..5], 16);
        assert_eq!(short, [vec![0, 1, 2, 3, 4, 4, 4, 4]]);
    }

    #[test]
    fn mysql_lists_stop_at_their_bytes() {
        // Titles of 1,020 bytes (254 four-byte characters and a number): with
        // their overhead, 1,018 of them reach 1 MiB.
        let long = "𝔸".repeat(254);
        let owned: Vec<String> = (0..3_000).map(|i| format!("{long}{i:04}")).collect();
        let titles: Vec<&str> = owned.iter().map(String::as_str).collect();
        let mysql = parts(DbBackend::MySql, &titles);
        let lens: Vec<usize> = mysql.iter().map(Vec::len).collect();
        // Padded to 1,024 each (the last, 964 titles, too).
        assert_eq!(lens, [1_024, 1_024, 1_024]);
        // SQLite has no packet: lists as long as the bind limit allows.
        let sqlite = parts(DbBackend::Sqlite, &titles);
        assert_eq!(sqlite.iter().map(Vec::len).collect::<Vec<_>>(), [4_096]);
        // Every title is in one list, in order, the padding aside.
        let mut flat: Vec<&str> = Vec::new();
        for part in &mysql {
            let mut part = part.clone();
            part.dedup();
            flat.extend(part);
        }
        assert_eq!(flat, titles);
        // Short values are not split by bytes.
        let ids: Vec<i64> = (0..5_000).collect();
        assert_eq!(parts(DbBackend::MySql, &ids).len(), 1);
    }
}
