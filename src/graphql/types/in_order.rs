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
//! The patched executor (vendor/async-graphql) now writes every other object, the root
//! included, in selection order too; this type stays for its speed (one allocation per object).
//!
//! Measured gain against the patched executor's `resolve_container` (the same build with this
//! type's `resolve` calling it instead), 3 alternating rounds each: server CPU per request
//! nested 1.221 to 1.145 ms, feed 0.384 to 0.361, detail 0.321 to 0.313; req/s higher in every
//! paired round of feed and nested (`bash bench/ab.sh BIN_A BIN_B`; docs/benchmarks.md,
//! 2026-12-07 evening). Its answers are checked by the response checker on every test answer and
//! by `execution.rs` (fields in query order, nulls propagated).
//! Errors go through the executor's own routines (`field_error`, `object_from_fields`), so null
//! propagation is decided in one place.

use std::borrow::Cow;

use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{field_error, object_from_fields, resolve_container};
use async_graphql::{
    ContextSelectionSet, ObjectType, OutputType, Positioned, ServerError, ServerResult, Value,
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
    // The one routine of the (patched) executor: an errored field is null when nullable, else
    // its error makes this object fail in turn (spec 6.4.4); keys merge in selection order.
    object_from_fields(
        ctx,
        fields.iter().zip(values).map(|(field, value)| {
            let value = value.or_else(|error| field_error(ctx, &T::type_name(), field, error))?;
            Ok((field.node.response_key().node.clone(), value))
        }),
    )
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
