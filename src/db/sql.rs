//! Postgres full-text search pieces the query builder lacks.

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
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
