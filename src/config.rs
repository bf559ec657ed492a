//! Runtime configuration: every setting is an environment variable with a matching `--flag`.

use std::net::IpAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// Where the gateway runs: production requires an explicit JWT secret and logs JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AppEnv {
    Development,
    Test,
    Production,
}

/// Shape of the tracing output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Everything the server needs to start, parsed once at start-up.
#[derive(Clone, Args)]
pub struct Config {
    /// Postgres connection URL; the database is created and migrated at start.
    #[arg(long, env = "DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/blog_gateway", value_parser = parse_postgres_url)]
    pub database_url: String,

    /// Maximum number of pooled Postgres connections.
    #[arg(long, env = "DATABASE_POOL_SIZE", default_value_t = 10, value_parser = parse_pool_size)]
    pub database_pool_size: u32,

    /// Read replicas (comma-separated postgres:// URLs of streaming replicas of DATABASE_URL):
    /// queries run on them, writes and transactions on the primary. A caller who just wrote
    /// reads from the primary until a replica has replayed the write.
    #[arg(long, env = "DATABASE_READ_URLS", value_parser = parse_postgres_urls)]
    pub database_read_urls: Option<ReadUrls>,

    /// A replica further behind the primary than this is skipped until it catches up:
    /// `500ms`, `5s`, `1m` or plain seconds.
    #[arg(long, env = "DATABASE_READ_MAX_LAG", default_value = "5s", value_parser = parse_lag)]
    pub database_read_max_lag: Duration,

    /// Redis for the shared cache, rate limits and pub/sub: `redis://host:6379`, a cluster
    /// (`redis+cluster://host1:7000,host2:7001` or comma-separated `redis://` seeds) or a
    /// Sentinel master (`redis+sentinel://s1:26379,s2:26379/<master name>`); unset means
    /// in-process.
    #[arg(long, env = "REDIS_URL", value_parser = parse_redis_url)]
    pub redis_url: Option<String>,

    /// Prefix of every Redis key and channel (instances of one deployment share it).
    #[arg(long, env = "REDIS_PREFIX", default_value = "bg:")]
    pub redis_prefix: String,

    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1", value_parser = parse_host)]
    pub host: IpAddr,

    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 3000, value_parser = parse_port)]
    pub port: u16,

    /// development, test or production.
    #[arg(long, env = "APP_ENV", value_enum, default_value = "development")]
    pub app_env: AppEnv,

    /// HS256 signing key for access tokens (required in production, random per process otherwise).
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Access-token lifetime: `90s`, `15m`, `1h`, `7d` or plain seconds.
    #[arg(long, env = "JWT_EXPIRE", default_value = "1h", value_parser = parse_duration)]
    pub jwt_expire: Duration,

    /// Comma-separated list of origins allowed by CORS (in development any localhost,
    /// 127.0.0.1 or [::1] origin as well).
    #[arg(long, env = "ALLOWED_ORIGINS", default_value = "http://localhost:3000", value_parser = parse_origins)]
    pub allowed_origins: Origins,

    /// Whether rate limits apply (false for benchmarks and test profiles).
    #[arg(long, env = "RATE_LIMIT_ENABLED", default_value = "true", value_parser = parse_bool, action = clap::ArgAction::Set)]
    pub rate_limit_enabled: bool,

    /// REST requests allowed per client IP per window.
    #[arg(long, env = "RATE_LIMIT_MAX", default_value_t = 100, value_parser = parse_positive)]
    pub rate_limit_max: u32,

    /// Length of a rate-limit window in seconds.
    #[arg(long, env = "RATE_LIMIT_WINDOW_SECS", default_value_t = 900, value_parser = parse_positive_u64)]
    pub rate_limit_window_secs: u64,

    /// Login and register attempts per client IP and per account per window.
    #[arg(long, env = "AUTH_RATE_LIMIT_MAX", default_value_t = 10, value_parser = parse_positive)]
    pub auth_rate_limit_max: u32,

    /// GraphQL cost points per user (or per IP when anonymous) per window.
    #[arg(long, env = "GRAPHQL_RATE_LIMIT_POINTS", default_value_t = 100_000, value_parser = parse_positive)]
    pub graphql_rate_limit_points: u32,

    /// Take the client IP from X-Forwarded-For (only behind a trusted proxy).
    #[arg(long, env = "TRUST_PROXY", default_value = "false", value_parser = parse_bool, action = clap::ArgAction::Set)]
    pub trust_proxy: bool,

    /// Lifetime of cached anonymous responses, in seconds.
    #[arg(long, env = "CACHE_TTL_SECS", default_value_t = 300, value_parser = parse_positive_u64)]
    pub cache_ttl_secs: u64,

    /// Whether anonymous responses are cached.
    #[arg(long, env = "CACHE_ENABLED", default_value = "true", value_parser = parse_bool, action = clap::ArgAction::Set)]
    pub cache_enabled: bool,

    /// pretty or json (json by default in production).
    #[arg(long, env = "LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,

    /// Deepest GraphQL selection accepted.
    #[arg(long, env = "GRAPHQL_MAX_DEPTH", default_value_t = 15, value_parser = parse_positive)]
    pub graphql_max_depth: u32,

    /// Highest static cost (objects a document can return) accepted.
    #[arg(long, env = "GRAPHQL_MAX_COST", default_value_t = 10_000, value_parser = parse_positive)]
    pub graphql_max_cost: u32,

    /// Most aliased or root fields accepted in one document.
    #[arg(long, env = "GRAPHQL_MAX_ALIASES", default_value_t = 100, value_parser = parse_positive)]
    pub graphql_max_aliases: u32,

    /// Most fields a document may select once its fragments are expanded (each spread counts
    /// its fragment's fields again): bounds the work of validation and execution, which expand
    /// fragments, whatever the cost.
    #[arg(long, env = "GRAPHQL_MAX_FIELDS", default_value_t = 2_000, value_parser = parse_positive)]
    pub graphql_max_fields: u32,

    /// Largest GraphQL answer built, in bytes of post content (the only field that can be
    /// large; the cost limit bounds the rest), counted while the answer is built: past it the
    /// fields that would pass it fail with RESPONSE_TOO_LARGE instead of the server building it.
    #[arg(long, env = "GRAPHQL_MAX_RESPONSE_BYTES", default_value_t = 16 * 1024 * 1024, value_parser = parse_positive_usize)]
    pub graphql_max_response_bytes: usize,

    /// Most subscriptions open at once on one WebSocket.
    #[arg(long, env = "GRAPHQL_MAX_SUBSCRIPTIONS_PER_SOCKET", default_value_t = 50, value_parser = parse_positive)]
    pub graphql_max_subscriptions_per_socket: u32,

    /// Most subscriptions open at once per client (the user when signed in, else the IP) on
    /// one instance, across its sockets.
    #[arg(long, env = "GRAPHQL_MAX_SUBSCRIPTIONS_PER_CLIENT", default_value_t = 200, value_parser = parse_positive)]
    pub graphql_max_subscriptions_per_client: u32,

    /// Most operations accepted in one batch request.
    #[arg(long, env = "GRAPHQL_MAX_BATCH", default_value_t = 10, value_parser = parse_positive)]
    pub graphql_max_batch: u32,

    /// Whether the schema can be introspected.
    #[arg(long, env = "GRAPHQL_INTROSPECTION", default_value = "true", value_parser = parse_bool, action = clap::ArgAction::Set)]
    pub graphql_introspection: bool,

    /// GraphQL operations executed at once (default: 3 x CPU cores); the others wait their turn.
    /// Each one in flight holds its whole result tree: on 2 cores, 32 nested queries at once took
    /// the process to 68 MiB and ran slower than 6 at a time (their memory no longer fit in the
    /// CPU caches).
    #[arg(long, env = "GRAPHQL_MAX_CONCURRENCY", value_parser = parse_concurrency)]
    pub graphql_max_concurrency: Option<usize>,

    /// Largest request body accepted on /graphql, in bytes.
    #[arg(long, env = "GRAPHQL_BODY_LIMIT", default_value_t = 1_048_576, value_parser = parse_positive_usize)]
    pub graphql_body_limit: usize,

    /// Only documents registered ahead of time (`blog-gateway documents add`) may run.
    #[arg(long, env = "TRUSTED_DOCUMENTS", default_value = "false", value_parser = parse_bool, action = clap::ArgAction::Set)]
    pub trusted_documents: bool,

    /// Serve the schema as an Apollo Federation v2 subgraph (`_service`, `_entities`; `User`,
    /// `Post` and `Comment` are entities keyed by `id`).
    #[arg(long, env = "FEDERATION", default_value = "false", value_parser = parse_bool, action = clap::ArgAction::Set)]
    pub federation: bool,

    /// The secret a federation router presents in the `x-router-secret` header: with it, a
    /// request may run a document that is not registered even in trusted-documents mode (a
    /// router's query plans are made at run time). Unset: no caller is exempt.
    #[arg(long, env = "ROUTER_SECRET", hide_env_values = true, value_parser = parse_router_secret)]
    pub router_secret: Option<String>,

    /// A folder whose `*.graphql` files are registered as trusted documents at start.
    #[arg(long, env = "TRUSTED_DOCUMENTS_DIR")]
    pub trusted_documents_dir: Option<std::path::PathBuf>,

    /// Seconds a request may take before it is answered with a timeout.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 30, value_parser = parse_positive_u64)]
    pub request_timeout_secs: u64,

    /// Seconds a client may take to send a request's headers (HTTP/1): a client that trickles
    /// them is disconnected instead of holding a socket.
    #[arg(long, env = "HEADER_READ_TIMEOUT_SECS", default_value_t = 10, value_parser = parse_positive_u64)]
    pub header_read_timeout_secs: u64,
}

/// The read replicas' URLs, already split and checked.
#[derive(Clone, Debug, Default)]
pub struct ReadUrls(pub Vec<String>);

/// The CORS allow-list, already split and trimmed.
#[derive(Clone, Debug)]
pub struct Origins(pub Vec<String>);

impl Config {
    /// Checks the rules that involve more than one setting.
    pub fn validate(&self) -> Result<(), String> {
        if self.app_env == AppEnv::Production && self.jwt_secret.is_none() {
            return Err(
                "JWT_SECRET (--jwt-secret): required when APP_ENV=production; set a long random string"
                    .into(),
            );
        }
        if let Some(secret) = &self.jwt_secret
            && secret.len() < 32
            && self.app_env == AppEnv::Production
        {
            return Err("JWT_SECRET (--jwt-secret): expected at least 32 characters in production".into());
        }
        Ok(())
    }

    /// The tracing output format, defaulting by environment.
    pub fn log_format(&self) -> LogFormat {
        self.log_format.unwrap_or(match self.app_env {
            AppEnv::Production => LogFormat::Json,
            _ => LogFormat::Pretty,
        })
    }

    /// The rate-limit window as a duration.
    pub fn rate_limit_window(&self) -> Duration {
        Duration::from_secs(self.rate_limit_window_secs)
    }
}

/// ROUTER_SECRET: at least 16 characters (an empty one, as `ROUTER_SECRET=${UNSET}` gives, would
/// let anyone who sends an empty header run unregistered documents).
fn parse_router_secret(value: &str) -> Result<String, String> {
    if value.chars().count() < 16 {
        return Err(
            "expected at least 16 characters (a long random string); leave it unset to exempt no caller"
                .into(),
        );
    }
    Ok(value.to_owned())
}

fn parse_postgres_url(value: &str) -> Result<String, String> {
    let url = url::Url::parse(value)
        .map_err(|e| format!("expected a postgres:// URL such as postgres://user@host:5432/db ({e})"))?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err("expected a postgres:// URL such as postgres://user@host:5432/db".into());
    }
    if url.path().trim_start_matches('/').is_empty() {
        return Err("expected the URL to name a database, as in postgres://user@host:5432/db".into());
    }
    Ok(value.to_owned())
}

fn parse_postgres_urls(value: &str) -> Result<ReadUrls, String> {
    let urls = value
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(parse_postgres_url)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ReadUrls(urls))
}

/// A lag bound: milliseconds (`500ms`) or any duration [`parse_duration`] accepts.
fn parse_lag(value: &str) -> Result<Duration, String> {
    match value.trim().strip_suffix("ms") {
        Some(millis) => match millis.parse::<u64>() {
            Ok(millis) if millis > 0 => Ok(Duration::from_millis(millis)),
            _ => Err("expected a duration such as 500ms, 5s or 1m".into()),
        },
        None => parse_duration(value),
    }
}

fn parse_redis_url(value: &str) -> Result<String, String> {
    crate::redis_link::Topology::parse(value)?;
    Ok(value.to_owned())
}

fn parse_host(value: &str) -> Result<IpAddr, String> {
    value
        .parse()
        .map_err(|_| "expected an IP address such as 127.0.0.1 or 0.0.0.0".into())
}

fn parse_port(value: &str) -> Result<u16, String> {
    match value.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err("expected a TCP port number from 1 to 65535".into()),
    }
}

fn parse_concurrency(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if (1..=10_000).contains(&n) => Ok(n),
        _ => Err("expected a number of operations from 1 to 10000".into()),
    }
}

fn parse_pool_size(value: &str) -> Result<u32, String> {
    match value.parse::<u32>() {
        Ok(size) if (1..=1000).contains(&size) => Ok(size),
        _ => Err("expected a pool size from 1 to 1000".into()),
    }
}

fn parse_positive(value: &str) -> Result<u32, String> {
    match value.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("expected a positive whole number".into()),
    }
}

fn parse_positive_u64(value: &str) -> Result<u64, String> {
    match value.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("expected a positive whole number".into()),
    }
}

fn parse_positive_usize(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("expected a positive whole number of bytes".into()),
    }
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

fn parse_origins(value: &str) -> Result<Origins, String> {
    let origins: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect();
    for origin in &origins {
        let url = url::Url::parse(origin).map_err(|_| {
            format!("expected comma-separated origins such as http://localhost:3000, got {origin:?}")
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "expected http(s) origins such as http://localhost:3000, got {origin:?}"
            ));
        }
    }
    Ok(Origins(origins))
}

/// Parses `90s`, `15m`, `1h`, `7d` or a plain number of seconds.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    const EXPECTED: &str = "expected a duration such as 90s, 15m, 1h, 7d or plain seconds";
    let value = value.trim();
    let (digits, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => value.split_at(at),
        None => (value, "s"),
    };
    let amount: u64 = digits.parse().map_err(|_| EXPECTED.to_owned())?;
    let seconds = match unit {
        "s" => amount,
        "m" => amount.checked_mul(60).ok_or(EXPECTED)?,
        "h" => amount.checked_mul(3600).ok_or(EXPECTED)?,
        "d" => amount.checked_mul(86_400).ok_or(EXPECTED)?,
        _ => return Err(EXPECTED.into()),
    };
    if seconds == 0 {
        return Err(EXPECTED.into());
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_or_short_router_secret_is_refused() {
        // `ROUTER_SECRET=${UNSET}` is an empty value: with it, an empty header would match.
        for short in ["", "short-secret"] {
            assert!(
                parse_router_secret(short).unwrap_err().contains("at least 16"),
                "{short:?}"
            );
        }
        assert!(parse_router_secret("a-long-random-router-secret").is_ok());
    }

    #[test]
    fn durations_accept_the_documented_units() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("120"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("5w").is_err());
    }

    #[test]
    fn urls_and_ports_are_checked() {
        assert!(parse_postgres_url("postgres://u@h:5432/db").is_ok());
        assert!(parse_postgres_url("mysql://u@h/db").is_err());
        assert!(parse_postgres_url("postgres://u@h:5432").is_err());
        assert!(parse_port("abc").is_err());
        assert!(parse_port("0").is_err());
        assert_eq!(parse_port("8080"), Ok(8080));
        assert!(parse_origins("http://a.test, https://b.test").is_ok());
        assert!(parse_origins("not an origin").is_err());
    }

    #[test]
    fn replica_urls_and_the_lag_bound_are_checked() {
        let urls = parse_postgres_urls("postgres://a@r1:5432/db, postgres://a@r2:5432/db,").unwrap();
        assert_eq!(urls.0.len(), 2);
        assert!(parse_postgres_urls("postgres://a@r1:5432/db,redis://x").is_err());
        assert_eq!(parse_lag("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_lag("5s"), Ok(Duration::from_secs(5)));
        assert!(parse_lag("0ms").is_err());
        assert!(parse_lag("soon").is_err());
    }
}
