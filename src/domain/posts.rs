//! Posts: listing (keyset pages, filters, full-text search), visibility, and writes.

use chrono::Utc;
use diesel::dsl::{AsSelect, SqlTypeOf};
use diesel::helper_types::InnerJoinQuerySource;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSelectStatement, FromClause};
use diesel::sql_types::Bool;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::changes::{EntityTag, TagSet};
use super::page::{Cursor, CursorKey, Direction, Page, PageRequest, keyset_page};
use super::page_marks::{Known, ListKey, MARK_EVERY, PageMarks};
use super::validate::{char_len, check_lookup_text, check_no_nul, cut_short};
use crate::db::first_per_key::FirstPostsOfAuthors;
use crate::db::models::{Category, NewPost, Post, User};
use crate::db::schema::{
    author_post_totals, post_list_version, post_search_terms, post_totals, posts, users,
};
use crate::db::sql::{
    EvaluatedOnce, LiteralLimit, LongestLexeme, Matches, search_query, ts_match_vq, ts_rank,
};
use crate::domain::viewer::Viewer;
use crate::error::{AppError, AppResult, Denial, FieldErrors, Resource};
use crate::events::{CategoryLabel, Event, EventBus};

/// Sort orders of post lists; every one ends with the id so that ties have a stable order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PostSort {
    #[default]
    Newest,
    Oldest,
    UpdatedDesc,
    UpdatedAsc,
    TitleAsc,
    TitleDesc,
    /// views + 2 * likes + 3 * comments, highest first.
    Popular,
    /// Best full-text match first (`ts_rank`); needs a search.
    Relevance,
}

impl PostSort {
    /// What a list in this order depends on (for the response cache).
    pub fn tags(self) -> &'static [EntityTag] {
        match self {
            PostSort::Popular => &[EntityTag::PostList, EntityTag::PostPopular],
            _ => &[EntityTag::PostList],
        }
    }
}

impl PostSort {
    /// The tag written into cursors of this order.
    fn tag(self) -> &'static str {
        match self {
            PostSort::Newest => "newest",
            PostSort::Oldest => "oldest",
            PostSort::UpdatedDesc => "updated_desc",
            PostSort::UpdatedAsc => "updated_asc",
            PostSort::TitleAsc => "title_asc",
            PostSort::TitleDesc => "title_desc",
            PostSort::Popular => "popular",
            PostSort::Relevance => "relevance",
        }
    }

    /// The cursor that points at `post` in this order (`rank` only matters for relevance).
    pub fn cursor_of(self, post: &Post, rank: f32) -> Cursor {
        let key = match self {
            PostSort::Newest | PostSort::Oldest => CursorKey::Time(post.created_at),
            PostSort::UpdatedDesc | PostSort::UpdatedAsc => CursorKey::Time(post.updated_at),
            PostSort::TitleAsc | PostSort::TitleDesc => CursorKey::Text(post.title.clone()),
            PostSort::Popular => CursorKey::Number(post.popularity),
            PostSort::Relevance => CursorKey::Number(i64::from(rank.to_bits())),
        };
        Cursor {
            tag: self.tag(),
            key,
            id: post.id,
        }
    }
}

/// Filters of a post list. All combine (AND).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PostFilter {
    pub category: Option<Category>,
    pub author_id: Option<Uuid>,
    pub tag: Option<String>,
    /// Web-search syntax over title and content (full-text, ranked by the index).
    pub search: Option<String>,
    /// Whether drafts are included (only for the author or an admin; see [`list_by_author`]).
    pub include_drafts: bool,
}

impl PostFilter {
    /// A filter of published posts, as both doors take it from clients: blank text filters are
    /// no filter, and a tag is compared trimmed.
    pub fn published(
        category: Option<Category>,
        author_id: Option<Uuid>,
        tag: Option<String>,
        search: Option<String>,
    ) -> Self {
        PostFilter {
            category,
            author_id,
            tag: tag.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()),
            search: search.filter(|s| !s.trim().is_empty()),
            include_drafts: false,
        }
    }

    fn check(&self) -> AppResult<()> {
        for (field, value) in [("tag", &self.tag), ("search", &self.search)] {
            if let Some(value) = value {
                check_lookup_text(field, value)?;
            }
        }
        Ok(())
    }
}

type BoxedPosts = posts::BoxedQuery<'static, Pg>;

/// A condition on the columns of `posts`, for a query of posts alone or joined to another table.
type PostCondition<QS> = Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>;

/// The filter's conditions but its search, which each query tests its own way.
fn conditions_but_search<QS>(filter: &PostFilter) -> Vec<PostCondition<QS>>
where
    QS: 'static,
    posts::is_published: SelectableExpression<QS>,
    posts::category: SelectableExpression<QS>,
    posts::author_id: SelectableExpression<QS>,
    posts::tags: SelectableExpression<QS>,
{
    let mut conditions: Vec<PostCondition<QS>> = Vec::new();
    if !filter.include_drafts {
        // The column itself, not `= $1`: a literal condition keeps the page queries' generic
        // plan as cheap as a custom one (see `LiteralLimit`).
        conditions.push(Box::new(posts::is_published));
    }
    if let Some(category) = filter.category {
        conditions.push(Box::new(posts::category.eq(category)));
    }
    if let Some(author_id) = filter.author_id {
        conditions.push(Box::new(posts::author_id.eq(author_id)));
    }
    if let Some(tag) = &filter.tag {
        conditions.push(Box::new(posts::tags.contains(vec![tag.clone()])));
    }
    conditions
}

fn filtered(filter: &PostFilter) -> BoxedPosts {
    let query = conditions_but_search(filter)
        .into_iter()
        .fold(posts::table.into_boxed(), |query, condition| {
            query.filter(condition)
        });
    match &filter.search {
        Some(search) => query.filter(Matches::new(posts::search, search_query(search.clone()))),
        None => query,
    }
}

type BoxedTermMatches = BoxedSelectStatement<
    'static,
    SqlTypeOf<AsSelect<Post, Pg>>,
    FromClause<InnerJoinQuerySource<post_search_terms::table, posts::table>>,
    Pg,
>;

/// The posts matching `filter`, newest first, read off `post_search_terms` when the search is
/// plain words (see the migration that creates it); `None` for other searches and orders, which
/// only the GIN index can answer.
///
/// Only the newest posts holding the search's longest word are read and tested against the whole
/// filter, instead of every post holding it.
fn matches_by_term(
    filter: &PostFilter,
    sort: PostSort,
    cursor: Option<&Cursor>,
    direction: Direction,
) -> Option<BoxedTermMatches> {
    use post_search_terms::{created_at, lexeme, post_id};
    if sort != PostSort::Newest {
        return None;
    }
    let search = filter.search.as_deref().filter(|text| is_plain_words(text))?;
    let mut query = post_search_terms::table
        .inner_join(posts::table)
        .filter(lexeme.nullable().eq(LongestLexeme(search.to_owned())))
        .select(Post::as_select())
        .into_boxed();
    if !filter.include_drafts {
        // Also tested on the post; here so that drafts are skipped inside the index.
        query = query.filter(post_search_terms::is_published);
    }
    for condition in conditions_but_search(filter) {
        query = query.filter(condition);
    }
    // `@@` as a function call: the operator would let the planner start from the GIN index and
    // sort every match (it cannot see the lexeme when it plans, so it misjudges this path).
    query = query.filter(ts_match_vq(
        posts::search,
        EvaluatedOnce(search_query(search.to_owned())),
    ));
    let position = cursor.and_then(Cursor::time_key);
    Some(keyset_page!(query, created_at, post_id, descending: true, position, direction))
}

/// Whether a search text is words and nothing else: no quotes, `-` or `or`, which make
/// `websearch_to_tsquery` build phrases, exclusions and alternatives. Such a search matches only
/// posts holding every one of its words. ASCII only, so that each word is one lexeme.
fn is_plain_words(text: &str) -> bool {
    text.split_whitespace()
        .all(|word| word.bytes().all(|b| b.is_ascii_alphanumeric()) && !word.eq_ignore_ascii_case("or"))
}

/// `query` filtered to the rows beyond `cursor` in `direction` and ordered for reading that way
/// (see [`keyset_page`]); every order breaks ties by id.
fn ordered(query: BoxedPosts, sort: PostSort, cursor: Option<&Cursor>, direction: Direction) -> BoxedPosts {
    use posts::{created_at, id, popularity, title, updated_at};
    // The cursor was decoded for this sort's tag, so its key always has the sort's kind.
    let time = || cursor.and_then(Cursor::time_key);
    let text = || cursor.and_then(Cursor::text_key);
    let number = || cursor.and_then(Cursor::number_key);
    match sort {
        PostSort::Newest => keyset_page!(query, created_at, id, descending: true, time(), direction),
        PostSort::Oldest => keyset_page!(query, created_at, id, descending: false, time(), direction),
        PostSort::UpdatedDesc => keyset_page!(query, updated_at, id, descending: true, time(), direction),
        PostSort::UpdatedAsc => keyset_page!(query, updated_at, id, descending: false, time(), direction),
        PostSort::TitleAsc => keyset_page!(query, title, id, descending: false, text(), direction),
        PostSort::TitleDesc => keyset_page!(query, title, id, descending: true, text(), direction),
        PostSort::Popular => keyset_page!(query, popularity, id, descending: true, number(), direction),
        // Ordered by the rank in list_ranked, which knows the search text.
        PostSort::Relevance => keyset_page!(query, created_at, id, descending: true, time(), direction),
    }
}

/// One keyset page of posts matching `filter`, each with its cursor.
#[tracing::instrument(skip_all, fields(sort = ?sort, limit))]
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &PostFilter,
    sort: PostSort,
    request: &PageRequest,
) -> AppResult<Page<(Post, Cursor)>> {
    filter.check()?;
    let cursor = request.decode_cursor(sort.tag())?;
    let (limit, direction) = (request.size, request.direction);
    // `limit + 1` rows, so that even `first: 0` reads the one row that tells whether more follow.
    let rows: Vec<(Post, f32)> = if sort == PostSort::Relevance {
        list_ranked(conn, filter, limit, cursor.as_ref(), direction).await?
    } else {
        let posts: Vec<Post> = match matches_by_term(filter, sort, cursor.as_ref(), direction) {
            Some(query) => LiteralLimit::new(query, limit + 1).load(conn).await?,
            None => {
                let query =
                    ordered(filtered(filter), sort, cursor.as_ref(), direction).select(Post::as_select());
                LiteralLimit::new(query, limit + 1).load(conn).await?
            }
        };
        posts.into_iter().map(|post| (post, 0.0)).collect()
    };
    let rows = rows
        .into_iter()
        .map(|(post, rank)| {
            let cursor = sort.cursor_of(&post, rank);
            (post, cursor)
        })
        .collect();
    Ok(Page::from_rows(rows, request))
}

/// Published posts matching a search, best match first, with their rank (read in `direction`).
async fn list_ranked(
    conn: &mut AsyncPgConnection,
    filter: &PostFilter,
    limit: i64,
    cursor: Option<&Cursor>,
    direction: Direction,
) -> AppResult<Vec<(Post, f32)>> {
    let Some(text) = filter.search.clone() else {
        return Err(FieldErrors::single(
            "sort",
            "RELEVANCE",
            "Sorting by relevance needs a search",
        ));
    };
    let rank = || ts_rank(posts::search, search_query(text.clone()));
    let position = cursor
        .and_then(Cursor::number_key)
        .map(|(bits, id)| (f32::from_bits(u32::try_from(bits).unwrap_or(0)), id));
    let query = keyset_page!(filtered(filter), rank(), posts::id, descending: true, position, direction);
    Ok(query
        .limit(limit + 1)
        .select((Post::as_select(), rank()))
        .load(conn)
        .await?)
}

/// From this offset on, an offset page starts from a remembered mark (see [`marked_page`]) or,
/// where none can hold, reads its ids first (see [`list_offset`]); below it the plain statement
/// is cheaper (page 1 of 20: 0.04 ms against 0.12 ms for the two steps).
const DEFERRED_FROM_OFFSET: i64 = MARK_EVERY;

/// One offset page of posts (the legacy REST pagination).
pub async fn list_offset(
    conn: &mut AsyncPgConnection,
    marks: &PageMarks,
    filter: &PostFilter,
    sort: PostSort,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<Post>> {
    filter.check()?;
    if let Some(query) = matches_by_term(filter, sort, None, Direction::Forward) {
        return Ok(query.limit(limit).offset(offset).load(conn).await?);
    }
    if offset < DEFERRED_FROM_OFFSET {
        return Ok(ordered(filtered(filter), sort, None, Direction::Forward)
            .limit(limit)
            .offset(offset)
            .select(Post::as_select())
            .load(conn)
            .await?);
    }
    if let Some(page) = marked_page(conn, marks, filter, sort, limit, offset).await? {
        return Ok(page);
    }
    // The page's ids first, off the sort's index alone (an index-only scan steps over `offset`
    // entries without reading a row), then those rows: OFFSET over the rows themselves reads
    // every skipped post from the heap (page 500 of 20 on the benchmark data: 4.1 ms and 2,143
    // buffers, against 2.0 ms and 170 buffers this way).
    let page = ordered(filtered(filter), sort, None, Direction::Forward)
        .select(posts::id)
        .limit(limit)
        .offset(offset);
    let rows = posts::table.filter(posts::id.eq_any(page)).into_boxed();
    Ok(ordered(rows, sort, None, Direction::Forward)
        .select(Post::as_select())
        .load(conn)
        .await?)
}

/// The list of `filter` in `sort` as page marks know it, or `None` when the version does not
/// follow it: a search (its matches change with the content) or an order by counters
/// (popularity moves with views, likes and comments, which leave the version alone by design).
fn marked_list(filter: &PostFilter, sort: PostSort) -> Option<ListKey> {
    let follows = matches!(
        sort,
        PostSort::Newest
            | PostSort::Oldest
            | PostSort::UpdatedDesc
            | PostSort::UpdatedAsc
            | PostSort::TitleAsc
            | PostSort::TitleDesc
    );
    (follows && filter.search.is_none()).then(|| ListKey {
        category: filter.category,
        author_id: filter.author_id,
        tag: filter.tag.clone(),
        include_drafts: filter.include_drafts,
        sort: sort.tag(),
    })
}

/// An offset page read from the mark at or before it (see `page_marks`): the statement seeks to
/// the mark and skips fewer than [`MARK_EVERY`] rows, and holds only while the lists are still at
/// the marks' version. A mark not yet known is read once, from the nearest known one before it.
/// `None` when the list has no marks (see [`marked_list`]) or kept changing under two tries; the
/// caller then pages by offset.
///
/// Measured gain, page 500 of 20 of the benchmark data (wrk, gateway and Postgres on two cores):
/// 2,792-2,984 req/s against 747 by offset (page 1: 3,257-3,974); at 10x data in
/// docs/benchmarks.md. `lists::deep_pages_stay_right_after_every_kind_of_write` and the ordering
/// oracle check its pages against plain SQL.
async fn marked_page(
    conn: &mut AsyncPgConnection,
    marks: &PageMarks,
    filter: &PostFilter,
    sort: PostSort,
    limit: i64,
    offset: i64,
) -> AppResult<Option<Vec<Post>>> {
    let Some(list) = &marked_list(filter, sort) else {
        return Ok(None);
    };
    let position = offset / MARK_EVERY * MARK_EVERY;
    let mut known = marks.known(list, position);
    for _ in 0..2 {
        let Known { version, nearest } = match known.take() {
            Some(known) => known,
            None => {
                let version = list_version(conn).await?;
                marks.start(list, version);
                Known {
                    version,
                    nearest: None,
                }
            }
        };
        let mark = match nearest {
            Some((at, cursor)) if at == position => Some(cursor),
            nearest => {
                let (from, after) = nearest.map_or((0, None), |(at, cursor)| (at, Some(cursor)));
                let row = at_version(
                    ordered(filtered(filter), sort, after.as_ref(), Direction::Forward),
                    version,
                )
                .offset(position - 1 - from)
                .select(Post::as_select())
                .first::<Post>(conn)
                .await
                .optional()?;
                let mark = row.map(|post| sort.cursor_of(&post, 0.0));
                if let Some(mark) = &mark {
                    marks.remember(list, version, position, mark.clone());
                }
                mark
            }
        };
        let rows = match mark {
            Some(mark) => {
                at_version(
                    ordered(filtered(filter), sort, Some(&mark), Direction::Forward),
                    version,
                )
                .offset(offset - position)
                .limit(limit)
                .select(Post::as_select())
                .load(conn)
                .await?
            }
            None => Vec::new(),
        };
        if !rows.is_empty() {
            return Ok(Some(rows));
        }
        // Nothing: the page is past the list's end, or the lists changed since `version` (the
        // version only grows, so an unchanged one now was the one of both statements).
        let now = list_version(conn).await?;
        if now == version {
            return Ok(Some(rows));
        }
        marks.start(list, now);
        known = Some(Known {
            version: now,
            nearest: None,
        });
    }
    Ok(None)
}

/// `query` holding rows only while the post lists are at `version` (an uncorrelated subquery,
/// evaluated once: Postgres's one-time filter).
fn at_version(query: BoxedPosts, version: i64) -> BoxedPosts {
    query.filter(diesel::dsl::exists(
        post_list_version::table.filter(post_list_version::version.eq(version)),
    ))
}

/// The version of the post lists now (migration `post_list_version`).
async fn list_version(conn: &mut AsyncPgConnection) -> AppResult<i64> {
    Ok(post_list_version::table
        .select(post_list_version::version)
        .get_result(conn)
        .await?)
}

/// How many posts match `filter`. The published posts in all, of one category or of one author
/// are read off the totals the database keeps (migration `post_totals`), one row or five; other
/// filters are counted, within what their indexes bound (an author's posts, a tag's, a search's
/// matches).
pub async fn count(conn: &mut AsyncPgConnection, filter: &PostFilter) -> AppResult<i64> {
    filter.check()?;
    let kept = !filter.include_drafts && filter.tag.is_none() && filter.search.is_none();
    Ok(match (kept, filter.category, filter.author_id) {
        (true, None, None) => post_totals::table
            .select(post_totals::published)
            .load::<i64>(conn)
            .await?
            .into_iter()
            .sum(),
        (true, Some(category), None) => post_totals::table
            .find(category)
            .select(post_totals::published)
            .get_result(conn)
            .await
            .optional()?
            .unwrap_or(0),
        (true, None, Some(author_id)) => author_post_totals::table
            .find(author_id)
            .select(author_post_totals::published)
            .get_result(conn)
            .await
            .optional()?
            .unwrap_or(0),
        _ => filtered(filter).count().get_result(conn).await?,
    })
}

/// The posts a viewer may list for one author: drafts only for the author and admins.
pub fn author_filter(viewer: Option<&Viewer>, author_id: Uuid) -> PostFilter {
    PostFilter {
        author_id: Some(author_id),
        include_drafts: viewer.is_some_and(|v| v.sees_private_of(author_id)),
        ..PostFilter::default()
    }
}

/// Published posts by popularity, highest first.
pub async fn popular(conn: &mut AsyncPgConnection, limit: i64) -> AppResult<Vec<Post>> {
    Ok(list(
        conn,
        &PostFilter::default(),
        PostSort::Popular,
        &PageRequest::forward(limit, None),
    )
    .await?
    .items
    .into_iter()
    .map(|(post, _)| post)
    .collect())
}

/// A post as a client names it: by id, or by the slug in its URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostRef<'a> {
    Id(Uuid),
    Slug(&'a str),
}

impl From<Uuid> for PostRef<'_> {
    fn from(id: Uuid) -> Self {
        PostRef::Id(id)
    }
}

impl PostRef<'_> {
    /// The condition that picks the post; `None` for a slug no post can have (slugs are
    /// lowercase ASCII letters, digits and hyphens), which needs no query.
    fn condition<QS>(self) -> Option<PostCondition<QS>>
    where
        QS: 'static,
        posts::id: SelectableExpression<QS>,
        posts::slug: SelectableExpression<QS>,
    {
        match self {
            PostRef::Id(id) => Some(Box::new(posts::id.eq(id))),
            PostRef::Slug(slug) => {
                let possible = !slug.is_empty()
                    && slug.len() <= MAX_SLUG_BYTES
                    && slug
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                possible.then(|| Box::new(posts::slug.eq(slug.to_owned())) as PostCondition<QS>)
            }
        }
    }
}

/// Longest slug the database writes: 80 characters of title, a hyphen and a 32-digit suffix.
const MAX_SLUG_BYTES: usize = 113;

/// Words a reader reads in a minute, for `readingTimeMinutes`.
const WORDS_PER_MINUTE: usize = 200;

/// Minutes to read `content` at [`WORDS_PER_MINUTE`], rounded up, at least 1.
pub fn reading_time_minutes(content: &str) -> i32 {
    let words = content.split_whitespace().count();
    i32::try_from(words.div_ceil(WORDS_PER_MINUTE).max(1)).unwrap_or(i32::MAX)
}

/// [`is_visible`] as a condition on `posts`: `None` when the viewer sees every post (an admin).
pub(crate) fn visible_to<QS>(viewer: Option<&Viewer>) -> Option<PostCondition<QS>>
where
    QS: 'static,
    posts::is_published: SelectableExpression<QS>,
    posts::author_id: SelectableExpression<QS>,
{
    match viewer {
        Some(viewer) if viewer.is_admin() => None,
        Some(viewer) => Some(Box::new(posts::is_published.or(posts::author_id.eq(viewer.id)))),
        None => Some(Box::new(posts::is_published)),
    }
}

/// Whether `viewer` may see `post` (drafts: author and admins only).
pub fn is_visible(post: &Post, viewer: Option<&Viewer>) -> bool {
    post.is_published || viewer.is_some_and(|v| v.sees_private_of(post.author_id))
}

/// A visible post with its author, in one statement (the detail view needs both at once).
pub async fn find_visible_with_author(
    conn: &mut AsyncPgConnection,
    viewer: Option<&Viewer>,
    post: impl Into<PostRef<'_>>,
) -> AppResult<Option<(Post, User)>> {
    let row = find_with_author(conn, post).await?;
    Ok(row.filter(|(post, _)| is_visible(post, viewer)))
}

/// A post with its author, whoever asks (the caller applies [`is_visible`]).
pub async fn find_with_author(
    conn: &mut AsyncPgConnection,
    post: impl Into<PostRef<'_>>,
) -> AppResult<Option<(Post, User)>> {
    let Some(condition) = post.into().condition() else {
        return Ok(None);
    };
    Ok(posts::table
        .inner_join(users::table)
        .filter(condition)
        .select((Post::as_select(), User::as_select()))
        .first::<(Post, User)>(conn)
        .await
        .optional()?)
}

/// Posts by id, in any order (for batch loaders; visibility is the caller's concern).
pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> AppResult<Vec<Post>> {
    Ok(posts::table
        .filter(posts::id.eq_any(ids))
        .select(Post::as_select())
        .load(conn)
        .await?)
}

/// The first `limit + 1` posts of each author, newest first, in one statement (the extra row
/// tells the caller whether more follow); backward, the last `limit + 1` (the extra row comes
/// first), still listed newest first.
pub async fn first_by_authors(
    conn: &mut AsyncPgConnection,
    author_ids: &[Uuid],
    limit: i64,
    include_drafts: bool,
    direction: Direction,
) -> AppResult<Vec<Post>> {
    Ok(match direction {
        Direction::Forward => {
            FirstPostsOfAuthors::<false>::new(author_ids, limit + 1, include_drafts)
                .load(conn)
                .await?
        }
        Direction::Backward => {
            FirstPostsOfAuthors::<true>::new(author_ids, limit + 1, include_drafts)
                .load(conn)
                .await?
        }
    })
}

/// How many posts each author has (drafts included or not), for batch loaders; authors without
/// posts are absent.
pub async fn count_by_authors(
    conn: &mut AsyncPgConnection,
    author_ids: &[Uuid],
    include_drafts: bool,
) -> AppResult<Vec<(Uuid, i64)>> {
    let mut query = posts::table
        .filter(posts::author_id.eq_any(author_ids))
        .group_by(posts::author_id)
        .select((posts::author_id, diesel::dsl::count_star()))
        .into_boxed();
    if !include_drafts {
        query = query.filter(posts::is_published.eq(true));
    }
    Ok(query.load(conn).await?)
}

/// Longest post content accepted, in characters after trimming (a long blog post is a tenth of
/// it). Both doors refuse more, so no answer holds a post larger than this.
pub const MAX_CONTENT_CHARS: usize = 100_000;
/// Shortest post content, in characters after trimming (the legacy model).
pub const MIN_CONTENT_CHARS: usize = 10;
/// Shortest and longest title, in characters after trimming (the legacy model).
pub const MIN_TITLE_CHARS: usize = 5;
pub const MAX_TITLE_CHARS: usize = 200;
/// Most tags on a post, once blank and repeated ones are dropped.
pub const MAX_TAGS: usize = 10;
/// Longest tag, in characters after trimming.
pub const MAX_TAG_CHARS: usize = 50;

/// A new or changed post as a client sent it, before validation.
#[derive(Debug, Clone, Default)]
pub struct PostInput {
    pub title: Option<String>,
    pub content: Option<String>,
    pub category: Option<Category>,
    pub tags: Option<Vec<String>>,
    pub is_published: Option<bool>,
}

/// What a post input is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Create,
    Update,
}

/// A validated post input (only [`PostInput::validate_new`] and
/// [`PostInput::validate_changes`] make one).
#[derive(Debug, Clone)]
pub struct ValidPostInput(PostInput);

impl PostInput {
    /// A new post: title, content and category are required.
    pub fn validate_new(self) -> AppResult<ValidPostInput> {
        self.validate(Purpose::Create)
    }

    /// Changes to a post: only the fields given are checked.
    pub fn validate_changes(self) -> AppResult<ValidPostInput> {
        self.validate(Purpose::Update)
    }

    /// Checks the legacy rules: title 5-200, content 10-100,000 (both trimmed), category required
    /// on create, at most 10 tags of at most 50 characters.
    fn validate(mut self, purpose: Purpose) -> AppResult<ValidPostInput> {
        let creating = purpose == Purpose::Create;
        let mut errors = FieldErrors::new();
        if let Some(title) = self.title.as_mut() {
            *title = title.trim().to_owned();
            if check_no_nul(&mut errors, "title", title)
                && !(MIN_TITLE_CHARS..=MAX_TITLE_CHARS).contains(&char_len(title))
            {
                let message = if title.is_empty() {
                    "Title is required".to_owned()
                } else {
                    format!("Title must be between {MIN_TITLE_CHARS} and {MAX_TITLE_CHARS} characters")
                };
                errors.add("title", title.as_str(), message);
            }
        } else if creating {
            errors.add("title", serde_json::Value::Null, "Title is required");
        }
        if let Some(content) = self.content.as_mut() {
            *content = content.trim().to_owned();
            let length = char_len(content);
            if !check_no_nul(&mut errors, "content", content) {
            } else if length < MIN_CONTENT_CHARS {
                let message = if content.is_empty() {
                    "Content is required".to_owned()
                } else {
                    format!("Content must be at least {MIN_CONTENT_CHARS} characters")
                };
                errors.add("content", content.as_str(), message);
            } else if length > MAX_CONTENT_CHARS {
                errors.add(
                    "content",
                    cut_short(content),
                    format!("Content must be at most {MAX_CONTENT_CHARS} characters (this one has {length})"),
                );
            }
        } else if creating {
            errors.add("content", serde_json::Value::Null, "Content is required");
        }
        if creating && self.category.is_none() {
            errors.add("category", serde_json::Value::Null, "Category is required");
        }
        if let Some(tags) = self.tags.as_mut() {
            tags.iter_mut().for_each(|t| *t = t.trim().to_owned());
            tags.retain(|t| !t.is_empty());
            tags.dedup();
            if tags.len() > MAX_TAGS {
                errors.add("tags", tags.clone(), format!("Maximum {MAX_TAGS} tags allowed"));
            } else if tags
                .iter()
                .any(|t| char_len(t) > MAX_TAG_CHARS || t.contains('\0'))
            {
                errors.add(
                    "tags",
                    tags.clone(),
                    format!("Each tag must be at most {MAX_TAG_CHARS} characters, without NUL"),
                );
            }
        }
        errors.into_result()?;
        Ok(ValidPostInput(self))
    }
}

/// Creates a post by the viewer.
#[tracing::instrument(skip_all, fields(author = %viewer.id))]
pub async fn create(
    conn: &mut AsyncPgConnection,
    events: &EventBus,
    changed: &TagSet,
    viewer: &Viewer,
    input: ValidPostInput,
) -> AppResult<Post> {
    let input = input.0;
    let tags = input.tags.unwrap_or_default();
    let new = NewPost {
        id: Uuid::now_v7(),
        author_id: viewer.id,
        title: input.title.as_deref().unwrap_or_default(),
        content: input.content.as_deref().unwrap_or_default(),
        category: input.category.unwrap_or(Category::Technology),
        tags: &tags,
        is_published: input.is_published.unwrap_or(false),
    };
    let post: Post = diesel::insert_into(posts::table)
        .values(&new)
        .returning(Post::as_returning())
        .get_result(conn)
        .await?;
    // A new post enters the lists and its tags' counts, and its author's post count.
    changed.extend([
        EntityTag::Post(post.id),
        EntityTag::User(post.author_id),
        EntityTag::PostList,
        EntityTag::PostPopular,
        EntityTag::TagList,
    ]);
    if post.is_published {
        announce_published(events, &post).await;
    }
    Ok(post)
}

/// Loads a post for a write by the viewer: someone else's draft reads as missing, someone
/// else's published post is forbidden (unless the viewer is an admin).
async fn load_for_write(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    denial: Denial,
) -> AppResult<Post> {
    let post = posts::table
        .find(id)
        .select(Post::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .filter(|p| is_visible(p, Some(viewer)))
        .ok_or(AppError::NotFound(Resource::Post))?;
    if !viewer.sees_private_of(post.author_id) {
        return Err(AppError::Forbidden(denial));
    }
    Ok(post)
}

#[derive(AsChangeset)]
#[diesel(table_name = posts)]
struct PostChanges {
    title: Option<String>,
    content: Option<String>,
    category: Option<Category>,
    tags: Option<Vec<String>>,
    is_published: Option<bool>,
    updated_at: chrono::DateTime<Utc>,
}

/// Updates a post (author or admin). Publishing a draft announces it to subscribers.
#[tracing::instrument(skip_all, fields(post = %id, viewer = %viewer.id))]
pub async fn update(
    conn: &mut AsyncPgConnection,
    events: &EventBus,
    changed: &TagSet,
    viewer: &Viewer,
    id: Uuid,
    input: ValidPostInput,
) -> AppResult<Post> {
    let input = input.0;
    let (post, published_now) = conn
        .transaction(async move |conn| {
            let before = load_for_write(conn, viewer, id, Denial::UpdatePost).await?;
            let changes = PostChanges {
                title: input.title,
                content: input.content,
                category: input.category,
                tags: input.tags,
                is_published: input.is_published,
                updated_at: Utc::now(),
            };
            let post = diesel::update(posts::table.find(id))
                .set(&changes)
                .returning(Post::as_returning())
                .get_result(conn)
                .await?;
            let published_now = !before.is_published && post.is_published;
            Ok::<_, AppError>((post, published_now))
        })
        .await?;
    // Any field can move it in or out of a list (published, category, tags, search text) or
    // change its place (title, updatedAt).
    changed.extend([
        EntityTag::Post(id),
        EntityTag::PostList,
        EntityTag::PostPopular,
        EntityTag::TagList,
    ]);
    if published_now {
        announce_published(events, &post).await;
    }
    Ok(post)
}

/// Tells `postPublished` subscribers (on every instance) about a newly published post.
async fn announce_published(events: &EventBus, post: &Post) {
    events
        .publish(Event::PostPublished {
            post_id: post.id,
            category: CategoryLabel(post.category),
        })
        .await;
}

/// A post the viewer may see, read inside a write's transaction; an invisible draft reads as
/// missing.
pub async fn find_visible_for_write(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Post> {
    posts::table
        .find(id)
        .select(Post::as_select())
        .first(conn)
        .await
        .optional()?
        .filter(|p| is_visible(p, Some(viewer)))
        .ok_or(AppError::NotFound(Resource::Post))
}

/// Deletes a post (author or admin); its comments and likes go with it.
#[tracing::instrument(skip_all, fields(post = %id, viewer = %viewer.id))]
pub async fn delete(
    conn: &mut AsyncPgConnection,
    changed: &TagSet,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<()> {
    let author = conn
        .transaction(async move |conn| {
            let post = load_for_write(conn, viewer, id, Denial::DeletePost).await?;
            diesel::delete(posts::table.find(id)).execute(conn).await?;
            Ok::<_, AppError>(post.author_id)
        })
        .await?;
    changed.extend([
        EntityTag::Post(id),
        EntityTag::User(author),
        EntityTag::CommentList(id),
        EntityTag::PostList,
        EntityTag::PostPopular,
        EntityTag::TagList,
    ]);
    Ok(())
}

/// Counts one view of a visible post and returns it.
pub async fn record_view(
    conn: &mut AsyncPgConnection,
    viewer: Option<&Viewer>,
    post: impl Into<PostRef<'_>>,
) -> AppResult<Post> {
    let condition = post
        .into()
        .condition()
        .ok_or(AppError::NotFound(Resource::Post))?;
    let mut query = diesel::update(posts::table).filter(condition).into_boxed();
    if let Some(visible) = visible_to(viewer) {
        query = query.filter(visible);
    }
    query
        .set(posts::views.eq(posts::views + 1))
        .returning(Post::as_returning())
        .get_result(conn)
        .await
        .optional()?
        .ok_or(AppError::NotFound(Resource::Post))
}

#[cfg(test)]
mod tests {
    use diesel::debug_query;

    use super::*;

    #[test]
    fn a_list_has_page_marks_only_in_orders_and_filters_the_version_follows() {
        let plain = PostFilter::default();
        assert_eq!(
            marked_list(&plain, PostSort::Newest).map(|l| l.sort),
            Some("newest")
        );
        assert!(marked_list(&plain, PostSort::TitleDesc).is_some());
        assert!(marked_list(&plain, PostSort::Popular).is_none());
        assert!(marked_list(&plain, PostSort::Relevance).is_none());
        let search = PostFilter {
            search: Some("rust".into()),
            ..PostFilter::default()
        };
        assert!(marked_list(&search, PostSort::Newest).is_none());
    }

    /// The page statements of the feed and of plain-word searches keep one generic plan per
    /// connection only while nothing in them but the search text is bound (see `LiteralLimit`).
    #[test]
    fn page_statements_bind_nothing_but_the_search_text() {
        let feed = ordered(
            filtered(&PostFilter::default()),
            PostSort::Newest,
            None,
            Direction::Forward,
        )
        .select(Post::as_select());
        let sql = debug_query::<Pg, _>(&LiteralLimit::new(feed, 21)).to_string();
        assert!(sql.contains(r#"WHERE "posts"."is_published" ORDER BY"#), "{sql}");
        assert!(sql.ends_with("LIMIT 21 -- binds: []"), "{sql}");
        // Other page sizes share the statement of the next size up (the caller cuts the page).
        let feed = ordered(
            filtered(&PostFilter::default()),
            PostSort::Newest,
            None,
            Direction::Forward,
        )
        .select(Post::as_select());
        let sql = debug_query::<Pg, _>(&LiteralLimit::new(feed, 8)).to_string();
        assert!(sql.ends_with("LIMIT 11 -- binds: []"), "{sql}");

        let filter = PostFilter::published(None, None, None, Some("async rust".into()));
        let search = matches_by_term(&filter, PostSort::Newest, None, Direction::Forward).unwrap();
        let sql = debug_query::<Pg, _>(&LiteralLimit::new(search, 21)).to_string();
        assert!(sql.contains("(SELECT websearch_to_tsquery("), "{sql}");
        assert!(
            sql.ends_with(r#"LIMIT 21 -- binds: ["async rust", "async rust"]"#),
            "{sql}"
        );
    }

    #[test]
    fn only_words_without_search_syntax_are_plain() {
        for plain in ["rust", "  Async rust  ", "web3 2024", "ORDER for"] {
            assert!(is_plain_words(plain), "{plain:?}");
        }
        for syntax in [
            "\"async rust\"",
            "rust -async",
            "rust or go",
            "rust OR go",
            "rust-lang",
            "c++",
            "café",
            "o'reilly",
        ] {
            assert!(!is_plain_words(syntax), "{syntax:?}");
        }
    }
}
