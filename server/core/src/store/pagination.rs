//! Keyset pagination shared by every list: newest first by a time, ties broken by id,
//! with opaque cursors. Items added while a client pages are newer than its cursor, so
//! every item is seen exactly once. (In a list sorted by activity, an item that becomes
//! active while a client pages moves to the front, where the next walk finds it.)

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
        let well_formed = is_sort_key(time)
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

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` with every field in range, so the database's
/// datetime cast cannot fail on a forged cursor.
fn is_sort_key(time: &str) -> bool {
    let bytes = time.as_bytes();
    let shape = "dddd-dd-ddTdd:dd:dd.dddddddddZ".as_bytes();
    if bytes.len() != shape.len()
        || !bytes.iter().zip(shape).all(|(b, s)| match s {
            b'd' => b.is_ascii_digit(),
            other => b == other,
        })
    {
        return false;
    }
    let number = |range: std::ops::Range<usize>| time[range].parse::<u32>().unwrap_or(u32::MAX);
    let (month, day) = (number(5..7), number(8..10));
    let (hour, minute, second) = (number(11..13), number(14..16), number(17..19));
    (1..=12).contains(&month)
        && (1..=days_in_month(number(0..4), month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
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
        let impossible = Key {
            time: "2026-02-30T99:99:99.000000000Z".into(),
            id: "abc".into(),
        }
        .cursor();
        for bad in ["", "!!!", "bm90IGEgY3Vyc29y", impossible.as_str()] {
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
