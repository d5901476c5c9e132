//! PostgreSQL's binary `COPY` format, for the rows a chunk adds in bulk.
//!
//! Binary rather than text: nothing to escape, and the server reads each
//! value with no parsing (an `INSERT … SELECT FROM unnest($1, …)` of text
//! arrays has every array parsed, and the values in them). The format:
//! <https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4>.
//! Each value must have exactly its column's type: `bigint` as 8 bytes,
//! `boolean` as 1, text (`text`, `varchar`) as its UTF-8 bytes.

use super::error::backend as store_error;
use editgroups_core::StoreError;

/// The signature, flags and header extension length that open the data.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Rows in the binary `COPY` format, built column by column.
pub(crate) struct BinaryRows {
    data: Vec<u8>,
    columns: i16,
    rows: usize,
}

impl BinaryRows {
    /// Rows of `columns` values each, with room for about `capacity` bytes.
    pub(crate) fn new(columns: usize, capacity: usize) -> Result<Self, StoreError> {
        let columns = i16::try_from(columns)
            .map_err(|_| store_error(format!("{columns} columns are too many for COPY")))?;
        let mut data = Vec::with_capacity(HEADER.len() + capacity + 2);
        data.extend_from_slice(HEADER);
        Ok(Self {
            data,
            columns,
            rows: 0,
        })
    }

    /// Starts a row; its values follow, one per column in the statement's order.
    pub(crate) fn row(&mut self) {
        self.data.extend_from_slice(&self.columns.to_be_bytes());
        self.rows += 1;
    }

    /// A `bigint`.
    pub(crate) fn bigint(&mut self, value: Option<i64>) {
        match value {
            Some(v) => {
                self.data.extend_from_slice(&8_i32.to_be_bytes());
                self.data.extend_from_slice(&v.to_be_bytes());
            }
            None => self.null(),
        }
    }

    /// A `boolean`.
    pub(crate) fn boolean(&mut self, value: Option<bool>) {
        match value {
            Some(v) => {
                self.data.extend_from_slice(&1_i32.to_be_bytes());
                self.data.push(u8::from(v));
            }
            None => self.null(),
        }
    }

    /// A `text` or `varchar`.
    pub(crate) fn text(&mut self, value: Option<&str>) -> Result<(), StoreError> {
        let Some(text) = value else {
            self.null();
            return Ok(());
        };
        let len = i32::try_from(text.len())
            .map_err(|_| store_error(format!("a text of {} bytes is too long", text.len())))?;
        self.data.extend_from_slice(&len.to_be_bytes());
        self.data.extend_from_slice(text.as_bytes());
        Ok(())
    }

    fn null(&mut self) {
        self.data.extend_from_slice(&(-1_i32).to_be_bytes());
    }

    /// How many rows were started.
    pub(crate) fn len(&self) -> usize {
        self.rows
    }

    /// The data to send, its trailer added.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.data.extend_from_slice(&(-1_i16).to_be_bytes());
        self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_encoded_as_postgres_reads_them() {
        let mut rows = BinaryRows::new(3, 0).expect("three columns");
        rows.row();
        rows.bigint(Some(-2));
        rows.text(Some("Q1 é")).expect("short text");
        rows.boolean(None);
        rows.row();
        rows.bigint(None);
        rows.text(None).expect("null");
        rows.boolean(Some(true));
        assert_eq!(rows.len(), 2);
        let data = rows.finish();
        let mut expected = HEADER.to_vec();
        expected.extend_from_slice(&[0, 3]);
        expected.extend_from_slice(&[0, 0, 0, 8, 255, 255, 255, 255, 255, 255, 255, 254]);
        expected.extend_from_slice(&[0, 0, 0, 5, b'Q', b'1', b' ', 0xc3, 0xa9]);
        expected.extend_from_slice(&[255, 255, 255, 255]);
        expected.extend_from_slice(&[0, 3]);
        expected.extend_from_slice(&[255, 255, 255, 255]);
        expected.extend_from_slice(&[255, 255, 255, 255]);
        expected.extend_from_slice(&[0, 0, 0, 1, 1]);
        expected.extend_from_slice(&[255, 255]);
        assert_eq!(data, expected);
        assert_eq!(&data[..11], b"PGCOPY\n\xff\r\n\0");
    }

    #[test]
    fn too_many_columns_are_refused() {
        assert!(BinaryRows::new(40_000, 0).is_err());
    }
}
