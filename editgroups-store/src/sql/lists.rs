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

/// The lists to query `items` in, for conditions made by [`is_one_of`]: all of
/// them at once on PostgreSQL; elsewhere lists under the bind limit, leaving
/// room for a few other values.
pub(crate) fn parts<T: Clone>(backend: DbBackend, items: &[T]) -> Vec<Vec<T>> {
    parts_of_at_most(backend, items, bulk::bind_limit(backend) - 16)
}

/// [`parts`] with lists of at most `limit` values where lists are bound value by
/// value. Each is padded (with its last value again) to a power of two, so that
/// few statement shapes are prepared (see `bulk`).
pub(crate) fn parts_of_at_most<T: Clone>(
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
    padded_parts(items, limit)
}

/// Lists of at most `limit` values, each padded to a power of two.
pub(crate) fn padded_parts<T: Clone>(items: &[T], limit: usize) -> Vec<Vec<T>> {
    items
        .chunks(bulk::padded_len(limit, limit))
        .map(|part| {
            let mut part = part.to_vec();
            let len = bulk::padded_len(part.len(), limit);
            if let Some(last) = part.last().cloned() {
                part.resize(len, last);
            }
            part
        })
        .collect()
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
}
