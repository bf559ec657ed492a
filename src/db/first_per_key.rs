//! "The first rows of each key" statements for the batch loaders: a LATERAL join over an array of
//! keys, which diesel's query builder cannot express.
//!
//! They are query types rather than `sql_query` text because diesel never keeps `sql_query`
//! statements prepared (it cannot know the text is fixed), so Postgres parsed and planned them
//! again on every batch. A type with a static query id is prepared once per connection by the
//! connection's statement cache.
//!
//! Measured gain: q2 +31 %, q3 +27 %, q4 +27 % req/s gateway-only (`bash bench/run.sh`, same
//! machine state; docs/benchmarks.md, 2026-12-06). The ordering oracle (`cargo test --test it
//! ordering`) checks every page these statements return against plain SQL.

use diesel::dsl::AsSelect;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Uuid as SqlUuid};
use uuid::Uuid;

use super::models::{Comment, Post, UserByline};

/// The first `per_post` comments of each post, oldest first, each with its author's byline (read
/// in the same statement: a page of comments almost always shows who wrote them); with
/// `FROM_END`, the last `per_post` (still listed oldest first). Each direction is its own type,
/// so each is its own prepared statement.
pub struct FirstCommentsOfPosts<'a, const FROM_END: bool> {
    post_ids: &'a [Uuid],
    per_post: i64,
    columns: (AsSelect<Comment, Pg>, AsSelect<UserByline, Pg>),
}

impl<'a, const FROM_END: bool> FirstCommentsOfPosts<'a, FROM_END> {
    pub fn new(post_ids: &'a [Uuid], per_post: i64) -> Self {
        Self {
            post_ids,
            per_post,
            columns: (Comment::as_select(), UserByline::as_select()),
        }
    }
}

impl<const FROM_END: bool> QueryId for FirstCommentsOfPosts<'_, FROM_END> {
    type QueryId = FirstCommentsOfPosts<'static, FROM_END>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<const FROM_END: bool> Query for FirstCommentsOfPosts<'_, FROM_END> {
    type SqlType = (AsSelect<Comment, Pg>, AsSelect<UserByline, Pg>);
}

impl<const FROM_END: bool> QueryFragment<Pg> for FirstCommentsOfPosts<'_, FROM_END> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // The authors are joined outside the per-post subquery, so Postgres looks each author
        // up once (memoized) instead of once per comment of every post.
        out.push_sql("SELECT ");
        self.columns.walk_ast(out.reborrow())?;
        out.push_sql(" FROM unnest(");
        out.push_bind_param::<Array<SqlUuid>, _>(self.post_ids)?;
        out.push_sql(if FROM_END {
            "::uuid[]) AS p(id) CROSS JOIN LATERAL (SELECT * FROM comments WHERE comments.post_id = p.id \
             ORDER BY comments.created_at DESC, comments.id DESC LIMIT "
        } else {
            "::uuid[]) AS p(id) CROSS JOIN LATERAL (SELECT * FROM comments WHERE comments.post_id = p.id \
             ORDER BY comments.created_at, comments.id LIMIT "
        });
        out.push_bind_param::<BigInt, _>(&self.per_post)?;
        // The order inside the subquery does not survive the join (a hash join hands rows out
        // in the users table's order): the page order is stated once more, outside.
        out.push_sql(
            ") comments INNER JOIN users ON users.id = comments.author_id \
             ORDER BY comments.post_id, comments.created_at, comments.id",
        );
        Ok(())
    }
}

/// The first `per_author` posts of each author, newest first, drafts only when asked for; with
/// `FROM_END`, the last `per_author` (the oldest, still listed newest first).
pub struct FirstPostsOfAuthors<'a, const FROM_END: bool> {
    author_ids: &'a [Uuid],
    per_author: i64,
    include_drafts: bool,
    columns: AsSelect<Post, Pg>,
}

impl<'a, const FROM_END: bool> FirstPostsOfAuthors<'a, FROM_END> {
    pub fn new(author_ids: &'a [Uuid], per_author: i64, include_drafts: bool) -> Self {
        Self {
            author_ids,
            per_author,
            include_drafts,
            columns: Post::as_select(),
        }
    }
}

impl<const FROM_END: bool> QueryId for FirstPostsOfAuthors<'_, FROM_END> {
    type QueryId = FirstPostsOfAuthors<'static, FROM_END>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<const FROM_END: bool> Query for FirstPostsOfAuthors<'_, FROM_END> {
    type SqlType = AsSelect<Post, Pg>;
}

impl<const FROM_END: bool> QueryFragment<Pg> for FirstPostsOfAuthors<'_, FROM_END> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT p.* FROM unnest(");
        out.push_bind_param::<Array<SqlUuid>, _>(self.author_ids)?;
        out.push_sql("::uuid[]) AS a(id) CROSS JOIN LATERAL (SELECT ");
        self.columns.walk_ast(out.reborrow())?;
        out.push_sql(" FROM posts WHERE posts.author_id = a.id AND (posts.is_published OR ");
        out.push_bind_param::<Bool, _>(&self.include_drafts)?;
        out.push_sql(if FROM_END {
            ") ORDER BY posts.created_at, posts.id DESC LIMIT "
        } else {
            ") ORDER BY posts.created_at DESC, posts.id LIMIT "
        });
        out.push_bind_param::<BigInt, _>(&self.per_author)?;
        // SQL keeps no order that is not asked for at the outermost level.
        out.push_sql(") p ORDER BY p.author_id, p.created_at DESC, p.id");
        Ok(())
    }
}
