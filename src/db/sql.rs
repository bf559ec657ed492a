//! Postgres full-text search pieces the query builder lacks.

use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::pg::Pg;
use diesel::sql_types::Text;

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
    /// Rank of a document for a query (higher is better).
    fn ts_rank(document: Tsvector, query: Tsquery) -> diesel::sql_types::Float;
}

/// The configuration the `posts.search` column is built with (see the posts migration).
pub fn english() -> SqlLiteral<Regconfig> {
    sql::<Regconfig>("'english'::regconfig")
}

/// `websearch_to_tsquery('english', $1)`, the search text bound as a parameter.
pub fn search_query(text: String) -> websearch_to_tsquery<SqlLiteral<Regconfig>, String> {
    websearch_to_tsquery(english(), text)
}
