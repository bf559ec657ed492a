//! Randomized documents: valid queries generated from `schema.graphql` (nesting, aliases, inline
//! and named fragments, variables with and without defaults, `@skip`/`@include`, bad ids, bad
//! cursors and out-of-range sizes), a fixed seed and a bounded count. Every answer goes through
//! the response checker (the shared helpers run it) and none is a 5xx. `RANDOM_DOCUMENTS_SEED`
//! and `RANDOM_DOCUMENTS_COUNT` replace the seed and the count; a failure prints the seed.

use std::collections::HashMap;

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use blog_gateway::db::models::Role;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use crate::common::TestApp;

struct Field {
    name: String,
    arguments: Vec<(String, Type)>,
    ty: Type,
}

enum Kind {
    Object(Vec<Field>),
    Enum(Vec<String>),
    Other,
}

/// The schema as the generator needs it, read from `schema.graphql`.
fn types() -> HashMap<String, Kind> {
    let sdl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    let document = async_graphql::parser::parse_schema(&sdl).unwrap();
    let mut types = HashMap::new();
    for definition in document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let kind = match ty.node.kind {
            TypeKind::Object(object) => Kind::Object(
                object
                    .fields
                    .into_iter()
                    .map(|f| Field {
                        name: f.node.name.node.to_string(),
                        arguments: f
                            .node
                            .arguments
                            .into_iter()
                            .map(|a| (a.node.name.node.to_string(), a.node.ty.node))
                            .collect(),
                        ty: f.node.ty.node,
                    })
                    .collect(),
            ),
            TypeKind::Enum(values) => Kind::Enum(
                values
                    .values
                    .into_iter()
                    .map(|v| v.node.value.node.to_string())
                    .collect(),
            ),
            _ => Kind::Other,
        };
        types.insert(ty.node.name.node.to_string(), kind);
    }
    types
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

struct Generator<'a> {
    rng: StdRng,
    types: &'a HashMap<String, Kind>,
    ids: Vec<String>,
    variables: Map<String, Value>,
    declarations: Vec<String>,
    fragments: Vec<String>,
}

impl Generator<'_> {
    /// A value for an argument of type `ty`, as GraphQL text and as JSON (for a variable).
    fn value(&mut self, argument: &str, ty: &Type) -> (String, Value) {
        if ty.nullable && self.rng.random_bool(0.1) {
            return ("null".to_owned(), Value::Null);
        }
        match &ty.base {
            BaseType::List(inner) => {
                let (text, json) = self.value(argument, inner);
                (format!("[{text}]"), json!([json]))
            }
            BaseType::Named(name) => match (name.as_str(), self.types.get(name.as_str())) {
                (_, Some(Kind::Enum(values))) => {
                    let value = values.choose(&mut self.rng).unwrap().clone();
                    (value.clone(), json!(value))
                }
                ("Int", _) => {
                    let n: i64 = match self.rng.random_range(0..10) {
                        0 => -1,
                        1 => 0,
                        2 => 101,
                        _ => self.rng.random_range(1..6),
                    };
                    (n.to_string(), json!(n))
                }
                ("Boolean", _) => {
                    let b = self.rng.random_bool(0.5);
                    (b.to_string(), json!(b))
                }
                ("ID", _) => {
                    let id = match self.rng.random_range(0..8) {
                        0 => "nope".to_owned(),
                        1 => "00000000-0000-0000-0000-000000000000".to_owned(),
                        _ => self.ids.choose(&mut self.rng).unwrap().clone(),
                    };
                    (format!("{id:?}"), json!(id))
                }
                _ => {
                    let text = match argument {
                        "after" => ["garbage", "eyJ4IjoxfQ", ""]
                            .choose(&mut self.rng)
                            .unwrap()
                            .to_string(),
                        "username" => ["ann", "bob", "nobody"]
                            .choose(&mut self.rng)
                            .unwrap()
                            .to_string(),
                        _ => ["rust", "post", "\"a phrase\" -x", "ünïcode"]
                            .choose(&mut self.rng)
                            .unwrap()
                            .to_string(),
                    };
                    (format!("{text:?}"), json!(text))
                }
            },
        }
    }

    /// An argument, written in place or passed through a variable (sometimes with a default).
    fn argument(&mut self, name: &str, ty: &Type) -> String {
        let (text, json) = self.value(name, ty);
        if self.rng.random_bool(0.3) {
            let variable = format!("v{}", self.declarations.len());
            let declared = if !ty.nullable && self.rng.random_bool(0.5) {
                // The nullable form of the argument's type, with a default (5.8.5 allows it).
                let mut nullable = ty.clone();
                nullable.nullable = true;
                format!("${variable}: {nullable} = {text}")
            } else {
                format!("${variable}: {ty}")
            };
            self.declarations.push(declared);
            if !declared_default(&self.declarations) || self.rng.random_bool(0.5) {
                self.variables.insert(variable.clone(), json);
            }
            format!("{name}: ${variable}")
        } else {
            format!("{name}: {text}")
        }
    }

    fn directive(&mut self) -> String {
        match self.rng.random_range(0..12) {
            0 => " @skip(if: true)".to_owned(),
            1 => " @include(if: false)".to_owned(),
            2 => {
                let variable = format!("d{}", self.declarations.len());
                let default = self.rng.random_bool(0.5);
                self.declarations
                    .push(format!("${variable}: Boolean = {default}"));
                format!(" @skip(if: ${variable})")
            }
            _ => String::new(),
        }
    }

    /// A selection set on object type `on`, `depth` levels deep at most.
    fn selection(&mut self, on: &str, depth: u32) -> String {
        let Some(Kind::Object(fields)) = self.types.get(on) else {
            return String::new();
        };
        let count = self.rng.random_range(1..=4);
        let mut parts = Vec::new();
        for _ in 0..count {
            let field = fields.choose(&mut self.rng).unwrap();
            let target = named(&field.ty).to_owned();
            let composite = matches!(self.types.get(&target), Some(Kind::Object(_)));
            if composite && depth == 0 {
                continue;
            }
            let mut text = String::new();
            if self.rng.random_bool(0.2) {
                text.push_str(&format!("a{}: ", self.rng.random_range(0..1000)));
            }
            text.push_str(&field.name);
            let arguments: Vec<String> = field
                .arguments
                .iter()
                .filter(|(_, ty)| !ty.nullable || self.rng.random_bool(0.5))
                .map(|(name, ty)| (name.clone(), ty.clone()))
                .collect::<Vec<_>>()
                .into_iter()
                .map(|(name, ty)| self.argument(&name, &ty))
                .collect();
            if !arguments.is_empty() {
                text.push_str(&format!("({})", arguments.join(", ")));
            }
            text.push_str(&self.directive());
            if composite {
                let inner = self.selection(&target, depth - 1);
                let inner = if inner.is_empty() {
                    "__typename".to_owned()
                } else {
                    inner
                };
                text.push_str(&format!(" {{ {inner} }}"));
            }
            parts.push(text);
        }
        if self.rng.random_bool(0.15) {
            parts.push("__typename".to_owned());
        }
        if depth > 0 && self.rng.random_bool(0.15) {
            let inner = self.selection(on, depth - 1);
            if !inner.is_empty() {
                parts.push(format!("... on {on}{} {{ {inner} }}", self.directive()));
            }
        }
        if depth > 0 && self.rng.random_bool(0.1) {
            let inner = self.selection(on, depth - 1);
            if !inner.is_empty() {
                let name = format!("F{}", self.fragments.len());
                self.fragments
                    .push(format!("fragment {name} on {on} {{ {inner} }}"));
                parts.push(format!("...{name}"));
            }
        }
        parts.join(" ")
    }

    fn document(&mut self) -> (String, Value) {
        self.variables = Map::new();
        self.declarations = Vec::new();
        self.fragments = Vec::new();
        let mut selection = self.selection("Query", 4);
        if selection.is_empty() {
            selection = "__typename".to_owned();
        }
        let declarations = if self.declarations.is_empty() {
            String::new()
        } else {
            format!("({})", self.declarations.join(", "))
        };
        let mut document = format!("query Q{declarations} {{ {selection} }}");
        for fragment in &self.fragments {
            document.push(' ');
            document.push_str(fragment);
        }
        (document, Value::Object(self.variables.clone()))
    }
}

/// Whether the newest declaration has a default (then the variable may be left unsent).
fn declared_default(declarations: &[String]) -> bool {
    declarations.last().is_some_and(|d| d.contains(" = "))
}

#[tokio::test]
async fn random_valid_documents_get_answers_the_checker_accepts_and_never_a_5xx() {
    let seed: u64 = std::env::var("RANDOM_DOCUMENTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7_122_026);
    let count: usize = std::env::var("RANDOM_DOCUMENTS_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500);
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let admin = app.user("root", Role::Admin).await;
    let mut ids = vec![ann.id.to_string(), bob.id.to_string()];
    for i in 0..6 {
        let post = app
            .post(
                if i % 2 == 0 { &ann } else { &bob },
                &format!("Post number {i}"),
                i != 5,
            )
            .await;
        for j in 0..i {
            ids.push(
                app.comment(&bob, &post, &format!("Comment {j} on post {i}"))
                    .await,
            );
        }
        ids.push(post);
    }
    let types = types();
    let mut generator = Generator {
        rng: StdRng::seed_from_u64(seed),
        types: &types,
        ids,
        variables: Map::new(),
        declarations: Vec::new(),
        fragments: Vec::new(),
    };
    for n in 0..count {
        let (document, variables) = generator.document();
        let token = match n % 3 {
            0 => None,
            1 => Some(ann.token.as_str()),
            _ => Some(admin.token.as_str()),
        };
        // The checker runs inside `graphql` and panics on an answer that breaks the spec.
        let answer = std::panic::AssertUnwindSafe(app.graphql(&document, variables.clone(), token));
        let response = futures_util::FutureExt::catch_unwind(answer)
            .await
            .unwrap_or_else(|_| panic!("document {n} of seed {seed}: see the checker's message above"));
        assert!(
            response.status.as_u16() < 500,
            "document {n} of seed {seed}: {}\n{document}\n{variables}",
            response.text
        );
    }
}
