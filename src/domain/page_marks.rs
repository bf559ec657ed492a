//! Where the deep offset pages of a post list start: the sort key of every hundredth row of a
//! list, remembered for one version of the lists (migration `post_list_version`), so that page
//! 500 seeks to the mark before it and skips fewer than a hundred rows, instead of stepping over
//! every row before it (10,000 index entries at page 500 of 20: about 1.5 ms of Postgres CPU,
//! whatever the table's size).
//!
//! A mark is only used in a statement that also requires the version it was taken at, so one
//! from before a change is never used: the statement finds no rows, the list starts over at the
//! current version. Marks are per process; the version is the database's, so every instance (and
//! every replica, which replays the version with the rows) agrees on which marks hold.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use uuid::Uuid;

use super::page::Cursor;
use crate::db::models::Category;

/// A mark every this many rows; an offset page skips fewer than this after its mark.
pub const MARK_EVERY: i64 = 100;

/// Lists remembered at once; past this the marks start over (a client walking many authors' deep
/// pages cannot grow the process without bound).
const MAX_LISTS: usize = 1024;

/// Marks kept for one list at most (a mark per hundred rows: 10,000 cover a million rows).
const MAX_MARKS_PER_LIST: usize = 10_000;

/// One list: a filter without a search, in an order the version follows (`posts::list_offset`
/// decides which), by the order's cursor tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListKey {
    pub category: Option<Category>,
    pub author_id: Option<Uuid>,
    pub tag: Option<String>,
    pub include_drafts: bool,
    pub sort: &'static str,
}

/// The marks of one list at one version: `at[p]` is the cursor of row `p - 1` (from 0), so the
/// rows after it start at row `p`.
struct Marks {
    version: i64,
    at: BTreeMap<i64, Cursor>,
}

/// What is known before reading a page from row `position` on.
pub struct Known {
    pub version: i64,
    /// The mark nearest at or before `position`, with its position.
    pub nearest: Option<(i64, Cursor)>,
}

/// The remembered marks of every list (one per process, in the application state).
#[derive(Default)]
pub struct PageMarks {
    lists: Mutex<HashMap<ListKey, Marks>>,
}

impl PageMarks {
    /// The version and the nearest mark at or before `position` of `list`, if it was seen.
    pub fn known(&self, list: &ListKey, position: i64) -> Option<Known> {
        let lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        let marks = lists.get(list)?;
        Some(Known {
            version: marks.version,
            nearest: marks
                .at
                .range(..=position)
                .next_back()
                .map(|(p, cursor)| (*p, cursor.clone())),
        })
    }

    /// Forgets `list`'s marks and starts it over at `version`, unless they are of that version.
    /// A lower version replaces a higher one too: the database may have been restored from a
    /// backup, and marks of the old history would hold again once its version got back there.
    pub fn start(&self, list: &ListKey, version: i64) {
        let mut lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        if lists.get(list).is_some_and(|m| m.version == version) {
            return;
        }
        if lists.len() >= MAX_LISTS && !lists.contains_key(list) {
            lists.clear();
        }
        lists.insert(
            list.clone(),
            Marks {
                version,
                at: BTreeMap::new(),
            },
        );
    }

    /// Remembers that row `position - 1` of `list` at `version` is at `cursor`.
    pub fn remember(&self, list: &ListKey, version: i64, position: i64, cursor: Cursor) {
        let mut lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(marks) = lists.get_mut(list)
            && marks.version == version
            && marks.at.len() < MAX_MARKS_PER_LIST
        {
            marks.at.insert(position, cursor);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::page::CursorKey;

    fn cursor(n: i64) -> Cursor {
        Cursor {
            tag: "newest",
            key: CursorKey::Number(n),
            id: Uuid::nil(),
        }
    }

    #[test]
    fn the_nearest_mark_at_or_before_a_position_of_the_current_version() {
        let marks = PageMarks::default();
        let list = ListKey {
            category: None,
            author_id: None,
            tag: None,
            include_drafts: false,
            sort: "newest",
        };
        assert!(marks.known(&list, 500).is_none());
        marks.start(&list, 7);
        marks.remember(&list, 7, 300, cursor(3));
        marks.remember(&list, 7, 100, cursor(1));
        // A mark of another version is not taken.
        marks.remember(&list, 6, 400, cursor(4));
        let known = marks.known(&list, 500).unwrap();
        assert_eq!(known.version, 7);
        assert_eq!(known.nearest, Some((300, cursor(3))));
        assert_eq!(marks.known(&list, 299).unwrap().nearest, Some((100, cursor(1))));
        assert_eq!(marks.known(&list, 99).unwrap().nearest, None);
        // The same version keeps the marks; any other forgets them, a lower one too (a restored
        // database counts up again through versions whose marks were of another history).
        marks.start(&list, 7);
        assert_eq!(marks.known(&list, 500).unwrap().nearest, Some((300, cursor(3))));
        marks.start(&list, 8);
        let known = marks.known(&list, 500).unwrap();
        assert_eq!((known.version, known.nearest), (8, None));
        marks.remember(&list, 8, 300, cursor(3));
        marks.start(&list, 2);
        let known = marks.known(&list, 500).unwrap();
        assert_eq!((known.version, known.nearest), (2, None));
    }
}
