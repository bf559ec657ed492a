//! The GraphQL door: schema, resolvers, loaders, limits, the execution pipeline and its two
//! transports (HTTP and WebSocket), over a runtime of its own ([`runtime::Gateway`]).

pub mod admission;
pub mod batch;
pub mod context;
pub mod fanout;
pub mod graphiql;
pub mod json;
pub mod loaders;
pub mod mutation;
pub mod parsed;
pub mod persisted;
pub mod pipeline;
pub mod query;
pub mod runtime;
pub mod subscription;
pub mod transport;
pub mod types;

use async_graphql::Schema;

use crate::config::Config;
use mutation::MutationRoot;
use query::QueryRoot;
use subscription::SubscriptionRoot;

pub type GatewaySchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Builds the executable schema with the configured limits (used by the server, the `schema`
/// command and the tests alike).
pub fn build_schema(config: &Config) -> GatewaySchema {
    // The depth, cost and alias limits run before execution (limits::prepare); this is the
    // parser's own backstop against pathological nesting. No extension is registered: objects
    // resolve their fields through `types::InOrder`, which does not run per-field hooks.
    let mut builder = Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot)
        .limit_recursive_depth(64)
        .data(fanout::Fanout::new(config.graphql_max_subscriptions_per_client));
    if config.federation {
        builder = builder.enable_federation();
    }
    if !config.graphql_introspection {
        // prepare() answers with an error first; this is the backstop.
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The SDL of the schema, as written to `schema.graphql`.
pub fn sdl(config: &Config) -> String {
    if config.federation {
        // What `_service { sdl }` answers: the subgraph SDL a composition takes.
        return build_schema(config).sdl_with_options(
            async_graphql::SDLExportOptions::new()
                .federation()
                .compose_directive(),
        );
    }
    // `@specifiedBy` on custom scalars tells clients (and the response checker) their format.
    build_schema(config).sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
