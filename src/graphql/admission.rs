//! Admitting an operation before it runs (`prepare`, called by the pipeline for both
//! transports, not an async-graphql extension: an extension would wrap every field resolution):
//! the static limits (depth, cost, aliases, fields, introspection, counted through fragments),
//! the charge of its cost to the caller's rate limit, and whether it is a write that empties the
//! response cache. The cost model: every object counts 1, a list or connection multiplies its
//! items' cost by its size argument (or its default), scalars count 0, introspection has a fixed
//! cost. The cost is reported in `extensions.cost`.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Name, Value, Variables};

use crate::domain::page::{DEFAULT_PAGE_SIZE, DEFAULT_POPULAR_SIZE};
use crate::error::{AppError, Limit};
use crate::ratelimit::{Decision, Quota};
use crate::state::AppState;

/// How a sized field holds its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A connection: its `nodes` or `edges` are the items, also inside its fragments.
    Connection,
    /// A plain list: the field's own selection is one item.
    List,
}

/// Fields whose items are multiplied by a size argument, with the argument and its default
/// (the schema's, the same constants the resolvers declare). A list argument counts its
/// entries (`nodes(ids:)`).
const SIZED_FIELDS: &[(&str, &str, u64, Shape)] = &[
    ("posts", "first", DEFAULT_PAGE_SIZE as u64, Shape::Connection),
    ("comments", "first", DEFAULT_PAGE_SIZE as u64, Shape::Connection),
    ("users", "first", DEFAULT_PAGE_SIZE as u64, Shape::Connection),
    ("likedPosts", "first", DEFAULT_PAGE_SIZE as u64, Shape::Connection),
    ("tags", "first", DEFAULT_PAGE_SIZE as u64, Shape::Connection),
    ("popularPosts", "limit", DEFAULT_POPULAR_SIZE as u64, Shape::List),
    ("nodes", "ids", 1, Shape::List),
    ("_entities", "representations", 1, Shape::List),
];

/// Most representations one `_entities` call may resolve (Apollo Federation routers batch the
/// entities of one query plan step into one call).
pub const MAX_ENTITY_REPRESENTATIONS: u32 = 100;

/// What introspecting the whole schema costs (about the objects the standard introspection
/// query returns here): 100 aliased `__schema`s built 9 MB at cost 0 before.
const SCHEMA_INTROSPECTION_COST: u64 = 1_000;
/// What introspecting one type costs.
const TYPE_INTROSPECTION_COST: u64 = 50;

/// Wrappers inside a connection whose children are the items.
const CONNECTION_ITEMS: &[&str] = &["nodes", "edges"];

/// The configured ceilings.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: u32,
    pub max_cost: u32,
    pub max_aliases: u32,
    pub max_fields: u32,
    pub introspection: bool,
}

/// What the analysis found in one document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Analysis {
    pub depth: u32,
    pub cost: u64,
    pub aliases: u32,
    pub root_fields: u32,
    /// Fields selected once fragments are expanded (a fragment spread twice counts twice).
    pub fields: u64,
    /// Whether `__schema` or `__type` is selected anywhere.
    pub introspects: bool,
    /// Representations passed to `_entities`, all its selections together.
    pub representations: u64,
}

impl Analysis {
    /// Adds a sibling selection's figures: costs, aliases and fields add up, the depth is the
    /// deepest.
    fn absorb(&mut self, part: Analysis) {
        self.cost = self.cost.saturating_add(part.cost);
        self.depth = self.depth.max(part.depth);
        self.aliases = self.aliases.saturating_add(part.aliases);
        self.fields = self.fields.saturating_add(part.fields);
        self.introspects |= part.introspects;
        self.representations = self.representations.saturating_add(part.representations);
    }
}

/// What the checks before execution found about one operation: the facts the pipeline and the
/// transports need afterwards, and the refusal to answer instead of running it, if any.
#[derive(Debug, Default)]
pub struct Admission {
    /// The document's cost (`None` when it did not parse: execution reports that).
    pub cost: Option<u64>,
    /// Whether the operation is a mutation (its reads go to the primary).
    pub mutation: bool,
    /// The rate-limit charge, when limits are on and the document passed the static limits.
    pub rate_limit: Option<(Decision, Quota)>,
    /// Why the operation must not run.
    pub refusal: Option<AppError>,
}

/// The operation a request runs: by name, or the only one.
pub fn selected_operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a async_graphql::Positioned<async_graphql::parser::types::OperationDefinition>> {
    document
        .operations
        .iter()
        .find(|(name, _)| match (operation_name, name) {
            (Some(wanted), Some(name)) => wanted == name.as_str(),
            (None, _) => true,
            (Some(_), None) => false,
        })
        .map(|(_, operation)| operation)
}

/// Whom a request's cost is charged to: the user, or the client IP when anonymous.
pub struct RateLimitKey(pub String);

/// Charges the cost of a document to its caller before anything runs (`None` when rate limits
/// are off).
async fn charge(state: &AppState, key: &RateLimitKey, points: u32) -> Option<(Decision, Quota)> {
    let limiter = state.limiter()?;
    let quota = state.graphql_quota();
    Some((limiter.charge(&key.0, quota, points).await, quota))
}

struct Walker<'a> {
    fragments: &'a HashMap<Name, async_graphql::Positioned<FragmentDefinition>>,
    variables: &'a Variables,
    memo: HashMap<Name, Analysis>,
    /// Fragments spread directly inside a connection, by name and page size.
    connection_memo: HashMap<(Name, u64), Analysis>,
    in_progress: Vec<Name>,
}

impl Walker<'_> {
    fn size_argument(
        &self,
        field: &async_graphql::parser::types::Field,
        argument: &str,
        default: u64,
    ) -> u64 {
        // A negative, non-numeric or out-of-range size is rejected later by validation; count
        // the default.
        self.given_size(field, argument).unwrap_or(default)
    }

    /// The size an argument gives, when the document (or a variable) gives one.
    fn given_size(&self, field: &async_graphql::parser::types::Field, argument: &str) -> Option<u64> {
        let value = field
            .arguments
            .iter()
            .find(|(name, _)| name.node.as_str() == argument)
            .map(|(_, value)| &value.node);
        value
            .and_then(|v| {
                v.clone()
                    .into_const_with(|name| self.variables.get(&name).cloned().ok_or(()))
                    .ok()
            })
            .and_then(|v| match v {
                // Past 32 bits the value is no Int: variable coercion refuses the request.
                Value::Number(n) => n.as_u64().filter(|&n| n <= i32::MAX as u64),
                Value::List(items) => Some(items.len() as u64),
                _ => None,
            })
    }

    /// Cost and depth of a selection set whose objects are each counted by the caller.
    fn selection_set(&mut self, set: &SelectionSet) -> Analysis {
        let mut total = Analysis::default();
        for selection in &set.items {
            let part = match &selection.node {
                Selection::Field(field) => self.field(&field.node),
                Selection::InlineFragment(fragment) => self.selection_set(&fragment.node.selection_set.node),
                Selection::FragmentSpread(spread) => self.fragment(&spread.node.fragment_name.node),
            };
            total.absorb(part);
        }
        total
    }

    fn fragment(&mut self, name: &Name) -> Analysis {
        if let Some(known) = self.memo.get(name) {
            return *known;
        }
        // A cycle is invalid and validation will say so; count it as nothing here.
        if self.in_progress.contains(name) {
            return Analysis::default();
        }
        let Some(definition) = self.fragments.get(name) else {
            return Analysis::default();
        };
        self.in_progress.push(name.clone());
        let result = self.selection_set(&definition.node.selection_set.node);
        self.in_progress.pop();
        self.memo.insert(name.clone(), result);
        result
    }

    fn field(&mut self, field: &async_graphql::parser::types::Field) -> Analysis {
        let name = field.name.node.as_str();
        let aliases = u32::from(field.alias.is_some());
        // Federation's `_service { sdl }` is the whole schema: introspection by another name.
        if name.starts_with("__") || name == "_service" {
            let inner = self.selection_set(&field.selection_set.node);
            return Analysis {
                depth: inner.depth + 1,
                cost: match name {
                    "__schema" | "_service" => SCHEMA_INTROSPECTION_COST,
                    "__type" => TYPE_INTROSPECTION_COST,
                    _ => 0,
                },
                aliases: inner.aliases + aliases,
                root_fields: 0,
                fields: inner.fields.saturating_add(1),
                introspects: name != "__typename",
                representations: 0,
            };
        }
        if field.selection_set.node.items.is_empty() {
            return Analysis {
                depth: 1,
                aliases,
                fields: 1,
                ..Analysis::default()
            };
        }
        let sized = SIZED_FIELDS.iter().find(|(field_name, ..)| *field_name == name);
        let mut result = Analysis {
            aliases,
            fields: 1,
            ..Analysis::default()
        };
        match sized {
            Some((_, argument, default, Shape::Connection)) => {
                // A backward page is `last` items (with a `first` too it is refused; the larger
                // counts).
                let size = match self.given_size(field, "last") {
                    Some(last) => last.max(self.given_size(field, argument).unwrap_or(0)),
                    None => self.size_argument(field, argument, *default),
                };
                result.absorb(self.connection_set(&field.selection_set.node, size));
                result.depth += 1;
            }
            Some((_, argument, default, Shape::List)) => {
                let size = self.size_argument(field, argument, *default);
                let inner = self.selection_set(&field.selection_set.node);
                if name == "_entities" {
                    result.representations = size;
                }
                result.cost = inner.cost.saturating_add(1).saturating_mul(size);
                result.depth = inner.depth + 1;
                result.aliases += inner.aliases;
                result.fields = result.fields.saturating_add(inner.fields);
                result.introspects = inner.introspects;
            }
            None => {
                let inner = self.selection_set(&field.selection_set.node);
                result.cost = inner.cost.saturating_add(1);
                result.depth = inner.depth + 1;
                result.aliases += inner.aliases;
                result.fields = result.fields.saturating_add(inner.fields);
                result.introspects = inner.introspects;
            }
        }
        result
    }

    /// The selection of a connection of `size` items: its `nodes` or `edges` are multiplied by
    /// the size wherever they are selected, directly or through the connection's fragments.
    fn connection_set(&mut self, set: &SelectionSet, size: u64) -> Analysis {
        let mut total = Analysis::default();
        for selection in &set.items {
            let part = match &selection.node {
                Selection::Field(child) if CONNECTION_ITEMS.contains(&child.node.name.node.as_str()) => {
                    let items = self.items(&child.node);
                    Analysis {
                        cost: items.cost.saturating_mul(size),
                        ..items
                    }
                }
                Selection::Field(child) => self.field(&child.node),
                Selection::InlineFragment(fragment) => {
                    self.connection_set(&fragment.node.selection_set.node, size)
                }
                Selection::FragmentSpread(spread) => {
                    self.connection_fragment(&spread.node.fragment_name.node, size)
                }
            };
            total.absorb(part);
        }
        total
    }

    /// A fragment spread directly inside a connection (see [`Self::fragment`]).
    fn connection_fragment(&mut self, name: &Name, size: u64) -> Analysis {
        let key = (name.clone(), size);
        if let Some(known) = self.connection_memo.get(&key) {
            return *known;
        }
        if self.in_progress.contains(name) {
            return Analysis::default();
        }
        let Some(definition) = self.fragments.get(name) else {
            return Analysis::default();
        };
        self.in_progress.push(name.clone());
        let result = self.connection_set(&definition.node.selection_set.node, size);
        self.in_progress.pop();
        self.connection_memo.insert(key, result);
        result
    }

    /// The per-item cost of a connection's `nodes` or `edges` field.
    fn items(&mut self, wrapper: &async_graphql::parser::types::Field) -> Analysis {
        let inner = if wrapper.name.node.as_str() == "edges" {
            // edges { cursor node { ... } }: the node is the object.
            self.selection_set(&wrapper.selection_set.node)
        } else {
            let inner = self.selection_set(&wrapper.selection_set.node);
            Analysis {
                cost: inner.cost.saturating_add(1),
                ..inner
            }
        };
        Analysis {
            depth: inner.depth + 1,
            aliases: inner.aliases + u32::from(wrapper.alias.is_some()),
            root_fields: 0,
            fields: inner.fields.saturating_add(1),
            ..inner
        }
    }
}

/// Analyses every operation of a document; the largest figures count.
pub fn analyze(document: &ExecutableDocument, variables: &Variables) -> Analysis {
    let mut worst = Analysis::default();
    for (_, operation) in document.operations.iter() {
        // Sizes are costed with the values execution will use: a variable sent, else the
        // operation's own default (a `null` sent costs the schema's default, which it runs with).
        // Copied only when a default fills in (most requests send what they declare).
        let mut effective = std::borrow::Cow::Borrowed(variables);
        for definition in &operation.node.variable_definitions {
            let name = &definition.node.name.node;
            if let (false, Some(default)) = (variables.contains_key(name), definition.node.default_value()) {
                effective.to_mut().insert(name.clone(), default.clone());
            }
        }
        // Fragment costs depend on the variables: one memo per operation.
        let mut walker = Walker {
            fragments: &document.fragments,
            variables: effective.as_ref(),
            memo: HashMap::new(),
            connection_memo: HashMap::new(),
            in_progress: Vec::new(),
        };
        let set = &operation.node.selection_set.node;
        let mut analysis = walker.selection_set(set);
        analysis.root_fields = u32::try_from(set.items.len()).unwrap_or(u32::MAX);
        worst.depth = worst.depth.max(analysis.depth);
        worst.cost = worst.cost.max(analysis.cost);
        worst.aliases = worst.aliases.max(analysis.aliases);
        worst.root_fields = worst.root_fields.max(analysis.root_fields);
        worst.fields = worst.fields.max(analysis.fields);
        worst.introspects |= analysis.introspects;
        worst.representations = worst.representations.max(analysis.representations);
    }
    worst
}

impl Limits {
    /// Checks an analysis against the limits, with a message that says what to change.
    pub fn check(&self, analysis: &Analysis) -> Result<(), AppError> {
        let exceeded = |limit, value, max| Err(AppError::LimitExceeded { limit, value, max });
        if analysis.depth > self.max_depth {
            return exceeded(Limit::Depth, u64::from(analysis.depth), self.max_depth);
        }
        if analysis.cost > u64::from(self.max_cost) {
            return exceeded(Limit::Cost, analysis.cost, self.max_cost);
        }
        if analysis.introspects && !self.introspection {
            return exceeded(Limit::Introspection, 1, 0);
        }
        let aliases = analysis.aliases.max(analysis.root_fields);
        if aliases > self.max_aliases {
            return exceeded(Limit::Aliases, u64::from(aliases), self.max_aliases);
        }
        if analysis.fields > u64::from(self.max_fields) {
            return exceeded(Limit::Fields, analysis.fields, self.max_fields);
        }
        if analysis.representations > u64::from(MAX_ENTITY_REPRESENTATIONS) {
            return exceeded(
                Limit::Representations,
                analysis.representations,
                MAX_ENTITY_REPRESENTATIONS,
            );
        }
        Ok(())
    }
}

impl Limits {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Limits {
            max_depth: config.graphql_max_depth,
            max_cost: config.graphql_max_cost,
            max_aliases: config.graphql_max_aliases,
            max_fields: config.graphql_max_fields,
            introspection: config.graphql_introspection,
        }
    }
}

/// Everything checked before a request runs, in order: the document parses (else execution
/// reports the parse error), depth, cost, aliases, fields, introspection, and the caller's
/// rate-limit budget. Variable values (a required one missing, one that does not fit its type)
/// are checked by validation (the patched `VariableValuesOfCorrectType`), once.
pub async fn prepare(
    state: &AppState,
    request: &mut async_graphql::Request,
    key: &RateLimitKey,
) -> Admission {
    // The document is read while the variables and operation name are lent out (no copy of
    // either per request: `parsed_query` borrows the whole request).
    let variables = std::mem::take(&mut request.variables);
    let operation_name = request.operation_name.take();
    let found = request.parsed_query().ok().map(|document| {
        (
            analyze(document, &variables),
            selected_operation(document, operation_name.as_deref()).is_some_and(|operation| {
                operation.node.ty == async_graphql::parser::types::OperationType::Mutation
            }),
        )
    });
    request.variables = variables;
    request.operation_name = operation_name;
    let Some((analysis, mutation)) = found else {
        return Admission::default();
    };
    let mut admission = Admission {
        cost: Some(analysis.cost),
        mutation,
        ..Admission::default()
    };
    if let Err(refusal) = Limits::from_config(state.config()).check(&analysis) {
        admission.refusal = Some(refusal);
        return admission;
    }
    let points = u32::try_from(analysis.cost.max(1)).unwrap_or(u32::MAX);
    admission.rate_limit = charge(state, key, points).await;
    if let Some((decision, quota)) = admission.rate_limit.filter(|(decision, _)| !decision.allowed) {
        admission.refusal = Some(AppError::CostRateLimited {
            retry_after: decision.retry_after,
            points,
            budget: quota.limit,
        });
    }
    admission
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost_of(query: &str) -> Analysis {
        analyze(
            &async_graphql::parser::parse_query(query).unwrap(),
            &Variables::default(),
        )
    }

    #[test]
    fn the_benchmark_documents_cost_what_the_readme_says() {
        let nested = cost_of(
            "{ posts(first: 50) { nodes { id title author { username } comments(first: 5) { nodes { id content author { username } } } } } }",
        );
        assert_eq!(nested.cost, 600);
        let feed = cost_of("{ posts(first: 20) { nodes { id author { id } } pageInfo { hasNextPage } } }");
        assert_eq!(feed.cost, 41);
        let popular = cost_of("{ popularPosts(limit: 10) { id author { username } } }");
        assert_eq!(popular.cost, 20);
        let defaults = cost_of("{ posts { edges { cursor node { id } } } }");
        assert_eq!(defaults.cost, 20);
    }

    #[test]
    fn a_connections_items_cost_the_same_inside_a_fragment() {
        let plain = cost_of("{ posts(first: 50) { nodes { id author { id } } } }");
        assert_eq!(plain.cost, 100);
        let edges = cost_of("{ posts(first: 50) { edges { node { id author { id } } } } }");
        assert_eq!(edges.cost, 100);
        for (hidden, same_as) in [
            (
                "{ posts(first: 50) { ...on PostConnection { nodes { id author { id } } } } }",
                plain,
            ),
            (
                "{ posts(first: 50) { ...C } } fragment C on PostConnection { nodes { id author { id } } }",
                plain,
            ),
            (
                "{ posts(first: 50) { ...C } } fragment C on PostConnection { ...D } \
                 fragment D on PostConnection { edges { node { id author { id } } } }",
                edges,
            ),
        ] {
            let analysis = cost_of(hidden);
            assert_eq!(analysis.cost, same_as.cost, "{hidden}");
            assert_eq!(analysis.depth, same_as.depth, "{hidden}");
        }
        // A fragment spread both inside and outside a connection counts as each.
        let both = cost_of(
            "{ posts(first: 10) { ...C } users(first: 10) { nodes { posts(first: 5) { ...C } } } } \
             fragment C on PostConnection { nodes { id } }",
        );
        assert_eq!(both.cost, 10 + 10 * (1 + 5));
    }

    #[test]
    fn nodes_cost_their_number_of_ids() {
        assert_eq!(cost_of(r#"{ nodes(ids: ["a", "b", "c"]) { id } }"#).cost, 3);
        assert_eq!(
            cost_of(r#"{ nodes(ids: ["a", "b"]) { ... on Post { author { id } } } }"#).cost,
            4
        );
        assert_eq!(cost_of(r#"{ node(id: "a") { id } }"#).cost, 1);
        assert_eq!(
            cost_of("{ me { likedPosts(first: 30) { nodes { id } } } }").cost,
            31
        );
        let doc =
            async_graphql::parser::parse_query("query($ids: [ID!]!) { nodes(ids: $ids) { id } }").unwrap();
        let variables = Variables::from_json(serde_json::json!({ "ids": vec!["x"; 40] }));
        assert_eq!(analyze(&doc, &variables).cost, 40);
    }

    #[test]
    fn backward_pages_cost_their_last() {
        assert_eq!(cost_of("{ posts(last: 5) { nodes { id } } }").cost, 5);
        assert_eq!(
            cost_of("{ posts(last: 50, first: 10) { nodes { id } } }").cost,
            50
        );
        assert_eq!(cost_of("{ posts(first: 10, last: 3) { nodes { id } } }").cost, 10);
        assert_eq!(
            cost_of("{ posts(last: 10) { nodes { comments(last: 10) { nodes { id } } } } }").cost,
            10 * (1 + 10)
        );
    }

    #[test]
    fn fragments_count_and_depth_follows_them() {
        let query = "query { posts(first: 10) { nodes { ...P } } } fragment P on Post { author { posts(first: 10) { nodes { id } } } }";
        let analysis = cost_of(query);
        assert_eq!(analysis.cost, 10 * (1 + 1 + 10));
        assert_eq!(analysis.depth, 6);
    }

    #[test]
    fn variables_size_lists() {
        let doc = async_graphql::parser::parse_query("query($n: Int) { posts(first: $n) { nodes { id } } }")
            .unwrap();
        let vars = Variables::from_json(serde_json::json!({ "n": 7 }));
        assert_eq!(analyze(&doc, &vars).cost, 7);
    }

    /// Issue 18, item 2: a variable that is not sent was costed at the schema's default (20)
    /// while execution used the operation's own (100): 8,841 points for 571,787 objects.
    #[test]
    fn a_variable_not_sent_is_costed_at_the_operations_default() {
        let doc = async_graphql::parser::parse_query(
            "query D($n: Int = 100, $p: ID!) { post(id: $p) { comments(first: $n) { nodes { post { \
             comments(first: $n) { nodes { post { comments(first: $n) { nodes { id } } } } } } } } } }",
        )
        .unwrap();
        let vars = Variables::from_json(serde_json::json!({ "p": "x" }));
        assert_eq!(analyze(&doc, &vars).cost, 1 + 100 * (2 + 100 * (2 + 100)));
        // Sent, the value counts; sent as null, the schema's default (what execution runs with).
        let sent = Variables::from_json(serde_json::json!({ "p": "x", "n": 2 }));
        assert_eq!(analyze(&doc, &sent).cost, 1 + 2 * (2 + 2 * (2 + 2)));
        let null = Variables::from_json(serde_json::json!({ "p": "x", "n": null }));
        assert_eq!(analyze(&doc, &null).cost, 1 + 20 * (2 + 20 * (2 + 20)));
    }

    /// Issue 18, item 4: 24 levels of fragments spreading the next twice selected 2^24
    /// `__typename`s, cost 0; validation expanded them all (4.7 s and 3.36 GB per request).
    #[test]
    fn fields_count_every_expansion_of_a_fragment() {
        let mut query = String::from("query Q { ...F0 }");
        for level in 0..23 {
            query.push_str(&format!(
                " fragment F{level} on Query {{ ...F{n} ...F{n} }}",
                n = level + 1
            ));
        }
        query.push_str(" fragment F23 on Query { __typename }");
        let analysis = cost_of(&query);
        assert_eq!(analysis.fields, 1 << 23);
        assert_eq!(analysis.cost, 0);
        assert_eq!(cost_of("{ posts(first: 5) { nodes { id title } } }").fields, 4);
    }

    /// Issue 18, item 11: introspection cost nothing, so 100 aliased `__schema`s passed.
    #[test]
    fn introspection_has_a_cost() {
        assert_eq!(
            cost_of("{ __schema { types { name } } }").cost,
            SCHEMA_INTROSPECTION_COST
        );
        assert_eq!(
            cost_of(r#"{ __type(name: "Post") { name } }"#).cost,
            TYPE_INTROSPECTION_COST
        );
        assert_eq!(cost_of("{ __typename }").cost, 0);
        let aliased = (0..100)
            .map(|i| format!("a{i}: __schema {{ types {{ name }} }}"))
            .collect::<Vec<_>>();
        assert_eq!(
            cost_of(&format!("{{ {} }}", aliased.join(" "))).cost,
            100 * SCHEMA_INTROSPECTION_COST
        );
    }

    #[test]
    fn aliases_are_counted() {
        let analysis = cost_of("{ a: me { id } b: me { id } c: me { id } }");
        assert_eq!(analysis.aliases, 3);
        assert_eq!(analysis.root_fields, 3);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever parses is analysed without panicking, and nesting adds depth.
        #[test]
        fn analysis_never_panics(query in "[{}a-z ():$0-9\"#.,!@]{0,120}") {
            if let Ok(document) = async_graphql::parser::parse_query(&query) {
                let _ = analyze(&document, &Variables::default());
            }
        }

        #[test]
        fn depth_counts_every_level(levels in 1usize..40) {
            let query = format!("{}{}", "{ a ".repeat(levels), "}".repeat(levels));
            let document = async_graphql::parser::parse_query(&query).unwrap();
            prop_assert_eq!(analyze(&document, &Variables::default()).depth as usize, levels);
        }
    }
}
