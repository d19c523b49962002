//! What each table and index costs in an embedded engine: keys and bytes, by kind.
//!
//! Read from the keys themselves (SurrealDB 3.3.5's keyspace,
//! `surrealdb-datastore/src/key/keyspace.map`): `/*{ns}*{db}*{tb}*{id}` is a record of
//! table `tb`, `/*{ns}*{db}*{tb}+{ix}…` an entry of one of its indexes (`!td` the
//! full-text postings, `!id`/`!ii` the document maps, `*` an ordinary index entry), and
//! everything else is the engine's own bookkeeping. Sizes are keys plus values before
//! the engine compresses them; the data directory's size is what they cost on disk.

use std::collections::BTreeMap;

use surrealdb_kvs::{TransactionType, key::RawRange};

use super::db::{DbConfig, open_datastore};
use crate::ServiceError;

/// Keys scanned per read transaction.
const BATCH: u32 = 10_000;

/// One kind of stored entry and what it costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// `file_content records`, `chunk index 3 full-text postings`, `engine metadata`, …
    pub kind: String,
    pub keys: u64,
    /// Keys plus values, in bytes, uncompressed.
    pub bytes: u64,
}

/// Scans the whole embedded database (not while a server has it open: the engine
/// locks its directory) and sums keys and bytes per kind, largest first.
pub async fn storage_usage(config: &DbConfig) -> Result<Vec<Usage>, ServiceError> {
    let datastore = open_datastore(config).await?;
    let mut totals: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut start = vec![0u8];
    loop {
        let transaction = datastore
            .transaction(TransactionType::Read)
            .await
            .map_err(engine_error)?;
        let entries = transaction
            .scan_raw(RawRange::of_bytes(&start, &[0xff]), BATCH, 0, None)
            .await
            .map_err(engine_error)?;
        transaction.cancel().await.map_err(engine_error)?;
        for (key, value) in &entries {
            let total = totals.entry(kind_of(key)).or_default();
            total.0 += 1;
            total.1 += (key.len() + value.len()) as u64;
        }
        match entries.last() {
            Some((last, _)) if entries.len() == BATCH as usize => {
                start = last.clone();
                start.push(0);
            }
            _ => break,
        }
    }
    datastore.shutdown().await.map_err(engine_error)?;
    let mut usage: Vec<Usage> = totals
        .into_iter()
        .map(|(kind, (keys, bytes))| Usage { kind, keys, bytes })
        .collect();
    usage.sort_by_key(|kind| std::cmp::Reverse(kind.bytes));
    Ok(usage)
}

fn engine_error(error: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("reading the database: {error:#}"))
}

/// The kind of one key (see the module's documentation for the layout).
fn kind_of(key: &[u8]) -> String {
    // `/*` ns(4) `*` db(4) `*` table-name NUL, then what follows in the table.
    let table_start = 12;
    let in_table =
        key.len() > table_start && key.starts_with(b"/*") && key[6] == b'*' && key[11] == b'*';
    if !in_table {
        return "engine metadata".into();
    }
    let rest = &key[table_start..];
    let Some(end) = rest.iter().position(|&byte| byte == 0) else {
        return "engine metadata".into();
    };
    let table = String::from_utf8_lossy(&rest[..end]);
    let after = &rest[end + 1..];
    match after.first() {
        Some(b'*') => format!("{table} records"),
        Some(b'+') if after.len() >= 5 => {
            let index = u32::from_be_bytes([after[1], after[2], after[3], after[4]]);
            let part = match after.get(5..8) {
                Some(b"!td") => "full-text postings",
                Some(b"!id" | b"!ii" | b"!ib" | b"!is") => "full-text documents",
                Some([b'!', ..]) => "full-text terms and statistics",
                _ => "entries",
            };
            format!("{table} index {index} {part}")
        }
        Some(b'&') => format!("{table} references"),
        _ => format!("{table} definitions and bookkeeping"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(table: &str, rest: &[u8]) -> Vec<u8> {
        let mut key = b"/*\0\0\0\x01*\0\0\0\x02*".to_vec();
        key.extend_from_slice(table.as_bytes());
        key.push(0);
        key.extend_from_slice(rest);
        key
    }

    #[test]
    fn keys_are_told_apart_by_table_and_index() {
        assert_eq!(kind_of(&key("chunk", b"*abc")), "chunk records");
        assert_eq!(
            kind_of(&key("chunk", b"+\0\0\0\x03!tdterm")),
            "chunk index 3 full-text postings"
        );
        assert_eq!(
            kind_of(&key("file", b"+\0\0\0\x01*x")),
            "file index 1 entries"
        );
        assert_eq!(kind_of(b"/!nd1234"), "engine metadata");
        assert_eq!(
            kind_of(&key("file", b"!fdpath")),
            "file definitions and bookkeeping"
        );
    }
}
