//! Keyset pagination shared by every list: newest first by a time, ties broken by id,
//! with opaque cursors. Items added while a client pages are newer than its cursor, so
//! every item is seen exactly once.

use base64::Engine;
use kiln_types::{ApiError, PAGE_DEFAULT_LIMIT, PAGE_MAX_LIMIT, Page, PageQuery};

/// Full precision: two items a microsecond apart must still order correctly.
pub const SORT_KEY_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.9fZ";

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    Newest,
    /// Older than this key.
    After(Key),
    /// Newer than this key.
    Before(Key),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub time: String,
    pub id: String,
}

impl Key {
    pub fn cursor(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("{}|{}", self.time, self.id))
    }

    fn parse(field: &str, cursor: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::invalid_field(field, "is not a cursor this server issued");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (time, id) = text.split_once('|').ok_or_else(invalid)?;
        let well_formed = time.len() == 30
            && time.ends_with('Z')
            && !id.is_empty()
            && id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !well_formed {
            return Err(invalid());
        }
        Ok(Self {
            time: time.to_owned(),
            id: id.to_owned(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub position: Position,
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        Self {
            limit,
            position: Position::Newest,
        }
    }

    pub fn from_query(query: &PageQuery) -> Result<Self, ApiError> {
        let limit = query.limit.unwrap_or(PAGE_DEFAULT_LIMIT);
        if !(1..=PAGE_MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid_field(
                "limit",
                format!("must be between 1 and {PAGE_MAX_LIMIT}"),
            ));
        }
        let position = match (&query.after, &query.before) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_field(
                    "before",
                    "give either after or before, not both",
                ));
            }
            (Some(after), None) => Position::After(Key::parse("after", after)?),
            (None, Some(before)) => Position::Before(Key::parse("before", before)?),
            (None, None) => Position::Newest,
        };
        Ok(Self { limit, position })
    }

    /// The `WHERE` condition (using `$cursor_time`, `$cursor_id`), the `ORDER BY` and
    /// the `LIMIT` for a table sorted by `time_field`. One more row than asked is
    /// fetched to learn whether there is a next page.
    pub fn clauses(&self, table: &str, time_field: &str) -> (String, String, u32) {
        let key = format!("type::record('{table}', $cursor_id)");
        let (condition, order) = match self.position {
            Position::Newest => ("true".to_owned(), "DESC"),
            Position::After(_) => (
                format!(
                    "({time_field} < <datetime> $cursor_time OR ({time_field} = <datetime> $cursor_time AND id < {key}))"
                ),
                "DESC",
            ),
            Position::Before(_) => (
                format!(
                    "({time_field} > <datetime> $cursor_time OR ({time_field} = <datetime> $cursor_time AND id > {key}))"
                ),
                "ASC",
            ),
        };
        (
            condition,
            format!("ORDER BY {time_field} {order}, id {order}"),
            self.limit + 1,
        )
    }

    /// `(time, id)` to bind as `$cursor_time` / `$cursor_id` (empty for the first page).
    pub fn bindings(&self) -> (String, String) {
        match &self.position {
            Position::Newest => (String::new(), String::new()),
            Position::After(key) | Position::Before(key) => (key.time.clone(), key.id.clone()),
        }
    }

    /// Turns the fetched rows (in query order) into a page, newest first.
    pub fn finish<T>(&self, mut rows: Vec<(Key, T)>) -> Page<T> {
        let limit = self.limit as usize;
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        let (newer_exists, older_exists) = match self.position {
            Position::Newest => (false, has_more),
            Position::After(_) => (true, has_more),
            Position::Before(_) => {
                rows.reverse();
                (has_more, true)
            }
        };
        let prev_cursor = rows
            .first()
            .filter(|_| newer_exists)
            .map(|(key, _)| key.cursor());
        let next_cursor = rows
            .last()
            .filter(|_| older_exists)
            .map(|(key, _)| key.cursor());
        Page {
            items: rows.into_iter().map(|(_, item)| item).collect(),
            next_cursor,
            prev_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_422() {
        let key = Key {
            time: "2026-11-22T02:49:07.123456789Z".into(),
            id: "abc123".into(),
        };
        let query = PageQuery {
            after: Some(key.cursor()),
            ..PageQuery::default()
        };
        assert_eq!(
            PageRequest::from_query(&query).unwrap().position,
            Position::After(key)
        );
        for bad in ["", "!!!", "bm90IGEgY3Vyc29y"] {
            let query = PageQuery {
                before: Some(bad.into()),
                ..PageQuery::default()
            };
            let error = PageRequest::from_query(&query).unwrap_err();
            assert_eq!(error.fields[0].field, "before", "{bad}");
        }
        let query = PageQuery {
            limit: Some(0),
            ..PageQuery::default()
        };
        assert!(PageRequest::from_query(&query).is_err());
    }
}
