//! Assembling the application: state from configuration, and the router over it.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Router, middleware};

use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::db::pool::build_pool;
use crate::db::replicas::Replicas;
use crate::db::statements::StatementCounter;
use crate::events::{EventBus, Relay};
use crate::graphql::graphiql;
use crate::graphql::runtime::Gateway;
use crate::graphql::transport::http as graphql_http;
use crate::redis_link::RedisLink;
use crate::state::{AppState, StateParts};
use crate::{http, rest};

/// Verified when a login names an unknown email, so that both cases cost one argon2id check
/// with the same parameters (no user enumeration by timing). It is the hash of a random string
/// nobody knows, and a login with an unknown email fails whatever it matches; a constant saves
/// the 19 MiB work area and the time of hashing at every start.
const DUMMY_PASSWORD_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$QvvSLGKVfU6T/yF0Hn0cPA$ZaHJ2QuGZuj9qCpLw5C801/6o4RFK8yi2fyKwFl5iNM";

/// Builds the state: pool (lazy), JWT keys, Redis client.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let statements = Arc::new(StatementCounter::default());
    let pool = build_pool(
        &config.database_url,
        config.database_pool_size,
        statements.clone(),
    );
    let secret = match &config.jwt_secret {
        Some(secret) => secret.as_bytes().to_vec(),
        None => {
            use rand::RngCore;
            let mut bytes = vec![0u8; 64];
            rand::rng().fill_bytes(&mut bytes);
            bytes
        }
    };
    let jwt = JwtKeys::new(&secret, config.jwt_expire);
    let (redis, events) = match &config.redis_url {
        Some(url) => {
            // Connects lazily and reconnects by itself, so Redis may be down at start.
            let manager = RedisLink::connect(url)?;
            let relay = Relay::new(manager.clone(), &config.redis_prefix);
            let events = EventBus::new(Some(relay.clone()));
            let bus = events.clone();
            relay.spawn_listener(move |event| bus.deliver_locally(event));
            (Some(manager), events)
        }
        None => (None, EventBus::new(None)),
    };
    let replicas = config.database_read_urls.as_ref().map(|urls| {
        let members = urls
            .0
            .iter()
            .map(|url| {
                let replica = build_pool(url, config.database_pool_size, statements.clone());
                (url.clone(), replica)
            })
            .collect();
        let replicas = Replicas::new(
            pool.clone(),
            members,
            config.database_read_max_lag,
            redis.clone(),
            &config.redis_prefix,
        );
        replicas.spawn_checks();
        replicas
    });
    Ok(AppState::new(StateParts {
        config: Arc::new(config),
        pool,
        statements,
        replicas,
        jwt,
        dummy_password_hash: DUMMY_PASSWORD_HASH.to_owned(),
        redis,
        events,
    }))
}

/// The whole application router; the server and the tests use the same one.
pub fn build_app(state: AppState) -> Router {
    build_app_with(Gateway::new(state))
}

/// The router over a GraphQL runtime built by the caller (tests hold on to it).
pub fn build_app_with(gateway: Gateway) -> Router {
    http::metrics::handle();
    let state = gateway.app().clone();
    let graphql = Router::new()
        .route(
            "/graphql",
            get(graphql_http::graphql_get).post(graphql_http::graphql_post),
        )
        .route("/graphql/ws", get(crate::graphql::transport::ws::graphql_ws))
        .layer(DefaultBodyLimit::max(state.config().graphql_body_limit))
        .layer(middleware::from_fn(http::metrics::track_requests))
        .with_state(gateway);
    // Inside each router, so that the metrics see the matched route template.
    let api = rest::router()
        .layer(middleware::from_fn_with_state(
            state.clone(),
            http::rest_cache::rest_cache,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            rest::limit_requests,
        ))
        .layer(middleware::from_fn(http::metrics::track_requests));
    let router = Router::new()
        .merge(graphql)
        .route("/graphiql/static/{file}", get(graphiql::asset))
        .nest("/api", api)
        .route("/metrics", get(http::metrics::render))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            http::client_ip::resolve,
        ))
        .with_state(state.clone());
    http::middleware::apply(router, state.config())
}

#[cfg(test)]
mod tests {
    use super::DUMMY_PASSWORD_HASH;
    use crate::auth::password::verify_password;

    #[tokio::test]
    async fn the_dummy_hash_costs_a_real_verification_and_matches_nothing_common() {
        assert!(DUMMY_PASSWORD_HASH.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        for guess in ["", "password", "password123"] {
            assert!(
                !verify_password(guess.into(), DUMMY_PASSWORD_HASH.into())
                    .await
                    .unwrap()
            );
        }
    }
}
