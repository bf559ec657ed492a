//! A GraphQL response checker (an oracle): given the served schema's SDL, a request (document,
//! operation name, variables) and the JSON answer, it says whether the answer is a valid GraphQL
//! execution result (spec, October 2021 and the current draft: section 6 "Execution", section 7
//! "Response"). The server is not consulted: the expected shape of `data` is worked out from the
//! schema and the document, with CollectFields as the spec defines it.
//!
//! What it checks:
//! - The response: a JSON object whose keys are only `data`, `errors` and `extensions`, with at
//!   least one of `data` and `errors`; `errors`, when present, a non-empty list; `extensions` a map;
//!   no JSON object anywhere repeats a key (only visible to [`check_response_text`]).
//! - Each error: an object with a string `message`; `locations`, when present, a list of
//!   `{"line": n, "column": n}` with n >= 1; `path`, when present, a non-empty list of response keys
//!   (strings) and list indices (non-negative integers); no entries besides `message`,
//!   `locations`, `path` and `extensions`; and, this server's rule, a string `extensions.code`.
//! - No `data` (a request error) or `data: null`: at least one error. With `data: null` and errors
//!   that carry a path (so execution ran), at least one of those paths must be able to have nulled
//!   `data`: every position along it non-null, the root field included.
//! - Non-null `data` is an object, and the request must be valid: the document parses, the
//!   operation is found (by name, or the only one), the operation's root type exists, every field
//!   exists on its parent type, leaf fields have no sub-selection and the others have one,
//!   fragments exist, have composite type conditions and form no cycle, `@skip`/`@include` have a
//!   Boolean `if`, and the variables coerce (section 6.1.2) to their declared types. An invalid
//!   request must be answered with a request error, never with data.
//! - Every object in `data` has exactly the response keys CollectFields gives for its runtime type
//!   (aliases, fragment spreads, inline fragments, type conditions, `@skip`/`@include` with literal
//!   or variable arguments, a variable's default when it is not sent, `@skip` winning over
//!   `@include`, merged fields), in that order (see "Order" below).
//! - Every value has its field's type: non-null never `null`; lists are JSON arrays, checked item
//!   by item; `Int` an integer in the 32-bit range, `Float` a number, `String` a string, `Boolean`
//!   a boolean, `ID` a string (this server always serializes IDs as strings), `DateTime` an
//!   RFC 3339 string, any other custom scalar any non-null value, an enum one of its values;
//!   `__typename` the object's type name; objects recursively. An interface or union value must
//!   match one of its possible object types exactly: the checker tries each possible type (all of
//!   them when `__typename` is not selected) and accepts the value if one matches.
//! - Every error path in non-null `data` must lead to a `null`, at its end or at a prefix (null
//!   propagation nulled a parent). A path that reaches a non-null value, goes past the end of a
//!   list or through a missing key is a violation. With `data: null` any path is accepted (but see
//!   the `data: null` rule above).
//!
//! Order: response keys are checked to come in the collected order. [`check_response_text`] parses
//! the body itself and always sees the order. [`check_response`] takes a `serde_json::Value`, whose
//! objects keep their order only when serde_json's `preserve_order` feature is on somewhere in the
//! build; without it, it skips the order check (see [`json_preserves_order`]). Either can be
//! turned off with [`Schema::with_check_order`].
//!
//! What it cannot check: whether a `null` in a nullable position came from an error (the spec
//! does not require one, so a nullable `null` is always accepted); whether every field error has
//! its error entry; the values themselves (which post, which count); `locations` against the
//! document; field arguments (only the variables they use are coerced); the introspection answers
//! under `__schema` and `__type` (only their presence and that they are objects, or `null` for
//! `__type`); validation rules that do not change the shape of the answer (unused fragments or
//! variables, argument names and types, unknown directives, overlapping fields beyond "one
//! response key, one field name").

use std::collections::{HashMap, HashSet};
use std::fmt;

// `async-graphql` re-exports its parser and its `ConstValue` (as `Value`); outside this crate the
// one line to change is `use {async_graphql_parser as parser, async_graphql_value::ConstValue};`.
use async_graphql::{Value as ConstValue, parser};

use parser::Positioned;
use parser::types::{
    BaseType, Directive, DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType,
    Selection, SelectionSet, Type, TypeKind, TypeSystemDefinition,
};

/// The served schema, parsed once from its SDL.
#[derive(Debug, Clone)]
pub struct Schema {
    types: HashMap<String, TypeDef>,
    query: Option<String>,
    mutation: Option<String>,
    subscription: Option<String>,
    check_order: bool,
}

#[derive(Debug, Clone)]
enum TypeDef {
    Scalar,
    Object {
        fields: HashMap<String, Type>,
        interfaces: Vec<String>,
    },
    Interface {
        fields: HashMap<String, Type>,
    },
    Union {
        members: Vec<String>,
    },
    Enum {
        values: HashSet<String>,
    },
    Input {
        fields: Vec<InputField>,
    },
}

#[derive(Debug, Clone)]
struct InputField {
    name: String,
    ty: Type,
    has_default: bool,
}

/// What a selected field is, on a given parent type.
enum FieldKind<'s> {
    Typename,
    Schema,
    TypeIntro,
    Regular(&'s Type),
}

const BUILT_IN_SCALARS: [&str; 5] = ["Int", "Float", "String", "Boolean", "ID"];

impl Schema {
    /// Parses the SDL (`async_graphql_parser::parse_schema`), merges `extend` definitions, adds the
    /// built-in scalars and checks that every referenced type exists and has the right kind.
    pub fn parse(sdl: &str) -> Result<Schema, String> {
        let document = parser::parse_schema(sdl).map_err(|e| format!("the SDL does not parse: {e}"))?;
        let mut types: HashMap<String, TypeDef> = BUILT_IN_SCALARS
            .iter()
            .map(|s| ((*s).to_owned(), TypeDef::Scalar))
            .collect();
        let mut roots: [Option<String>; 3] = [None, None, None];
        let mut schema_definitions = 0;
        let mut extensions = Vec::new();
        for definition in &document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let schema = &schema.node;
                    if !schema.extend {
                        schema_definitions += 1;
                    }
                    for (slot, name) in
                        roots
                            .iter_mut()
                            .zip([&schema.query, &schema.mutation, &schema.subscription])
                    {
                        if let Some(name) = name {
                            *slot = Some(name.node.to_string());
                        }
                    }
                }
                TypeSystemDefinition::Type(definition) if definition.node.extend => {
                    extensions.push(&definition.node)
                }
                TypeSystemDefinition::Type(definition) => {
                    let name = definition.node.name.node.to_string();
                    let converted = convert_type(&definition.node.kind);
                    let built_in = BUILT_IN_SCALARS.contains(&name.as_str());
                    if types.insert(name.clone(), converted).is_some() && !built_in {
                        return Err(format!("type {name} is defined twice"));
                    }
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        if schema_definitions > 1 {
            return Err("the SDL has more than one schema definition".to_owned());
        }
        for extension in extensions {
            let name = extension.name.node.as_str();
            let target = types
                .get_mut(name)
                .ok_or_else(|| format!("extension of undefined type {name}"))?;
            merge_extension(target, convert_type(&extension.kind))
                .map_err(|kind| format!("extension of type {name} is not a {kind} extension"))?;
        }
        let [query, mutation, subscription] = roots;
        let default_root = |name: &str| types.contains_key(name).then(|| name.to_owned());
        let schema = Schema {
            query: query.or_else(|| default_root("Query")),
            mutation: mutation.or_else(|| default_root("Mutation")),
            subscription: subscription.or_else(|| default_root("Subscription")),
            types,
            check_order: true,
        };
        schema.validate()?;
        Ok(schema)
    }

    /// Whether the checks compare the order of response keys with the collected order (on by
    /// default; [`check_response`] still skips it when serde_json does not preserve order).
    #[must_use]
    pub fn with_check_order(mut self, check_order: bool) -> Schema {
        self.check_order = check_order;
        self
    }

    fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        let Some(query) = &self.query else {
            return Err("the schema has no query type".to_owned());
        };
        for root in [Some(query), self.mutation.as_ref(), self.subscription.as_ref()]
            .into_iter()
            .flatten()
        {
            if !matches!(self.types.get(root), Some(TypeDef::Object { .. })) {
                problems.push(format!("root type {root} is not an object type"));
            }
        }
        for (name, definition) in &self.types {
            match definition {
                TypeDef::Object { fields, interfaces } => {
                    for interface in interfaces {
                        if !matches!(self.types.get(interface), Some(TypeDef::Interface { .. })) {
                            problems.push(format!(
                                "{name} implements {interface}, which is not an interface"
                            ));
                        }
                    }
                    self.validate_output_fields(name, fields, &mut problems);
                }
                TypeDef::Interface { fields } => self.validate_output_fields(name, fields, &mut problems),
                TypeDef::Union { members } => {
                    for member in members {
                        if !matches!(self.types.get(member), Some(TypeDef::Object { .. })) {
                            problems.push(format!(
                                "union {name} has member {member}, which is not an object type"
                            ));
                        }
                    }
                }
                TypeDef::Input { fields } => {
                    for field in fields {
                        if !self.is_input(named(&field.ty)) {
                            problems.push(format!(
                                "{name}.{}: {} is not an input type",
                                field.name, field.ty
                            ));
                        }
                    }
                }
                TypeDef::Scalar | TypeDef::Enum { .. } => {}
            }
        }
        problems.sort();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    fn validate_output_fields(
        &self,
        parent: &str,
        fields: &HashMap<String, Type>,
        problems: &mut Vec<String>,
    ) {
        for (field, ty) in fields {
            match self.types.get(named(ty)) {
                None => problems.push(format!("{parent}.{field}: unknown type {ty}")),
                Some(TypeDef::Input { .. }) => {
                    problems.push(format!("{parent}.{field}: {ty} is not an output type"))
                }
                Some(_) => {}
            }
        }
    }

    fn root(&self, operation: OperationType) -> Option<&str> {
        match operation {
            OperationType::Query => self.query.as_deref(),
            OperationType::Mutation => self.mutation.as_deref(),
            OperationType::Subscription => self.subscription.as_deref(),
        }
    }

    fn is_composite(&self, name: &str) -> bool {
        matches!(
            self.types.get(name),
            Some(TypeDef::Object { .. } | TypeDef::Interface { .. } | TypeDef::Union { .. })
        )
    }

    fn is_input(&self, name: &str) -> bool {
        matches!(
            self.types.get(name),
            Some(TypeDef::Scalar | TypeDef::Enum { .. } | TypeDef::Input { .. })
        )
    }

    /// The object types a value of type `name` can have, sorted.
    fn possible_types(&self, name: &str) -> Vec<&str> {
        let mut possible: Vec<&str> = match self.types.get_key_value(name) {
            Some((name, TypeDef::Object { .. })) => vec![name.as_str()],
            Some((_, TypeDef::Union { members })) => members.iter().map(String::as_str).collect(),
            Some((_, TypeDef::Interface { .. })) => self
                .types
                .iter()
                .filter(|(_, t)| matches!(t, TypeDef::Object { interfaces, .. } if interfaces.iter().any(|i| i == name)))
                .map(|(n, _)| n.as_str())
                .collect(),
            _ => Vec::new(),
        };
        possible.sort_unstable();
        possible
    }

    /// DoesFragmentTypeApply(objectType, fragmentType).
    fn applies(&self, object: &str, condition: &str) -> bool {
        match self.types.get(condition) {
            Some(TypeDef::Object { .. }) => object == condition,
            Some(TypeDef::Interface { .. }) => {
                matches!(self.types.get(object), Some(TypeDef::Object { interfaces, .. }) if interfaces.iter().any(|i| i == condition))
            }
            Some(TypeDef::Union { members }) => members.iter().any(|m| m == object),
            _ => false,
        }
    }

    fn lookup_field(&self, parent: &str, name: &str) -> Option<FieldKind<'_>> {
        let on_query = self.query.as_deref() == Some(parent);
        match name {
            "__typename" => return Some(FieldKind::Typename),
            "__schema" if on_query => return Some(FieldKind::Schema),
            "__type" if on_query => return Some(FieldKind::TypeIntro),
            _ => {}
        }
        match self.types.get(parent)? {
            TypeDef::Object { fields, .. } | TypeDef::Interface { fields } => {
                fields.get(name).map(FieldKind::Regular)
            }
            _ => None,
        }
    }

    /// CoerceVariableValues for one value: `Err` says why it does not coerce to `ty`.
    fn coerce_input(&self, ty: &Type, value: &Json) -> Result<(), String> {
        if *value == Json::Null {
            return if ty.nullable {
                Ok(())
            } else {
                Err(format!("null for the non-null type {ty}"))
            };
        }
        match &ty.base {
            BaseType::List(inner) => match value {
                Json::List(items) => items.iter().enumerate().try_for_each(|(i, item)| {
                    self.coerce_input(inner, item)
                        .map_err(|e| format!("item {i}: {e}"))
                }),
                single => self.coerce_input(inner, single),
            },
            BaseType::Named(name) => self.coerce_named(name.as_str(), value),
        }
    }

    fn coerce_named(&self, name: &str, value: &Json) -> Result<(), String> {
        let valid = match (name, self.types.get(name)) {
            ("Int", _) => value.as_i32().is_some(),
            ("Float", _) => matches!(value, Json::Num(_)),
            ("String", _) => matches!(value, Json::Str(_)),
            ("Boolean", _) => matches!(value, Json::Bool(_)),
            ("ID", _) => matches!(value, Json::Str(_)) || value.is_integer(),
            (_, Some(TypeDef::Scalar)) => true,
            (_, Some(TypeDef::Enum { values })) => matches!(value, Json::Str(s) if values.contains(s)),
            (_, Some(TypeDef::Input { fields })) => {
                let Json::Obj(members) = value else {
                    return Err(format!("{} is not an input object ({name})", value.brief()));
                };
                for (key, _) in members {
                    if !fields.iter().any(|f| f.name == *key) {
                        return Err(format!("{name} has no field \"{key}\""));
                    }
                }
                for field in fields {
                    match value.get(&field.name) {
                        Some(v) => self
                            .coerce_input(&field.ty, v)
                            .map_err(|e| format!("{name}.{}: {e}", field.name))?,
                        None if !field.ty.nullable && !field.has_default => {
                            return Err(format!("{name}.{} ({}) is required", field.name, field.ty));
                        }
                        None => {}
                    }
                }
                true
            }
            _ => return Err(format!("{name} is not an input type")),
        };
        if valid {
            Ok(())
        } else {
            Err(format!("{} is not a valid {name}", value.brief()))
        }
    }
}

fn convert_type(kind: &TypeKind) -> TypeDef {
    let fields_of = |fields: &Vec<Positioned<parser::types::FieldDefinition>>| {
        fields
            .iter()
            .map(|f| (f.node.name.node.to_string(), f.node.ty.node.clone()))
            .collect()
    };
    match kind {
        TypeKind::Scalar => TypeDef::Scalar,
        TypeKind::Object(object) => TypeDef::Object {
            fields: fields_of(&object.fields),
            interfaces: object.implements.iter().map(|i| i.node.to_string()).collect(),
        },
        TypeKind::Interface(interface) => TypeDef::Interface {
            fields: fields_of(&interface.fields),
        },
        TypeKind::Union(union) => TypeDef::Union {
            members: union.members.iter().map(|m| m.node.to_string()).collect(),
        },
        TypeKind::Enum(enumeration) => TypeDef::Enum {
            values: enumeration
                .values
                .iter()
                .map(|v| v.node.value.node.to_string())
                .collect(),
        },
        TypeKind::InputObject(input) => TypeDef::Input {
            fields: input
                .fields
                .iter()
                .map(|f| InputField {
                    name: f.node.name.node.to_string(),
                    ty: f.node.ty.node.clone(),
                    has_default: f.node.default_value.is_some(),
                })
                .collect(),
        },
    }
}

/// Adds an extension's members to the type it extends; `Err` names the extended type's kind.
fn merge_extension(target: &mut TypeDef, extension: TypeDef) -> Result<(), &'static str> {
    match (target, extension) {
        (TypeDef::Scalar, TypeDef::Scalar) => {}
        (
            TypeDef::Object { fields, interfaces },
            TypeDef::Object {
                fields: more,
                interfaces: more_interfaces,
            },
        ) => {
            fields.extend(more);
            interfaces.extend(more_interfaces);
        }
        (TypeDef::Interface { fields }, TypeDef::Interface { fields: more }) => fields.extend(more),
        (TypeDef::Union { members }, TypeDef::Union { members: more }) => members.extend(more),
        (TypeDef::Enum { values }, TypeDef::Enum { values: more }) => values.extend(more),
        (TypeDef::Input { fields }, TypeDef::Input { fields: more }) => fields.extend(more),
        (target, _) => {
            return Err(match target {
                TypeDef::Scalar => "scalar",
                TypeDef::Object { .. } => "object",
                TypeDef::Interface { .. } => "interface",
                TypeDef::Union { .. } => "union",
                TypeDef::Enum { .. } => "enum",
                TypeDef::Input { .. } => "input object",
            });
        }
    }
    Ok(())
}

/// The named type under any list and non-null wrappers.
fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

/// Checks a response given as a `serde_json::Value`. Key order is checked only when serde_json
/// preserves it ([`json_preserves_order`]); use [`check_response_text`] to check order (and
/// repeated keys) without serde_json's `preserve_order` feature.
pub fn check_response(
    schema: &Schema,
    document: &str,
    operation_name: Option<&str>,
    variables: &serde_json::Value,
    response: &serde_json::Value,
) -> Result<(), Vec<String>> {
    let check_order = schema.check_order && json_preserves_order();
    check(
        schema,
        document,
        operation_name,
        variables,
        &Json::from_serde(response),
        check_order,
    )
}

/// Checks a response given as its JSON text (the HTTP body): the text is parsed keeping the order
/// of keys and any repeated key, so both are always checked, whatever serde_json's features.
pub fn check_response_text(
    schema: &Schema,
    document: &str,
    operation_name: Option<&str>,
    variables: &serde_json::Value,
    response_text: &str,
) -> Result<(), Vec<String>> {
    let response: Json =
        serde_json::from_str(response_text).map_err(|e| vec![format!("response: not valid JSON: {e}")])?;
    check(
        schema,
        document,
        operation_name,
        variables,
        &response,
        schema.check_order,
    )
}

/// Whether `serde_json::Map` keeps insertion order in this build (serde_json's `preserve_order`
/// feature, which any crate in the dependency tree can turn on).
pub fn json_preserves_order() -> bool {
    let mut map = serde_json::Map::new();
    map.insert("b".to_owned(), serde_json::Value::Null);
    map.insert("a".to_owned(), serde_json::Value::Null);
    map.keys().next().is_some_and(|k| k == "b")
}

/// A JSON value whose objects keep their order and any repeated key.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(serde_json::Number),
    Str(String),
    List(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn from_serde(value: &serde_json::Value) -> Json {
        match value {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(*b),
            serde_json::Value::Number(n) => Json::Num(n.clone()),
            serde_json::Value::String(s) => Json::Str(s.clone()),
            serde_json::Value::Array(items) => Json::List(items.iter().map(Json::from_serde).collect()),
            serde_json::Value::Object(map) => Json::Obj(
                map.iter()
                    .map(|(k, v)| (k.clone(), Json::from_serde(v)))
                    .collect(),
            ),
        }
    }

    fn from_const(value: &ConstValue) -> Json {
        match value {
            ConstValue::Null => Json::Null,
            ConstValue::Boolean(b) => Json::Bool(*b),
            ConstValue::Number(n) => Json::Num(n.clone()),
            ConstValue::String(s) => Json::Str(s.clone()),
            ConstValue::Enum(name) => Json::Str(name.to_string()),
            ConstValue::Binary(bytes) => Json::Str(String::from_utf8_lossy(bytes).into_owned()),
            ConstValue::List(items) => Json::List(items.iter().map(Json::from_const).collect()),
            ConstValue::Object(map) => Json::Obj(
                map.iter()
                    .map(|(k, v)| (k.to_string(), Json::from_const(v)))
                    .collect(),
            ),
        }
    }

    /// The first member named `key` of an object.
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn is_integer(&self) -> bool {
        matches!(self, Json::Num(n) if n.is_i64() || n.is_u64())
    }

    fn as_i32(&self) -> Option<i32> {
        match self {
            Json::Num(n) => n.as_i64().and_then(|i| i32::try_from(i).ok()),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Num(_) => "a number",
            Json::Str(_) => "a string",
            Json::List(_) => "a list",
            Json::Obj(_) => "an object",
        }
    }

    /// The value as JSON text, cut at 80 characters.
    fn brief(&self) -> String {
        let text = self.to_string();
        if text.chars().count() > 80 {
            format!("{}...", text.chars().take(77).collect::<String>())
        } else {
            text
        }
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let string = |f: &mut fmt::Formatter<'_>, s: &str| {
            f.write_str(&serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}")))
        };
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => write!(f, "{b}"),
            Json::Num(n) => write!(f, "{n}"),
            Json::Str(s) => string(f, s),
            Json::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Json::Obj(members) => {
                f.write_str("{")?;
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    string(f, key)?;
                    write!(f, ":{value}")?;
                }
                f.write_str("}")
            }
        }
    }
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Num(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Num(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(v)
            .map(Json::Num)
            .ok_or_else(|| E::custom("a non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::Str(v))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        serde::Deserialize::deserialize(deserializer)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::List(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry::<String, Json>()? {
            members.push(member);
        }
        Ok(Json::Obj(members))
    }
}

/// A segment of an error's `path`.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn child_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn duplicate_keys(value: &Json, path: &str, out: &mut Vec<String>) {
    match value {
        Json::Obj(members) => {
            let mut seen = HashSet::new();
            for (key, member) in members {
                if !seen.insert(key.as_str()) {
                    let at = if path.is_empty() { "response" } else { path };
                    out.push(format!(
                        "{at}: key \"{key}\" appears more than once in one JSON object"
                    ));
                }
                duplicate_keys(member, &child_path(path, key), out);
            }
        }
        Json::List(items) => {
            for (i, item) in items.iter().enumerate() {
                duplicate_keys(item, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn check(
    schema: &Schema,
    document: &str,
    operation_name: Option<&str>,
    variables: &serde_json::Value,
    response: &Json,
    check_order: bool,
) -> Result<(), Vec<String>> {
    let mut out = Vec::new();
    let Json::Obj(top) = response else {
        return Err(vec![format!(
            "response: must be a JSON object, got {}",
            response.brief()
        )]);
    };
    duplicate_keys(response, "", &mut out);
    for (key, _) in top {
        if !matches!(key.as_str(), "data" | "errors" | "extensions") {
            out.push(format!(
                "response: unexpected top-level key \"{key}\" (only data, errors and extensions are allowed)"
            ));
        }
    }
    let data = response.get("data");
    let errors = response.get("errors");
    if data.is_none() && errors.is_none() {
        out.push("response: has neither data nor errors (at least one is required)".to_owned());
    }
    if let Some(extensions) = response.get("extensions")
        && !matches!(extensions, Json::Obj(_))
    {
        out.push(format!(
            "extensions: must be a map (a JSON object), got {}",
            extensions.brief()
        ));
    }
    let error_list: &[Json] = match errors {
        None => &[],
        Some(Json::List(items)) => {
            if items.is_empty() {
                out.push("errors: must be a non-empty list when present".to_owned());
            }
            items
        }
        Some(other) => {
            out.push(format!("errors: must be a non-empty list, got {}", other.kind()));
            &[]
        }
    };
    let paths: Vec<(usize, Vec<Seg>)> = error_list
        .iter()
        .enumerate()
        .filter_map(|(i, e)| check_error(i, e, &mut out).map(|p| (i, p)))
        .collect();
    match data {
        // A request error: nothing ran, the errors say why.
        None => {}
        Some(Json::Null) if error_list.is_empty() => {
            out.push("data: is null, which requires at least one error".to_owned());
        }
        // A request error, or execution nulled everything: see the error paths.
        Some(Json::Null) if paths.is_empty() => {}
        Some(Json::Null) => check_null_data(schema, document, operation_name, variables, &paths, &mut out),
        Some(Json::Obj(members)) => {
            check_data(
                schema,
                document,
                operation_name,
                variables,
                members,
                &paths,
                check_order,
                &mut out,
            );
        }
        Some(other) => out.push(format!("data: must be an object or null, got {}", other.brief())),
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

/// Checks one entry of `errors`; returns its path when it has a well-formed one.
fn check_error(index: usize, error: &Json, out: &mut Vec<String>) -> Option<Vec<Seg>> {
    let at = format!("errors[{index}]");
    let Json::Obj(members) = error else {
        out.push(format!("{at}: an error must be an object, got {}", error.brief()));
        return None;
    };
    for (key, _) in members {
        if !matches!(key.as_str(), "message" | "locations" | "path" | "extensions") {
            out.push(format!(
                "{at}: unexpected entry \"{key}\" (an error has only message, locations, path and extensions; \
                 anything else belongs in extensions)"
            ));
        }
    }
    match error.get("message") {
        Some(Json::Str(_)) => {}
        Some(other) => out.push(format!("{at}.message: must be a string, got {}", other.brief())),
        None => out.push(format!(
            "{at}: has no message (every error needs a string message)"
        )),
    }
    match error.get("locations") {
        None => {}
        Some(Json::List(locations)) => {
            let positive =
                |v: Option<&Json>| matches!(v, Some(Json::Num(n)) if n.as_u64().is_some_and(|n| n >= 1));
            for (j, location) in locations.iter().enumerate() {
                if !positive(location.get("line")) || !positive(location.get("column")) {
                    out.push(format!(
                        "{at}.locations[{j}]: a location must be {{\"line\": n, \"column\": n}} with n >= 1, got {}",
                        location.brief()
                    ));
                }
            }
        }
        Some(other) => out.push(format!(
            "{at}.locations: must be a list of locations, got {}",
            other.brief()
        )),
    }
    match error.get("extensions") {
        None => out.push(format!(
            "{at}: has no extensions.code (this server gives every error a code)"
        )),
        Some(extensions @ Json::Obj(_)) => match extensions.get("code") {
            Some(Json::Str(_)) => {}
            Some(other) => out.push(format!(
                "{at}.extensions.code: must be a string, got {}",
                other.brief()
            )),
            None => out.push(format!(
                "{at}.extensions: has no code (this server gives every error a code)"
            )),
        },
        Some(other) => out.push(format!(
            "{at}.extensions: must be a map (a JSON object), got {}",
            other.brief()
        )),
    }
    match error.get("path")? {
        Json::List(items) if items.is_empty() => {
            out.push(format!(
                "{at}.path: must not be empty (it starts at a root field)"
            ));
            None
        }
        Json::List(items) => {
            let mut segments = Vec::with_capacity(items.len());
            for (j, item) in items.iter().enumerate() {
                match item {
                    Json::Str(key) => segments.push(Seg::Key(key.clone())),
                    Json::Num(n) if n.as_u64().and_then(|n| usize::try_from(n).ok()).is_some() => {
                        segments.push(Seg::Index(
                            n.as_u64().and_then(|n| usize::try_from(n).ok()).unwrap_or(0),
                        ));
                    }
                    other => {
                        out.push(format!(
                            "{at}.path[{j}]: a path segment must be a string (response key) or a non-negative \
                             integer (list index), got {}",
                            other.brief()
                        ));
                        return None;
                    }
                }
            }
            Some(segments)
        }
        other => {
            out.push(format!(
                "{at}.path: must be a list of path segments, got {}",
                other.brief()
            ));
            None
        }
    }
}

fn show_path(segments: &[Seg]) -> String {
    let mut shown = String::from("data");
    for segment in segments {
        match segment {
            Seg::Key(key) => {
                shown.push('.');
                shown.push_str(key);
            }
            Seg::Index(i) => shown.push_str(&format!("[{i}]")),
        }
    }
    shown
}

/// `data` is an object: the request must be valid, `data` must be what executing it can give,
/// and every error path must end at (or pass) a null.
#[allow(clippy::too_many_arguments)]
fn check_data(
    schema: &Schema,
    document: &str,
    operation_name: Option<&str>,
    variables: &serde_json::Value,
    members: &[(String, Json)],
    paths: &[(usize, Vec<Seg>)],
    check_order: bool,
    out: &mut Vec<String>,
) {
    const INVALID: &str = "data: must be null or absent, because the request is invalid";
    let document = match parser::parse_query(document) {
        Ok(document) => document,
        Err(e) => {
            out.push(format!("{INVALID}: the document does not parse: {e}"));
            return;
        }
    };
    let (mut ctx, operation, root) = match Ctx::prepare(schema, &document, operation_name, variables) {
        Ok(prepared) => prepared,
        Err(problems) => {
            out.extend(problems.into_iter().map(|p| format!("{INVALID}: {p}")));
            return;
        }
    };
    ctx.check_order = check_order;
    ctx.check_object(root, &[&operation.selection_set.node], members, "data");
    out.append(&mut ctx.out);
    let mut seen = HashSet::new();
    for problem in ctx.problems {
        if seen.insert(problem.clone()) {
            out.push(format!("{INVALID}: {problem}"));
        }
    }
    let data = Json::Obj(members.to_vec());
    for (index, segments) in paths {
        if let Err(why) = walk_error_path(&data, segments) {
            out.push(format!("errors[{index}].path: {why}"));
        }
    }
}

/// Follows an error path through `data`: it must reach a null at its end or at a prefix.
fn walk_error_path(data: &Json, segments: &[Seg]) -> Result<(), String> {
    let mut current = data;
    for (depth, segment) in segments.iter().enumerate() {
        if *current == Json::Null {
            return Ok(());
        }
        let at = show_path(&segments[..depth]);
        current = match (segment, current) {
            (Seg::Key(key), Json::Obj(_)) => current
                .get(key)
                .ok_or_else(|| format!("{at} has no key \"{key}\", so the path leads nowhere"))?,
            (Seg::Index(i), Json::List(items)) => items.get(*i).ok_or_else(|| {
                format!(
                    "index {i} is past the end of {at} (a list of {} items)",
                    items.len()
                )
            })?,
            (Seg::Key(key), other) => {
                return Err(format!(
                    "{at} is {}, not an object, so it has no key \"{key}\"",
                    other.kind()
                ));
            }
            (Seg::Index(i), other) => {
                return Err(format!(
                    "{at} is {}, not a list, so it has no index {i}",
                    other.kind()
                ));
            }
        };
    }
    if *current == Json::Null {
        Ok(())
    } else {
        Err(format!(
            "it leads to {} = {}, a non-null value; a field error leaves null at its path or, by null \
             propagation, at a parent",
            show_path(segments),
            current.brief()
        ))
    }
}

/// `data` is null and some errors have paths (so execution ran): one of them must be able to
/// have propagated its null up to `data`, through non-null positions only.
fn check_null_data(
    schema: &Schema,
    document: &str,
    operation_name: Option<&str>,
    variables: &serde_json::Value,
    paths: &[(usize, Vec<Seg>)],
    out: &mut Vec<String>,
) {
    let Ok(document) = parser::parse_query(document) else {
        return;
    };
    let Ok((mut ctx, operation, root)) = Ctx::prepare(schema, &document, operation_name, variables) else {
        return;
    };
    let sets = [&operation.selection_set.node];
    let results: Vec<Option<bool>> = paths
        .iter()
        .map(|(_, segments)| ctx.chain_object(root, &sets, segments))
        .collect();
    if results.iter().all(|r| *r == Some(false)) {
        let (index, segments) = &paths[0];
        out.push(format!(
            "data: is null, but no error can have nulled it: every error path crosses a nullable position, \
             where null propagation stops (e.g. errors[{index}] at {})",
            show_path(segments)
        ));
    }
}

/// The response keys CollectFields gives, in order, each with its fields.
type Collected<'a> = Vec<(&'a str, Vec<&'a Field>)>;

/// Execution state: the schema, the document, the coerced variables and what was found.
struct Ctx<'a> {
    schema: &'a Schema,
    document: &'a ExecutableDocument,
    variables: HashMap<String, Json>,
    defined: HashSet<String>,
    check_order: bool,
    /// Violations in `data`.
    out: Vec<String>,
    /// Problems of the request found while executing (so data should not exist).
    problems: Vec<String>,
}

impl<'a> Ctx<'a> {
    /// Validates the document (the parts that shape the answer), picks the operation and coerces
    /// the variables. `Err` lists why the request is invalid.
    fn prepare(
        schema: &'a Schema,
        document: &'a ExecutableDocument,
        operation_name: Option<&str>,
        variables: &serde_json::Value,
    ) -> Result<(Ctx<'a>, &'a OperationDefinition, &'a str), Vec<String>> {
        let mut problems = validate_document(schema, document);
        let operation = match (operation_name, &document.operations) {
            (None, DocumentOperations::Single(operation)) => Some(&operation.node),
            (None, DocumentOperations::Multiple(operations)) if operations.len() == 1 => {
                operations.values().next().map(|o| &o.node)
            }
            (None, DocumentOperations::Multiple(_)) => {
                problems
                    .push("the document has several operations and no operation name was given".to_owned());
                None
            }
            (Some(name), DocumentOperations::Multiple(operations)) => {
                let found = operations.get(name).map(|o| &o.node);
                if found.is_none() {
                    problems.push(format!("the document has no operation named \"{name}\""));
                }
                found
            }
            (Some(name), DocumentOperations::Single(_)) => {
                problems.push(format!(
                    "the document's only operation is anonymous, not \"{name}\""
                ));
                None
            }
        };
        let Some(operation) = operation else {
            return Err(problems);
        };
        let Some(root) = schema.root(operation.ty) else {
            problems.push(format!("the schema has no {} type", operation.ty));
            return Err(problems);
        };
        let provided = match variables {
            serde_json::Value::Null => None,
            serde_json::Value::Object(map) => Some(map),
            other => {
                problems.push(format!("the variables must be a JSON object, got {other}"));
                None
            }
        };
        let mut values = HashMap::new();
        let mut defined = HashSet::new();
        for definition in &operation.variable_definitions {
            let definition = &definition.node;
            let name = definition.name.node.as_str();
            let ty = &definition.var_type.node;
            defined.insert(name.to_owned());
            if !schema.is_input(named(ty)) {
                problems.push(format!(
                    "variable ${name}: {ty} is not an input type of the schema"
                ));
                continue;
            }
            let (value, source) = match (provided.and_then(|m| m.get(name)), &definition.default_value) {
                (Some(value), _) => (Json::from_serde(value), "value"),
                (None, Some(default)) => (Json::from_const(&default.node), "default value"),
                (None, None) if !ty.nullable => {
                    problems.push(format!(
                        "variable ${name} ({ty}) is required but was not provided"
                    ));
                    continue;
                }
                (None, None) => continue,
            };
            if let Err(why) = schema.coerce_input(ty, &value) {
                problems.push(format!(
                    "variable ${name} ({ty}): the {source} does not coerce: {why}"
                ));
            }
            values.insert(name.to_owned(), value);
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let ctx = Ctx {
            schema,
            document,
            variables: values,
            defined,
            check_order: true,
            out: Vec::new(),
            problems: Vec::new(),
        };
        Ok((ctx, operation, root))
    }

    /// CollectFields(objectType, selectionSet, variableValues), over merged selection sets.
    fn collect(&mut self, object: &str, sets: &[&'a SelectionSet]) -> Collected<'a> {
        let mut collected = Vec::new();
        let mut visited = HashSet::new();
        for set in sets {
            self.collect_into(object, set, &mut visited, &mut collected);
        }
        collected
    }

    fn collect_into(
        &mut self,
        object: &str,
        set: &'a SelectionSet,
        visited: &mut HashSet<&'a str>,
        collected: &mut Collected<'a>,
    ) {
        let document = self.document;
        for selection in &set.items {
            if !self.included(selection.node.directives()) {
                continue;
            }
            match &selection.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.as_str();
                    match collected.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, fields)) => fields.push(&field.node),
                        None => collected.push((key, vec![&field.node])),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if !visited.insert(name) {
                        continue;
                    }
                    let Some(fragment) = document.fragments.get(name) else {
                        continue;
                    };
                    if self
                        .schema
                        .applies(object, fragment.node.type_condition.node.on.node.as_str())
                    {
                        self.collect_into(object, &fragment.node.selection_set.node, visited, collected);
                    }
                }
                Selection::InlineFragment(fragment) => {
                    if let Some(condition) = &fragment.node.type_condition
                        && !self.schema.applies(object, condition.node.on.node.as_str())
                    {
                        continue;
                    }
                    self.collect_into(object, &fragment.node.selection_set.node, visited, collected);
                }
            }
        }
    }

    /// `@skip(if:)` and `@include(if:)`: included unless skipped, and only if included.
    fn included(&mut self, directives: &[Positioned<Directive>]) -> bool {
        let mut skip = false;
        let mut include = true;
        for directive in directives {
            match directive.node.name.node.as_str() {
                "skip" => skip |= self.eval_if(&directive.node, "skip") == Some(true),
                "include" => include &= self.eval_if(&directive.node, "include") != Some(false),
                _ => {}
            }
        }
        !skip && include
    }

    fn eval_if(&mut self, directive: &Directive, which: &str) -> Option<bool> {
        let Some(argument) = directive.get_argument("if") else {
            self.problems
                .push(format!("@{which} without its required argument `if`"));
            return None;
        };
        let (variables, defined) = (&self.variables, &self.defined);
        let value = argument.node.clone().into_const_with(|name| {
            let name = name.as_str();
            if !defined.contains(name) {
                return Err(format!(
                    "variable ${name} (in @{which}) is not defined by the operation"
                ));
            }
            Ok(match variables.get(name) {
                Some(Json::Bool(b)) => ConstValue::Boolean(*b),
                _ => ConstValue::Null,
            })
        });
        match value {
            Ok(ConstValue::Boolean(b)) => Some(b),
            Ok(other) => {
                self.problems
                    .push(format!("@{which}(if:) must be a Boolean, got {other}"));
                None
            }
            Err(problem) => {
                self.problems.push(problem);
                None
            }
        }
    }

    /// An object of type `object` (an object type), selected by `sets`.
    fn check_object(
        &mut self,
        object: &str,
        sets: &[&'a SelectionSet],
        members: &[(String, Json)],
        path: &str,
    ) {
        let collected = self.collect(object, sets);
        let mut seen = HashSet::new();
        let present: Vec<&str> = members
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| seen.insert(*k))
            .collect();
        let expected: HashSet<&str> = collected.iter().map(|(k, _)| *k).collect();
        for (key, _) in &collected {
            if !seen.contains(key) {
                self.out.push(format!(
                    "{path}: missing key \"{key}\" (selected on type {object})"
                ));
            }
        }
        for key in &present {
            if !expected.contains(key) {
                self.out.push(format!(
                    "{path}: unexpected key \"{key}\" (not selected on type {object})"
                ));
            }
        }
        if self.check_order {
            let want: Vec<&str> = collected
                .iter()
                .map(|(k, _)| *k)
                .filter(|k| seen.contains(k))
                .collect();
            let got: Vec<&str> = present.iter().copied().filter(|k| expected.contains(k)).collect();
            if want != got {
                self.out.push(format!(
                    "{path}: keys out of order: the selection orders them [{}], the response has [{}]",
                    want.join(", "),
                    got.join(", ")
                ));
            }
        }
        for (key, fields) in &collected {
            if let Some((_, value)) = members.iter().find(|(k, _)| k == key) {
                self.check_field(object, key, fields, value, &format!("{path}.{key}"));
            }
        }
    }

    fn check_field(&mut self, object: &str, key: &str, fields: &[&'a Field], value: &Json, path: &str) {
        let name = fields[0].name.node.as_str();
        if let Some(other) = fields.iter().find(|f| f.name.node.as_str() != name) {
            self.problems.push(format!(
                "response key \"{key}\" selects two different fields, \"{name}\" and \"{}\", on type {object}",
                other.name.node
            ));
        }
        let schema = self.schema;
        match schema.lookup_field(object, name) {
            None => self
                .problems
                .push(format!("field \"{name}\" is not defined on type {object}")),
            Some(FieldKind::Typename) => {
                if !matches!(value, Json::Str(s) if s == object) {
                    self.out.push(format!(
                        "{path}: __typename must be \"{object}\", got {}",
                        value.brief()
                    ));
                }
            }
            Some(FieldKind::Schema) => {
                if !matches!(value, Json::Obj(_)) {
                    self.out.push(format!(
                        "{path}: __schema (__Schema!) must be an object, got {}",
                        value.brief()
                    ));
                }
            }
            Some(FieldKind::TypeIntro) => {
                if !matches!(value, Json::Obj(_) | Json::Null) {
                    self.out.push(format!(
                        "{path}: __type (__Type) must be an object or null, got {}",
                        value.brief()
                    ));
                }
            }
            Some(FieldKind::Regular(ty)) => {
                let sets: Vec<&'a SelectionSet> = fields.iter().map(|f| &f.selection_set.node).collect();
                self.check_value(ty, name, &sets, value, path, false);
            }
        }
    }

    /// CompleteValue's result for a value of type `ty` (of field `field`; `item`: a list item).
    fn check_value(
        &mut self,
        ty: &'a Type,
        field: &str,
        sets: &[&'a SelectionSet],
        value: &Json,
        path: &str,
        item: bool,
    ) {
        let what = || {
            if item {
                format!("list item ({ty}) of field \"{field}\"")
            } else {
                format!("field \"{field}\" ({ty})")
            }
        };
        if *value == Json::Null {
            if !ty.nullable {
                self.out.push(format!("{path}: non-null {} is null", what()));
            }
            return;
        }
        let name = match &ty.base {
            BaseType::List(inner) => {
                match value {
                    Json::List(items) => {
                        for (i, element) in items.iter().enumerate() {
                            self.check_value(inner, field, sets, element, &format!("{path}[{i}]"), true);
                        }
                    }
                    other => self.out.push(format!(
                        "{path}: {} must be a list, got {}",
                        what(),
                        other.brief()
                    )),
                }
                return;
            }
            BaseType::Named(name) => name.as_str(),
        };
        let schema = self.schema;
        match schema.types.get(name) {
            Some(TypeDef::Scalar) => {
                if let Err(expected) = scalar_value(name, value) {
                    self.out.push(format!(
                        "{path}: {} must be {expected}, got {}",
                        what(),
                        value.brief()
                    ));
                }
            }
            Some(TypeDef::Enum { values }) => {
                if !matches!(value, Json::Str(s) if values.contains(s)) {
                    let mut allowed: Vec<&str> = values.iter().map(String::as_str).collect();
                    allowed.sort_unstable();
                    self.out.push(format!(
                        "{path}: {} must be a value of enum {name} ({}), got {}",
                        what(),
                        allowed.join(", "),
                        value.brief()
                    ));
                }
            }
            Some(TypeDef::Object { .. }) => match value {
                Json::Obj(members) => self.check_object(name, sets, members, path),
                other => self.out.push(format!(
                    "{path}: {} must be an object, got {}",
                    what(),
                    other.brief()
                )),
            },
            Some(TypeDef::Interface { .. } | TypeDef::Union { .. }) => match value {
                Json::Obj(members) => self.check_abstract(name, sets, members, path),
                other => self.out.push(format!(
                    "{path}: {} must be an object, got {}",
                    what(),
                    other.brief()
                )),
            },
            Some(TypeDef::Input { .. }) | None => {
                self.problems
                    .push(format!("{path}: {name} is not an output type of the schema"));
            }
        }
    }

    /// A value of an interface or union type: it must be exactly what one possible object type
    /// gives (the one `__typename` names, when selected: the `__typename` check rules out others).
    fn check_abstract(
        &mut self,
        name: &str,
        sets: &[&'a SelectionSet],
        members: &[(String, Json)],
        path: &str,
    ) {
        let schema = self.schema;
        let candidates = schema.possible_types(name);
        let trials = match candidates.as_slice() {
            [] => {
                self.out.push(format!(
                    "{path}: {name} has no possible object types, so it has no values"
                ));
                return;
            }
            [only] => {
                self.check_object(only, sets, members, path);
                return;
            }
            several => several,
        };
        let mut best: Option<(&str, Vec<String>)> = None;
        for candidate in trials {
            let saved = std::mem::take(&mut self.out);
            self.check_object(candidate, sets, members, path);
            let violations = std::mem::replace(&mut self.out, saved);
            if violations.is_empty() {
                return;
            }
            if best.as_ref().is_none_or(|(_, b)| violations.len() < b.len()) {
                best = Some((candidate, violations));
            }
        }
        if let Some((candidate, violations)) = best {
            self.out.push(format!(
                "{path}: the {name} object matches none of its possible types ({}); as {candidate}, the closest:",
                trials.join(", ")
            ));
            self.out.extend(violations);
        }
    }

    /// Whether an error at `segments` below an object of type `name` can null everything above:
    /// `Some(true)` if some reading of the path is non-null all the way, `Some(false)` if every
    /// reading crosses a nullable position, `None` if the path does not fit the selection.
    fn chain_object(&mut self, name: &'a str, sets: &[&'a SelectionSet], segments: &[Seg]) -> Option<bool> {
        let Some((Seg::Key(key), tail)) = segments.split_first() else {
            return None;
        };
        let schema = self.schema;
        let mut result = None;
        for candidate in schema.possible_types(name) {
            let collected = self.collect(candidate, sets);
            let Some((_, fields)) = collected.iter().find(|(k, _)| k == key) else {
                continue;
            };
            let reading = match schema.lookup_field(candidate, fields[0].name.node.as_str()) {
                Some(FieldKind::Regular(ty)) => {
                    let sub: Vec<&'a SelectionSet> = fields.iter().map(|f| &f.selection_set.node).collect();
                    self.chain(ty, &sub, tail)
                }
                Some(FieldKind::Typename | FieldKind::Schema) => tail.is_empty().then_some(true),
                Some(FieldKind::TypeIntro) => Some(false),
                None => None,
            };
            match reading {
                Some(true) => return Some(true),
                Some(false) => result = Some(false),
                None => {}
            }
        }
        result
    }

    fn chain(&mut self, ty: &'a Type, sets: &[&'a SelectionSet], segments: &[Seg]) -> Option<bool> {
        if ty.nullable {
            return Some(false);
        }
        let Some((first, tail)) = segments.split_first() else {
            return Some(true);
        };
        match (&ty.base, first) {
            (BaseType::List(inner), Seg::Index(_)) => self.chain(inner, sets, tail),
            (BaseType::Named(name), Seg::Key(_)) => self.chain_object(name.as_str(), sets, segments),
            _ => None,
        }
    }
}

/// Whether `value` is a valid result of the scalar `name`; `Err` describes what was expected.
fn scalar_value(name: &str, value: &Json) -> Result<(), &'static str> {
    let (valid, expected) = match name {
        "Int" => (
            value.as_i32().is_some(),
            "an Int (an integer in the 32-bit signed range)",
        ),
        "Float" => (matches!(value, Json::Num(_)), "a Float (a number)"),
        "String" => (matches!(value, Json::Str(_)), "a String"),
        "Boolean" => (matches!(value, Json::Bool(_)), "a Boolean"),
        "ID" => (matches!(value, Json::Str(_)), "an ID (serialized as a string)"),
        "DateTime" => (
            matches!(value, Json::Str(s) if is_rfc3339(s)),
            "a DateTime (an RFC 3339 date-time string)",
        ),
        _ => (true, "any value"),
    };
    if valid { Ok(()) } else { Err(expected) }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`.
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |from: usize, to: usize| b.get(from..to).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let number = |from: usize, to: usize| s.get(from..to).and_then(|d| d.parse::<u32>().ok()).unwrap_or(99);
    let shape = b.len() >= 20
        && digits(0, 4)
        && b[4] == b'-'
        && digits(5, 7)
        && b[7] == b'-'
        && digits(8, 10)
        && matches!(b[10], b'T' | b't')
        && digits(11, 13)
        && b[13] == b':'
        && digits(14, 16)
        && b[16] == b':'
        && digits(17, 19);
    if !shape
        || !(1..=12).contains(&number(5, 7))
        || !(1..=31).contains(&number(8, 10))
        || number(11, 13) > 23
        || number(14, 16) > 59
        || number(17, 19) > 60
    {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit())
                && rest[1..3].parse::<u32>().is_ok_and(|h| h <= 23)
                && rest[4..6].parse::<u32>().is_ok_and(|m| m <= 59)
        }
        _ => false,
    }
}

/// The validation rules that decide the shape of the answer (spec section 5): fields exist on
/// their parent types, leaf fields have no sub-selection and others have one, fragments exist,
/// have composite type conditions and form no cycle, every operation has a root type.
fn validate_document(schema: &Schema, document: &ExecutableDocument) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, operation) in document.operations.iter() {
        let operation = &operation.node;
        match schema.root(operation.ty) {
            Some(root) => validate_set(
                schema,
                document,
                root,
                &operation.selection_set.node,
                &mut problems,
            ),
            None => problems.push(format!(
                "operation {}: the schema has no {} type",
                name.map_or("(anonymous)", |n| n.as_str()),
                operation.ty
            )),
        }
    }
    for (name, fragment) in &document.fragments {
        let on = fragment.node.type_condition.node.on.node.as_str();
        if schema.is_composite(on) {
            validate_set(
                schema,
                document,
                on,
                &fragment.node.selection_set.node,
                &mut problems,
            );
        } else {
            problems.push(format!(
                "fragment {name}: its type condition {on} is not an object, interface or union"
            ));
        }
        if spreads_itself(document, name.as_str()) {
            problems.push(format!("fragment {name} spreads itself (a fragment cycle)"));
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

fn validate_set(
    schema: &Schema,
    document: &ExecutableDocument,
    parent: &str,
    set: &SelectionSet,
    problems: &mut Vec<String>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let name = field.node.name.node.as_str();
                let sub = &field.node.selection_set.node;
                match schema.lookup_field(parent, name) {
                    None => problems.push(format!("field \"{name}\" is not defined on type {parent}")),
                    Some(FieldKind::Typename) if !sub.items.is_empty() => {
                        problems.push(format!("__typename on {parent} has a sub-selection"));
                    }
                    Some(FieldKind::Typename | FieldKind::Schema | FieldKind::TypeIntro) => {}
                    Some(FieldKind::Regular(ty)) => {
                        let base = named(ty);
                        match (schema.is_composite(base), sub.items.is_empty()) {
                            (true, true) => {
                                problems.push(format!("field {parent}.{name} ({ty}) needs a sub-selection"))
                            }
                            (true, false) => validate_set(schema, document, base, sub, problems),
                            (false, false) => {
                                problems.push(format!(
                                    "field {parent}.{name} ({ty}) is a leaf: no sub-selection allowed"
                                ));
                            }
                            (false, true) => {}
                        }
                    }
                }
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if !document.fragments.contains_key(name) {
                    problems.push(format!("unknown fragment {name}"));
                }
            }
            Selection::InlineFragment(fragment) => {
                let on = fragment
                    .node
                    .type_condition
                    .as_ref()
                    .map_or(parent, |c| c.node.on.node.as_str());
                if schema.is_composite(on) {
                    validate_set(schema, document, on, &fragment.node.selection_set.node, problems);
                } else {
                    problems.push(format!(
                        "inline fragment on {on}: not an object, interface or union"
                    ));
                }
            }
        }
    }
}

fn spread_names<'d>(set: &'d SelectionSet, names: &mut Vec<&'d str>) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => spread_names(&field.node.selection_set.node, names),
            Selection::FragmentSpread(spread) => names.push(spread.node.fragment_name.node.as_str()),
            Selection::InlineFragment(fragment) => spread_names(&fragment.node.selection_set.node, names),
        }
    }
}

fn spreads_itself(document: &ExecutableDocument, start: &str) -> bool {
    let mut stack = Vec::new();
    let mut visited = HashSet::new();
    if let Some(fragment) = document.fragments.get(start) {
        spread_names(&fragment.node.selection_set.node, &mut stack);
    }
    while let Some(name) = stack.pop() {
        if name == start {
            return true;
        }
        if visited.insert(name)
            && let Some(fragment) = document.fragments.get(name)
        {
            spread_names(&fragment.node.selection_set.node, &mut stack);
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const SERVED_SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");

    const SDL: &str = r#"
        schema { query: Query mutation: Mutation }
        "An RFC 3339 date-time."
        scalar DateTime
        scalar Json
        enum Color { RED GREEN BLUE }
        interface Node { id: ID! }
        type Author implements Node { id: ID! name: String! email: String born: DateTime }
        type Article implements Node {
          id: ID!
          title: String!
          score: Int
          rating: Float
          published: Boolean!
          color: Color!
          author: Author
          tags: [String!]!
          comments: [Comment!]!
          meta: Json
        }
        type Comment { id: ID! body: String! author: Author! }
        union SearchResult = Author | Article
        input Filter { color: Color! limit: Int = 10 }
        type Query {
          article(id: ID!): Article
          articles(filter: Filter): [Article!]!
          node(id: ID!): Node
          search(q: String!): [SearchResult!]!
          viewer: Author!
        }
        type Mutation { publish(id: ID!): Article! }
    "#;

    fn schema() -> Schema {
        Schema::parse(SDL).expect("the fixture SDL parses")
    }

    fn run(document: &str, variables: Value, response: Value) -> Result<(), Vec<String>> {
        check_response(&schema(), document, None, &variables, &response)
    }

    #[track_caller]
    fn accepts(document: &str, variables: Value, response: Value) {
        if let Err(violations) = run(document, variables, response) {
            panic!("expected the response to be accepted, got {violations:#?}");
        }
    }

    #[track_caller]
    fn rejects(document: &str, variables: Value, response: Value, needle: &str) {
        let violations =
            run(document, variables, response).expect_err("expected the response to be rejected");
        assert!(
            violations.iter().any(|v| v.contains(needle)),
            "no violation mentions {needle:?}: {violations:#?}"
        );
    }

    /// A valid error entry with this path.
    fn error_at(path: Value) -> Value {
        json!({"message": "boom", "locations": [{"line": 1, "column": 3}], "path": path, "extensions": {"code": "INTERNAL"}})
    }

    const ARTICLE: &str = r#"{ article(id: "1") { id title } }"#;

    fn article_ok() -> Value {
        json!({"data": {"article": {"id": "1", "title": "T"}}})
    }

    // ---- accepted ----

    #[test]
    fn accepts_aliases_fragments_skip_defaults_and_merged_keys() {
        let document = r#"
            query Q($withScore: Boolean = false, $noRating: Boolean = true, $id: ID! = "1") {
              first: article(id: $id) {
                ...Basic
                title
                score @include(if: $withScore)
                rating @skip(if: $noRating)
                author { name ... on Author { id } }
                author { email }
                ... on Article { tags }
                ... on Node { id }
                published @skip(if: false) @include(if: true)
                hidden: title @skip(if: true) @include(if: true)
              }
              second: article(id: "2") { heading: title }
              viewer { __typename id name born }
            }
            fragment Basic on Article { id title color }
        "#;
        let response = json!({"data": {
            "first": {
                "id": "1", "title": "T", "color": "RED",
                "author": {"name": "A", "id": "9", "email": null},
                "tags": ["x", "y"], "published": true
            },
            "second": null,
            "viewer": {"__typename": "Author", "id": "9", "name": "A", "born": "1990-01-02T03:04:05.123+01:00"}
        }});
        accepts(document, json!({}), response.clone());
        // The defaults give way to sent values.
        let sent = json!({"data": {
            "first": {
                "id": "1", "title": "T", "color": "RED", "score": 3, "rating": 4.5,
                "author": {"name": "A", "id": "9", "email": "a@b.c"},
                "tags": [], "published": true
            },
            "second": {"heading": "U"},
            "viewer": {"__typename": "Author", "id": "9", "name": "A", "born": null}
        }});
        accepts(document, json!({"withScore": true, "noRating": false}), sent);
        // And the operation can be named.
        let named = check_response(&schema(), document, Some("Q"), &json!({}), &response);
        assert_eq!(named, Ok(()));
    }

    #[test]
    fn accepts_an_error_inside_a_nulled_parent() {
        let document = r#"{ article(id: "1") { title author { name } } viewer { name } }"#;
        accepts(
            document,
            json!({}),
            json!({
                "data": {"article": {"title": "T", "author": null}, "viewer": {"name": "V"}},
                "errors": [error_at(json!(["article", "author", "name"]))]
            }),
        );
        // Propagated further up: the error's own position and its parent are gone.
        let deep = r#"{ article(id: "1") { comments { author { name } } } }"#;
        accepts(
            deep,
            json!({}),
            json!({
                "data": {"article": null},
                "errors": [error_at(json!(["article", "comments", 0, "author", "name"]))]
            }),
        );
    }

    #[test]
    fn accepts_null_data_from_a_non_null_root_field() {
        accepts(
            "{ viewer { name } }",
            json!({}),
            json!({"data": null, "errors": [error_at(json!(["viewer", "name"]))]}),
        );
    }

    #[test]
    fn accepts_request_errors() {
        let refused = json!({"errors": [{"message": "no", "extensions": {"code": "BAD_REQUEST"}}]});
        accepts("{ nope", json!({}), refused);
        // async-graphql writes `data: null` with its request errors.
        let with_null = json!({"data": null, "errors": [{"message": "unknown field", "locations": [{"line": 1, "column": 3}], "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]});
        accepts("{ nope }", json!({}), with_null);
    }

    #[test]
    fn accepts_abstract_values_with_and_without_typename() {
        let document = r#"{ node(id: "1") { id ... on Article { title } ... on Author { name } } }"#;
        accepts(
            document,
            json!({}),
            json!({"data": {"node": {"id": "1", "title": "T"}}}),
        );
        accepts(
            document,
            json!({}),
            json!({"data": {"node": {"id": "9", "name": "A"}}}),
        );
        let search = r#"{ search(q: "x") { __typename ... on Author { name } ... on Article { title } } }"#;
        accepts(
            search,
            json!({}),
            json!({"data": {"search": [
                {"__typename": "Author", "name": "A"},
                {"__typename": "Article", "title": "T"}
            ]}}),
        );
    }

    #[test]
    fn accepts_introspection_fields() {
        let document = r#"{ __typename __schema { queryType { name } } __type(name: "Nope") { name } }"#;
        accepts(
            document,
            json!({}),
            json!({"data": {"__typename": "Query", "__schema": {"queryType": {"name": "Query"}}, "__type": null}}),
        );
    }

    #[test]
    fn text_responses_are_checked_with_their_order() {
        let schema = schema();
        let ok = r#"{"data":{"article":{"id":"1","title":"T"}}}"#;
        assert_eq!(
            check_response_text(&schema, ARTICLE, None, &json!({}), ok),
            Ok(())
        );
        let swapped = r#"{"data":{"article":{"title":"T","id":"1"}}}"#;
        let violations = check_response_text(&schema, ARTICLE, None, &json!({}), swapped).unwrap_err();
        assert!(
            violations
                .iter()
                .any(|v| v.contains("data.article: keys out of order")),
            "{violations:#?}"
        );
        let unordered = schema.with_check_order(false);
        assert_eq!(
            check_response_text(&unordered, ARTICLE, None, &json!({}), swapped),
            Ok(())
        );
    }

    #[test]
    fn served_schema_parses_and_checks_a_realistic_answer() {
        let sdl = std::fs::read_to_string(SERVED_SCHEMA).expect("schema.graphql is readable");
        let schema = Schema::parse(&sdl).expect("schema.graphql parses");
        let document = r#"
            query Feed($first: Int!) {
              posts(first: $first, sort: POPULAR) {
                nodes { id title category createdAt author { username role } comments(first: 1) { totalCount } }
                pageInfo { hasNextPage endCursor }
              }
              me { id }
            }
        "#;
        let response = json!({"data": {
            "posts": {
                "nodes": [{
                    "id": "0190", "title": "Hello", "category": "TECHNOLOGY",
                    "createdAt": "2025-03-01T10:00:00.123Z",
                    "author": {"username": "ann", "role": "ADMIN"},
                    "comments": {"totalCount": 2}
                }],
                "pageInfo": {"hasNextPage": false, "endCursor": null}
            },
            "me": null
        }});
        assert_eq!(
            check_response(&schema, document, None, &json!({"first": 5}), &response),
            Ok(())
        );
        let bad = json!({"data": {"posts": {"nodes": [{"id": "0190", "title": "Hello", "category": "SPORTS",
            "createdAt": "yesterday", "author": null, "comments": {"totalCount": 2}}],
            "pageInfo": {"hasNextPage": false, "endCursor": null}}, "me": null}});
        let violations = check_response(&schema, document, None, &json!({"first": 5}), &bad).unwrap_err();
        assert!(
            violations
                .iter()
                .any(|v| v.starts_with("data.posts.nodes[0].category: ")),
            "{violations:#?}"
        );
        assert!(
            violations
                .iter()
                .any(|v| v.starts_with("data.posts.nodes[0].createdAt: ")),
            "{violations:#?}"
        );
        assert!(
            violations
                .iter()
                .any(|v| v == r#"data.posts.nodes[0].author: non-null field "author" (User!) is null"#),
            "{violations:#?}"
        );
    }

    #[test]
    fn schema_errors_are_reported() {
        assert!(
            Schema::parse("type Query { a: Missing }")
                .unwrap_err()
                .contains("unknown type Missing")
        );
        assert!(Schema::parse("type Query { a: Int").is_err());
        assert!(
            Schema::parse("type Foo { a: Int }")
                .unwrap_err()
                .contains("no query type")
        );
    }

    // ---- response shape ----

    #[test]
    fn rejects_an_unexpected_top_level_key() {
        let mut response = article_ok();
        response["debug"] = json!(true);
        rejects(ARTICLE, json!({}), response, "unexpected top-level key \"debug\"");
    }

    #[test]
    fn rejects_neither_data_nor_errors() {
        rejects(
            ARTICLE,
            json!({}),
            json!({"extensions": {}}),
            "neither data nor errors",
        );
    }

    #[test]
    fn rejects_an_empty_or_non_list_errors() {
        let mut response = article_ok();
        response["errors"] = json!([]);
        rejects(ARTICLE, json!({}), response, "errors: must be a non-empty list");
        rejects(
            ARTICLE,
            json!({}),
            json!({"errors": {"message": "x"}}),
            "errors: must be a non-empty list",
        );
    }

    #[test]
    fn rejects_extensions_that_are_not_a_map() {
        let mut response = article_ok();
        response["extensions"] = json!([1]);
        rejects(ARTICLE, json!({}), response, "extensions: must be a map");
    }

    #[test]
    fn rejects_an_error_without_a_string_message() {
        let no_message = json!({"errors": [{"extensions": {"code": "X"}}]});
        rejects(ARTICLE, json!({}), no_message, "errors[0]: has no message");
        let number = json!({"errors": [{"message": 5, "extensions": {"code": "X"}}]});
        rejects(ARTICLE, json!({}), number, "errors[0].message: must be a string");
    }

    #[test]
    fn rejects_a_location_below_one() {
        let response = json!({"errors": [{"message": "x", "locations": [{"line": 0, "column": 0}], "extensions": {"code": "X"}}]});
        rejects(
            ARTICLE,
            json!({}),
            response,
            "errors[0].locations[0]: a location must be",
        );
    }

    #[test]
    fn rejects_an_error_without_a_code() {
        let response = json!({"errors": [{"message": "x"}]});
        rejects(ARTICLE, json!({}), response, "errors[0]: has no extensions.code");
        let response = json!({"errors": [{"message": "x", "extensions": {"reason": "y"}}]});
        rejects(ARTICLE, json!({}), response, "errors[0].extensions: has no code");
        let response = json!({"errors": [{"message": "x", "extensions": {"code": 7}}]});
        rejects(
            ARTICLE,
            json!({}),
            response,
            "errors[0].extensions.code: must be a string",
        );
    }

    #[test]
    fn rejects_an_extra_error_entry() {
        let response = json!({"errors": [{"message": "x", "code": "X", "extensions": {"code": "X"}}]});
        rejects(
            ARTICLE,
            json!({}),
            response,
            "errors[0]: unexpected entry \"code\"",
        );
    }

    #[test]
    fn rejects_a_malformed_error_path() {
        let mut response = json!({"data": {"article": null}, "errors": [error_at(json!(["article", -1]))]});
        rejects(
            ARTICLE,
            json!({}),
            response.clone(),
            "errors[0].path[1]: a path segment must be",
        );
        response["errors"][0]["path"] = json!([]);
        rejects(ARTICLE, json!({}), response, "errors[0].path: must not be empty");
    }

    #[test]
    fn rejects_null_data_without_errors() {
        rejects(
            ARTICLE,
            json!({}),
            json!({"data": null}),
            "data: is null, which requires at least one error",
        );
    }

    #[test]
    fn rejects_data_that_is_not_an_object() {
        rejects(
            ARTICLE,
            json!({}),
            json!({"data": [1]}),
            "data: must be an object or null",
        );
    }

    #[test]
    fn rejects_a_repeated_key_in_the_text() {
        let text = r#"{"data":{"article":{"id":"1","title":"T","title":"T"}}}"#;
        let violations = check_response_text(&schema(), ARTICLE, None, &json!({}), text).unwrap_err();
        assert!(
            violations
                .iter()
                .any(|v| v.contains("data.article: key \"title\" appears more than once"))
        );
        let not_json = check_response_text(&schema(), ARTICLE, None, &json!({}), "{").unwrap_err();
        assert!(not_json[0].contains("not valid JSON"));
    }

    // ---- the request decides whether there can be data ----

    #[test]
    fn rejects_data_for_a_document_that_does_not_parse() {
        rejects(
            "{ article(id: ",
            json!({}),
            article_ok(),
            "the document does not parse",
        );
    }

    #[test]
    fn rejects_data_for_an_unknown_operation() {
        let document = "query A { viewer { name } } query B { viewer { id } }";
        let response = json!({"data": {"viewer": {"name": "V"}}});
        let violations = check_response(&schema(), document, Some("C"), &json!({}), &response).unwrap_err();
        assert!(
            violations.iter().any(|v| v.contains("no operation named \"C\"")),
            "{violations:#?}"
        );
        rejects(
            document,
            json!({}),
            response,
            "several operations and no operation name",
        );
    }

    #[test]
    fn rejects_data_for_an_invalid_document() {
        let response = json!({"data": {"article": {"nope": 1}}});
        rejects(
            r#"{ article(id: "1") { nope } }"#,
            json!({}),
            response,
            "field \"nope\" is not defined on type Article",
        );
        let cycle = r#"{ article(id: "1") { ...A } } fragment A on Article { author { ...B } } fragment B on Author { ...A }"#;
        rejects(
            cycle,
            json!({}),
            json!({"data": {"article": null}}),
            "fragment A spreads itself",
        );
        let leaf = r#"{ article(id: "1") { title { x } } }"#;
        rejects(
            leaf,
            json!({}),
            json!({"data": {"article": null}}),
            "is a leaf: no sub-selection allowed",
        );
    }

    #[test]
    fn rejects_data_for_variables_that_do_not_coerce() {
        let document = "query ($f: Filter) { articles(filter: $f) { id } }";
        let response = json!({"data": {"articles": []}});
        rejects(
            document,
            json!({"f": {"limit": 3}}),
            response.clone(),
            "Filter.color (Color!) is required",
        );
        rejects(
            document,
            json!({"f": {"color": "PINK"}}),
            response.clone(),
            "\"PINK\" is not a valid Color",
        );
        accepts(document, json!({"f": {"color": "RED", "limit": 3}}), response);
        let required = "query ($id: ID!) { article(id: $id) { id } }";
        rejects(
            required,
            json!({}),
            json!({"data": {"article": null}}),
            "$id (ID!) is required but was not provided",
        );
    }

    // ---- the keys of each object ----

    #[test]
    fn rejects_a_missing_key() {
        rejects(
            ARTICLE,
            json!({}),
            json!({"data": {"article": {"id": "1"}}}),
            "data.article: missing key \"title\"",
        );
    }

    #[test]
    fn rejects_an_extra_key() {
        let response = json!({"data": {"article": {"id": "1", "title": "T", "score": 3}}});
        rejects(
            ARTICLE,
            json!({}),
            response,
            "data.article: unexpected key \"score\"",
        );
    }

    #[test]
    fn rejects_keys_out_of_order() {
        let response = json!({"data": {"article": {"title": "T", "id": "1"}}});
        if json_preserves_order() {
            rejects(ARTICLE, json!({}), response, "data.article: keys out of order");
        } else {
            // The Value cannot show the order; `check_response_text` checks it.
            accepts(ARTICLE, json!({}), response);
        }
    }

    #[test]
    fn rejects_a_key_that_skip_removes() {
        let document = "query ($hide: Boolean = true) { viewer { id name @skip(if: $hide) } }";
        let response = json!({"data": {"viewer": {"id": "9", "name": "A"}}});
        rejects(
            document,
            json!({}),
            response.clone(),
            "data.viewer: unexpected key \"name\"",
        );
        accepts(document, json!({"hide": false}), response);
        // @skip wins over @include.
        let both = "{ viewer { id name @skip(if: true) @include(if: true) } }";
        rejects(
            both,
            json!({}),
            json!({"data": {"viewer": {"id": "9", "name": "A"}}}),
            "unexpected key \"name\"",
        );
    }

    // ---- the values ----

    #[test]
    fn rejects_null_in_a_non_null_field() {
        let response = json!({"data": {"article": {"id": "1", "title": null}}});
        rejects(
            ARTICLE,
            json!({}),
            response,
            r#"data.article.title: non-null field "title" (String!) is null"#,
        );
    }

    #[test]
    fn rejects_null_in_a_non_null_list_item() {
        let document = r#"{ article(id: "1") { comments { id } } }"#;
        let response = json!({"data": {"article": {"comments": [{"id": "1"}, null]}}});
        rejects(
            document,
            json!({}),
            response,
            "data.article.comments[1]: non-null list item (Comment!)",
        );
    }

    #[test]
    fn rejects_a_non_list_for_a_list() {
        let document = r#"{ article(id: "1") { tags } }"#;
        let response = json!({"data": {"article": {"tags": "a,b"}}});
        rejects(
            document,
            json!({}),
            response,
            "data.article.tags: field \"tags\" ([String!]!) must be a list",
        );
    }

    #[test]
    fn rejects_a_bad_int() {
        let document = r#"{ article(id: "1") { score } }"#;
        rejects(
            document,
            json!({}),
            json!({"data": {"article": {"score": 2_147_483_648_i64}}}),
            "must be an Int",
        );
        rejects(
            document,
            json!({}),
            json!({"data": {"article": {"score": 1.5}}}),
            "must be an Int",
        );
    }

    #[test]
    fn rejects_a_bad_float() {
        let document = r#"{ article(id: "1") { rating } }"#;
        rejects(
            document,
            json!({}),
            json!({"data": {"article": {"rating": "4.5"}}}),
            "must be a Float",
        );
        accepts(document, json!({}), json!({"data": {"article": {"rating": 4}}}));
    }

    #[test]
    fn rejects_a_bad_string() {
        let response = json!({"data": {"article": {"id": "1", "title": 7}}});
        rejects(
            ARTICLE,
            json!({}),
            response,
            "data.article.title: field \"title\" (String!) must be a String",
        );
    }

    #[test]
    fn rejects_a_bad_boolean() {
        let document = r#"{ article(id: "1") { published } }"#;
        rejects(
            document,
            json!({}),
            json!({"data": {"article": {"published": "true"}}}),
            "must be a Boolean",
        );
    }

    #[test]
    fn rejects_an_id_that_is_not_a_string() {
        let response = json!({"data": {"article": {"id": 1, "title": "T"}}});
        rejects(
            ARTICLE,
            json!({}),
            response,
            "data.article.id: field \"id\" (ID!) must be an ID",
        );
    }

    #[test]
    fn rejects_an_unknown_enum_value() {
        let document = r#"{ article(id: "1") { color } }"#;
        let response = json!({"data": {"article": {"color": "PINK"}}});
        rejects(
            document,
            json!({}),
            response,
            "must be a value of enum Color (BLUE, GREEN, RED)",
        );
    }

    #[test]
    fn rejects_a_bad_date_time_but_any_other_custom_scalar_value() {
        let document = r#"{ viewer { born } article(id: "1") { meta } }"#;
        let response =
            json!({"data": {"viewer": {"born": "2024-13-01T00:00:00Z"}, "article": {"meta": [1, {"a": 2}]}}});
        rejects(
            document,
            json!({}),
            response,
            "data.viewer.born: field \"born\" (DateTime) must be a DateTime",
        );
        let fine =
            json!({"data": {"viewer": {"born": "2024-12-01T00:00:00Z"}, "article": {"meta": [1, {"a": 2}]}}});
        accepts(document, json!({}), fine);
    }

    #[test]
    fn rejects_a_non_object_for_an_object() {
        let document = r#"{ article(id: "1") { author { name } } }"#;
        let response = json!({"data": {"article": {"author": "A"}}});
        rejects(
            document,
            json!({}),
            response,
            "data.article.author: field \"author\" (Author) must be an object",
        );
    }

    #[test]
    fn rejects_a_wrong_typename() {
        let document = "{ viewer { __typename } }";
        let response = json!({"data": {"viewer": {"__typename": "User"}}});
        rejects(
            document,
            json!({}),
            response,
            "data.viewer.__typename: __typename must be \"Author\"",
        );
    }

    #[test]
    fn rejects_an_abstract_value_that_fits_no_possible_type() {
        let document = r#"{ node(id: "1") { id ... on Article { title } ... on Author { name } } }"#;
        let response = json!({"data": {"node": {"id": "1", "title": "T", "name": "A"}}});
        rejects(
            document,
            json!({}),
            response,
            "data.node: the Node object matches none of its possible types",
        );
        let typed = r#"{ search(q: "x") { __typename ... on Article { title } } }"#;
        let response = json!({"data": {"search": [{"__typename": "Comment", "title": "T"}]}});
        rejects(
            typed,
            json!({}),
            response,
            "data.search[0].__typename: __typename must be",
        );
    }

    // ---- error paths and null propagation ----

    #[test]
    fn rejects_an_error_path_at_a_non_null_value() {
        let response = json!({"data": {"article": {"id": "1", "title": "T"}}, "errors": [error_at(json!(["article", "title"]))]});
        rejects(
            ARTICLE,
            json!({}),
            response,
            "errors[0].path: it leads to data.article.title = \"T\", a non-null value",
        );
    }

    #[test]
    fn rejects_an_error_path_through_a_missing_key() {
        let response = json!({"data": {"article": {"id": "1", "title": "T"}}, "errors": [error_at(json!(["post", "title"]))]});
        rejects(
            ARTICLE,
            json!({}),
            response,
            "errors[0].path: data has no key \"post\"",
        );
    }

    #[test]
    fn rejects_an_error_path_past_the_end_of_a_list() {
        let document = r#"{ article(id: "1") { tags } }"#;
        let response = json!({"data": {"article": {"tags": ["a"]}}, "errors": [error_at(json!(["article", "tags", 3]))]});
        rejects(
            document,
            json!({}),
            response,
            "errors[0].path: index 3 is past the end of data.article.tags",
        );
    }

    #[test]
    fn rejects_null_data_that_no_error_can_explain() {
        let response = json!({"data": null, "errors": [error_at(json!(["article", "title"]))]});
        rejects(
            ARTICLE,
            json!({}),
            response,
            "data: is null, but no error can have nulled it",
        );
    }
}
