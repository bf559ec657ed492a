//! Objects whose fields are resolved side by side and written in the order of the query.
//!
//! async-graphql resolves an object's fields through a `FuturesUnordered` of boxed futures and
//! writes each field when it completes (its issue 612): `{ id author { username } title }`
//! could come back as `{ id title author }`, against the GraphQL spec's "ordered as the
//! selection set". [`InOrder`] resolves the same fields through the type's own
//! `resolve_field` (the `#[Object]` resolvers stay the only place that says what a field is),
//! polls them together in one allocation, and writes them in selection order. That also drops
//! the per-field box and task of `FuturesUnordered`, which were a tenth of a nested query's CPU.
//!
//! The operation's root is executed by async-graphql itself; [`RootOrder`] puts its fields in
//! query order once the operation has run.

use std::borrow::Cow;
use std::collections::HashSet;

use async_graphql::indexmap::IndexMap;
use async_graphql::indexmap::map::Entry;
use async_graphql::parser::types::{ExecutableDocument, Field, OperationDefinition, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::resolve_container;
use async_graphql::{
    ContextSelectionSet, Name, ObjectType, OutputType, Positioned, ServerError, ServerResult, Value,
};
use futures_util::future::{BoxFuture, join_all};

/// An object type resolved field by field in query order (see the module documentation). Object
/// types only: an interface or union resolves its fields through its concrete type.
pub struct InOrder<T>(pub T);

impl<T: ObjectType> OutputType for InOrder<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        // Boxed as a trait object: types refer to each other (a post's author's posts), so the
        // future of one object's fields would otherwise contain itself.
        let fields: BoxFuture<'_, ServerResult<Value>> = Box::pin(resolve_in_order(ctx, &self.0));
        fields.await
    }
}

async fn resolve_in_order<T: ObjectType>(ctx: &ContextSelectionSet<'_>, root: &T) -> ServerResult<Value> {
    // A custom directive wraps its field's future: async-graphql's own path runs it (this
    // schema defines none; @skip/@include are applied and removed before execution). The schema
    // registers no extension either (`build_schema`), whose per-field hooks this path would skip.
    if !ctx.schema_env.custom_directives.is_empty() {
        return resolve_container(ctx, root).await;
    }
    let mut fields = Vec::with_capacity(ctx.item.node.items.len());
    collect_fields(ctx, &ctx.item.node, root, &mut fields)?;
    let values = join_all(fields.iter().map(|field| {
        let ctx_field = ctx.with_field(field);
        async move {
            if field.node.name.node == "__typename" {
                return Ok(Value::String(root.introspection_type_name().into_owned()));
            }
            Ok(root.resolve_field(&ctx_field).await?.unwrap_or_default())
        }
    }))
    .await;
    let mut object = IndexMap::with_capacity(fields.len());
    for (field, value) in fields.iter().zip(values) {
        match value {
            Ok(value) => merge_field(&mut object, field.node.response_key().node.clone(), value),
            // As async-graphql does: the error is reported and the field left out.
            Err(error) => ctx.add_error(error),
        }
    }
    Ok(if object.is_empty() {
        Value::Null
    } else {
        Value::Object(object)
    })
}

/// Appends the fields of `set` that apply to `root` (through fragments whose type condition it
/// meets) to `fields`.
fn collect_fields<'a, T: ObjectType>(
    ctx: &ContextSelectionSet<'a>,
    set: &'a SelectionSet,
    root: &T,
    fields: &mut Vec<&'a Positioned<Field>>,
) -> ServerResult<()> {
    for selection in &set.items {
        let (condition, inner) = match &selection.node {
            Selection::Field(field) => {
                fields.push(field);
                continue;
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                let fragment = ctx.query_env.fragments.get(name).ok_or_else(|| {
                    ServerError::new(format!(r#"Unknown fragment "{name}"."#), Some(spread.pos))
                })?;
                (Some(&fragment.node.type_condition), &fragment.node.selection_set)
            }
            Selection::InlineFragment(fragment) => (
                fragment.node.type_condition.as_ref(),
                &fragment.node.selection_set,
            ),
        };
        let applies = condition.is_none_or(|condition| {
            let on = condition.node.on.node.as_str();
            let concrete = root.introspection_type_name();
            on == concrete
                || on == T::type_name()
                || ctx
                    .schema_env
                    .registry
                    .implements
                    .get(concrete.as_ref())
                    .is_some_and(|interfaces| interfaces.contains(on))
        });
        if applies {
            collect_fields(ctx, &inner.node, root, fields)?;
        }
    }
    Ok(())
}

/// Adds one field's value to an object; a key selected twice (`{ a { x } a { y } }`) has its
/// sub-selections merged, as the spec's field merging asks.
fn merge_field(object: &mut IndexMap<Name, Value>, key: Name, value: Value) {
    // One hash of the key per field (an entry, not a lookup and then an insert).
    let existing = match object.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(value);
            return;
        }
        Entry::Occupied(slot) => slot.into_mut(),
    };
    match (existing, value) {
        (Value::Object(existing), Value::Object(more)) => {
            for (key, value) in more {
                merge_field(existing, key, value);
            }
        }
        (Value::List(existing), Value::List(more)) => {
            for (existing, more) in existing.iter_mut().zip(more) {
                if let (Value::Object(existing), Value::Object(more)) = (existing, more) {
                    for (key, value) in more {
                        merge_field(existing, key, value);
                    }
                }
            }
        }
        // The same leaf twice resolves to the same value: keep the first.
        _ => {}
    }
}

/// The response keys of an operation's root selection, in query order.
pub struct RootOrder(Vec<Name>);

impl RootOrder {
    /// The keys `operation` selects at its root, through its fragments (which all apply: the
    /// root has one type).
    ///
    /// This runs before validation, so each fragment is expanded once: a document whose
    /// fragments spread themselves (which validation then refuses) must not recurse forever or
    /// blow up exponentially here.
    pub fn of(document: &ExecutableDocument, operation: &OperationDefinition) -> Self {
        fn walk<'d>(
            document: &'d ExecutableDocument,
            set: &'d SelectionSet,
            expanded: &mut HashSet<&'d Name>,
            keys: &mut Vec<Name>,
        ) {
            for selection in &set.items {
                match &selection.node {
                    Selection::Field(field) => {
                        let key = field.node.response_key().node.clone();
                        if !keys.contains(&key) {
                            keys.push(key);
                        }
                    }
                    Selection::FragmentSpread(spread) => {
                        let name = &spread.node.fragment_name.node;
                        if let (true, Some(fragment)) = (expanded.insert(name), document.fragments.get(name))
                        {
                            walk(document, &fragment.node.selection_set.node, expanded, keys);
                        }
                    }
                    Selection::InlineFragment(fragment) => {
                        walk(document, &fragment.node.selection_set.node, expanded, keys);
                    }
                }
            }
        }
        let mut keys = Vec::new();
        walk(
            document,
            &operation.selection_set.node,
            &mut HashSet::new(),
            &mut keys,
        );
        Self(keys)
    }

    /// Writes the root fields of `data` in query order.
    pub fn apply(&self, data: &mut Value) {
        if let Value::Object(fields) = data
            && fields.len() > 1
        {
            let position = |key: &Name| self.0.iter().position(|k| k == key).unwrap_or(usize::MAX);
            fields.sort_by(|a, _, b, _| position(a).cmp(&position(b)));
        }
    }
}
