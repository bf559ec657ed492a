//! Tags: every tag of the published posts with how many published posts carry it (a tag cloud,
//! a tag page), alphabetically, in keyset pages.

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::page::{Cursor, CursorKey, Direction, Page, PageRequest};
use super::validate::{check_lookup_text, contains_pattern};
use crate::error::AppResult;

const CURSOR_TAG: &str = "tags";

/// The tags of published posts that contain the pattern `$1` (every tag when it is null).
const MATCHING: &str =
    "FROM posts, unnest(tags) AS tag WHERE is_published AND ($1::text IS NULL OR tag ILIKE $1)";

/// A tag and the number of published posts that carry it.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct TagCount {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = BigInt)]
    pub post_count: i64,
}

impl TagCount {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            tag: CURSOR_TAG,
            key: CursorKey::Text(self.name.clone()),
            id: Uuid::nil(),
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// Tags of published posts containing `search` (any case), in name order, after the tag the
/// cursor `after` names.
pub async fn list(
    conn: &mut AsyncPgConnection,
    search: Option<&str>,
    request: &PageRequest,
) -> AppResult<Page<TagCount>> {
    let pattern = search_pattern(search)?;
    let position = request
        .decode_cursor(CURSOR_TAG)?
        .and_then(|cursor| cursor.text_key())
        .map(|(name, _)| name);
    // A backward page reads the names in reverse (`Page::from_rows` puts them back).
    let (beyond, order) = match request.direction {
        Direction::Forward => (">", "ASC"),
        Direction::Backward => ("<", "DESC"),
    };
    let sql = format!(
        "SELECT tag AS name, count(*) AS post_count {MATCHING} \
         AND ($2::text IS NULL OR tag COLLATE \"C\" {beyond} $2) \
         GROUP BY tag ORDER BY tag COLLATE \"C\" {order} LIMIT $3"
    );
    let rows = diesel::sql_query(sql)
        .bind::<Nullable<Text>, _>(pattern)
        .bind::<Nullable<Text>, _>(position)
        .bind::<BigInt, _>(request.size + 1)
        .load::<TagCount>(conn)
        .await?;
    Ok(Page::from_rows(rows, request))
}

/// How many tags [`list`] lists for `search`, over every page.
pub async fn count(conn: &mut AsyncPgConnection, search: Option<&str>) -> AppResult<i64> {
    let pattern = search_pattern(search)?;
    let row = diesel::sql_query(format!("SELECT count(DISTINCT tag) AS total {MATCHING}"))
        .bind::<Nullable<Text>, _>(pattern)
        .get_result::<Total>(conn)
        .await?;
    Ok(row.total)
}

fn search_pattern(search: Option<&str>) -> AppResult<Option<String>> {
    let Some(search) = search.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    check_lookup_text("search", search)?;
    Ok(Some(contains_pattern(search)))
}
