//! Postgres pieces the query builder lacks: full-text search and page limits written into the
//! statement.

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::Text;
use diesel::{QueryResult, expression::is_aggregate};

use super::schema::sql_types::Tsvector;

/// The `tsquery` type produced by `websearch_to_tsquery`.
#[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
#[diesel(postgres_type(name = "tsquery", schema = "pg_catalog"))]
pub struct Tsquery;

/// A text-search configuration name.
#[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
#[diesel(postgres_type(name = "regconfig", schema = "pg_catalog"))]
pub struct Regconfig;

diesel::infix_operator!(Matches, " @@ ", backend: Pg);

diesel::define_sql_function! {
    /// Parses web-search syntax (`"quoted phrase" -excluded or`) into a tsquery.
    fn websearch_to_tsquery(config: Regconfig, query: Text) -> Tsquery;
}

diesel::define_sql_function! {
    /// `document @@ query` as a function call, which the planner never answers from an index.
    fn ts_match_vq(document: Tsvector, query: Tsquery) -> diesel::sql_types::Bool;
}

diesel::define_sql_function! {
    /// What a username is compared by: NFKC, then case folded (the users migration of look-alike
    /// names defines it), so `Admin` and `ａdmin` are the name `admin`.
    fn username_key(name: Text) -> Text;
}

diesel::define_sql_function! {
    /// Rank of a document for a query (higher is better).
    fn ts_rank(document: Tsvector, query: Tsquery) -> diesel::sql_types::Float;
}

/// The configuration the `posts.search` column is built with (see the posts migration).
///
/// A constant of its own rather than a `sql` literal: diesel never keeps a statement with a literal
/// prepared, so every search was parsed and planned again.
#[derive(Debug, Clone, Copy, QueryId)]
pub struct English;

impl Expression for English {
    type SqlType = Regconfig;
}

impl QueryFragment<Pg> for English {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("'english'::regconfig");
        Ok(())
    }
}

impl<QS> AppearsOnTable<QS> for English {}
impl<QS> SelectableExpression<QS> for English {}
impl<GB> ValidGrouping<GB> for English {
    type IsAggregate = is_aggregate::Never;
}

/// `websearch_to_tsquery('english', $1)`, the search text bound as a parameter.
pub fn search_query(text: String) -> websearch_to_tsquery<English, String> {
    websearch_to_tsquery(English, text)
}

/// The longest word of a search text, as `posts.search` stores it (stemmed, lower case), or
/// NULL when every word is a stop word: `(SELECT lexeme FROM unnest(tsvector_to_array(
/// to_tsvector('english', $1))) ... LIMIT 1)`.
///
/// A search of plain words matches only posts holding every one of them, so any of its words can
/// drive the scan of `post_search_terms`; the longest is the likeliest to be rare.
#[derive(Debug, Clone, QueryId)]
pub struct LongestLexeme(pub String);

impl Expression for LongestLexeme {
    type SqlType = diesel::sql_types::Nullable<Text>;
}

impl QueryFragment<Pg> for LongestLexeme {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("(SELECT term.lexeme FROM unnest(tsvector_to_array(to_tsvector(");
        English.walk_ast(out.reborrow())?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.0)?;
        out.push_sql("))) AS term (lexeme) ORDER BY length(term.lexeme) DESC, term.lexeme LIMIT 1)");
        Ok(())
    }
}

impl<QS> AppearsOnTable<QS> for LongestLexeme {}
impl<QS> SelectableExpression<QS> for LongestLexeme {}
impl<GB> ValidGrouping<GB> for LongestLexeme {
    type IsAggregate = is_aggregate::Never;
}

/// `(SELECT expression)`: a value computed once per statement (an InitPlan) instead of for every
/// row it is compared with.
///
/// It also keeps generic plans as cheap as custom ones: a custom plan folds a call on bound
/// values into a constant, a generic plan would evaluate it per row, and Postgres, seeing the
/// generic plan dearer, planned such statements again on every call.
#[derive(Debug, Clone, QueryId)]
pub struct EvaluatedOnce<E>(pub E);

impl<E: Expression> Expression for EvaluatedOnce<E> {
    type SqlType = E::SqlType;
}

impl<E: QueryFragment<Pg>> QueryFragment<Pg> for EvaluatedOnce<E> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("(SELECT ");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

impl<E, QS> AppearsOnTable<QS> for EvaluatedOnce<E> where E: AppearsOnTable<()> {}
impl<E, QS> SelectableExpression<QS> for EvaluatedOnce<E> where E: SelectableExpression<()> {}
impl<E, GB> ValidGrouping<GB> for EvaluatedOnce<E> {
    type IsAggregate = is_aggregate::Never;
}

/// `query LIMIT n` with `n` written into the statement rather than bound.
///
/// With the limit bound, Postgres cannot tell a generic plan of a page query how many rows it
/// stops after, prices it for a tenth of the table, and so plans the statement again on every
/// call (custom plans): half of a feed page's and 60 % of a search's Postgres time was planning.
/// Written in, the page queries (whose other conditions are literals or shaped alike for every
/// value) keep one generic plan per connection. `n` is an `i64` formatted by Rust, never text
/// from a client.
///
/// Every distinct `n` is a statement of its own, prepared on each pooled connection, and clients
/// choose page sizes: so `n` is rounded up to one of [`LIMIT_SIZES`] and the statement may return
/// more rows than asked for; the caller cuts its page (as `Page::from_rows` does). `query`
/// must end with its ORDER BY (no LIMIT, locking clause or set operation of its own).
pub struct LiteralLimit<Q> {
    query: Q,
    limit: i64,
}

/// The limits a page statement is written with: page sizes of 5, 10, 20, 50 and 100 plus the
/// row that tells whether more follow fetch exactly what they need.
pub const LIMIT_SIZES: [i64; 5] = [6, 11, 21, 51, 101];

impl<Q> LiteralLimit<Q> {
    pub fn new(query: Q, limit: i64) -> Self {
        let limit = LIMIT_SIZES
            .into_iter()
            .find(|size| *size >= limit)
            .unwrap_or(limit);
        Self { query, limit }
    }
}

impl<Q: Query> Query for LiteralLimit<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> QueryId for LiteralLimit<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for LiteralLimit<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(" LIMIT ");
        out.push_sql(&self.limit.to_string());
        Ok(())
    }
}
