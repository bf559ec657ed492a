//! The load generators of the benchmarks that wrk and oha cannot drive (issue 23), run by
//! `bench/subscribers.sh` and `bench/mixed.sh`:
//!
//! - `subscribers`: SOCKETS WebSockets (graphql-transport-ws) with PER_SOCKET subscriptions each,
//!   all to `commentAdded` of one post or all to `postPublished`; then EVENTS writes through HTTP,
//!   one at a time, each fanned out to every subscriber. For each event it times, from the moment
//!   the write was sent (an upper bound on "from its commit"), each subscriber's `next`; it prints
//!   the distribution of every delivery and of each event's last one, as JSON.
//! - `mixed`: a fixed arrival rate of a blend of requests (the feed, the nested query and the write
//!   mix: comments and likes signed in as many users), over CONNS keep-alive connections. Each
//!   request's latency counts from when it was due, not from when a connection was free (no
//!   coordinated omission); every answer is checked (HTTP 200, `data` of the operation, no
//!   `errors`). Prints p50/p90/p99/max per kind and in all, as JSON.
//!
//! A current-thread runtime: the generator takes at most one core of the two.
//!
//! Usage: cargo run --release --example loadgen -- subscribers --help

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Parser)]
struct Cli {
    /// The gateway, `http://127.0.0.1:PORT` (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:5000")]
    url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Subscribers(SubscribersArgs),
    Mixed(MixedArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    /// `commentAdded(postId: POST)`; each event is an `addComment` on POST.
    Comment,
    /// `postPublished`; each event is a `createPost` published at once.
    Post,
}

#[derive(Parser)]
struct SubscribersArgs {
    #[arg(long, value_enum, default_value = "comment")]
    kind: Kind,
    #[arg(long, default_value_t = 100)]
    sockets: usize,
    #[arg(long, default_value_t = 100)]
    per_socket: usize,
    /// Measured events (after warm-up events that prove every subscription is live).
    #[arg(long, default_value_t = 20)]
    events: usize,
    /// Pause between one event's last delivery and the next write, in milliseconds.
    #[arg(long, default_value_t = 200)]
    gap_ms: u64,
    /// The post whose comments are subscribed to (kind comment).
    #[arg(long)]
    post: Option<String>,
    /// An access token of the writer.
    #[arg(long)]
    token: String,
    /// Seconds to wait for one event to reach every subscriber.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Subscriptions sent per second, socket by socket (0: as fast as they go). Each subscribe
    /// checks its post in the database: a burst larger than the pool can serve within its
    /// checkout timeout is refused in part (`UNAVAILABLE`).
    #[arg(long, default_value_t = 0)]
    subscribe_rate: u64,
    /// A shell command run just before the measured events (e.g. resetting statement counts).
    #[arg(long)]
    before_events: Option<String>,
    /// A shell command run just after the last measured event was delivered.
    #[arg(long)]
    after_events: Option<String>,
}

/// Runs a hook of the calling script, with the generator's sockets waiting meanwhile.
fn hook(command: Option<&str>) -> anyhow::Result<()> {
    if let Some(command) = command {
        let status = std::process::Command::new("sh").arg("-c").arg(command).status()?;
        if !status.success() {
            bail!("the hook `{command}` failed: {status}");
        }
    }
    Ok(())
}

#[derive(Parser)]
struct MixedArgs {
    /// Requests per second, all kinds together.
    #[arg(long, default_value_t = 500)]
    rate: u64,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 30)]
    duration: u64,
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    #[arg(long, default_value_t = 32)]
    conns: usize,
    /// The blend: weights of feed, nested, comment and like, in that order.
    #[arg(long, default_value = "4,2,1,1")]
    mix: String,
    /// The feed's request body (the shared rig's q1_feed.sdl.json).
    #[arg(long)]
    feed: String,
    /// The nested query's request body (q2_nested.sdl.json).
    #[arg(long)]
    nested: String,
    /// Access tokens, `return { "...", ... }` (bench/prepare.py's tokens.lua).
    #[arg(long)]
    tokens: String,
    /// Published post ids, in the same format (posts.lua).
    #[arg(long)]
    posts: String,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let Some(authority) = cli.url.strip_prefix("http://") else {
        bail!("--url must be http://127.0.0.1:PORT");
    };
    let authority = authority.trim_end_matches('/').to_owned();
    if !(authority.starts_with("127.0.0.1:") || authority.starts_with("localhost:")) {
        bail!("refusing a target off this machine: {authority}");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Subscribers(args) => subscribers(&authority, args).await,
            Command::Mixed(args) => mixed(&authority, args).await,
        }
    })
}

// ------------------------------------------------------------------ HTTP

/// One keep-alive HTTP/1.1 connection.
struct Http {
    authority: String,
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Http {
    async fn connect(authority: &str) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(authority).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Http {
            authority: authority.to_owned(),
            sender,
        })
    }

    /// POST /graphql with a JSON body, optionally signed in.
    async fn graphql(&mut self, body: Bytes, token: Option<&str>) -> anyhow::Result<(StatusCode, Bytes)> {
        self.sender.ready().await?;
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/graphql")
            .header("host", &self.authority)
            .header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = self.sender.send_request(request.body(Full::new(body))?).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

/// The strings of a `return { "...", ... }` file (JSON string literals, one a line).
fn lua_strings(path: &str) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let values: Vec<String> = text
        .lines()
        .filter_map(|line| {
            let line = line.trim().trim_end_matches(',');
            line.starts_with('"')
                .then(|| serde_json::from_str::<String>(line).ok())
                .flatten()
        })
        .collect();
    if values.is_empty() {
        bail!("{path} holds no strings");
    }
    Ok(values)
}

/// Milliseconds at quantile `q` of sorted `values` (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn distribution(mut ms: Vec<f64>) -> Value {
    ms.sort_by(f64::total_cmp);
    let round = |v: f64| (v * 100.0).round() / 100.0;
    json!({
        "count": ms.len(),
        "p50_ms": round(quantile(&ms, 0.50)),
        "p90_ms": round(quantile(&ms, 0.90)),
        "p99_ms": round(quantile(&ms, 0.99)),
        "max_ms": round(ms.last().copied().unwrap_or(f64::NAN)),
    })
}

// ------------------------------------------------------------------ subscribers

/// Every `next` a socket received: the event's entity id and when.
type Deliveries = Vec<(String, Instant)>;

async fn subscribers(authority: &str, args: SubscribersArgs) -> anyhow::Result<()> {
    let (document, variables, field) = match args.kind {
        Kind::Comment => {
            let post = args.post.clone().context("--post is needed for --kind comment")?;
            (
                "subscription Added($p: ID!) { commentAdded(postId: $p) { id content createdAt author { id username } } }",
                json!({ "p": post }),
                "commentAdded",
            )
        }
        Kind::Post => (
            "subscription Published { postPublished { id title category createdAt author { id username } } }",
            json!({}),
            "postPublished",
        ),
    };
    let marker = format!("\"{field}\":{{\"id\":\"");
    let received = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);

    let started = Instant::now();
    let mut sockets = Vec::with_capacity(args.sockets);
    for socket in 0..args.sockets {
        let url = format!("ws://{authority}/graphql/ws");
        let mut request = url.into_client_request()?;
        request
            .headers_mut()
            .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
        let (mut ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .with_context(|| format!("socket {socket}"))?;
        ws.send(Message::text(
            json!({ "type": "connection_init", "payload": {} }).to_string(),
        ))
        .await?;
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) if text.contains("connection_ack") => break,
                Some(Ok(Message::Text(text))) => bail!("socket {socket}: before the ack: {text}"),
                Some(Ok(_)) => continue,
                other => bail!("socket {socket}: closed before the ack: {other:?}"),
            }
        }
        for n in 0..args.per_socket {
            let message = json!({ "id": format!("{socket}-{n}"), "type": "subscribe",
                                  "payload": { "query": document, "variables": variables } });
            ws.send(Message::text(message.to_string())).await?;
        }
        if args.subscribe_rate > 0 {
            tokio::time::sleep(Duration::from_secs_f64(
                args.per_socket as f64 / args.subscribe_rate as f64,
            ))
            .await;
        }
        let marker = marker.clone();
        let received = received.clone();
        let errors = errors.clone();
        let mut stop = stop_rx.clone();
        sockets.push(tokio::spawn(async move {
            let mut deliveries: Deliveries = Vec::new();
            loop {
                let message = tokio::select! {
                    message = ws.next() => message,
                    _ = stop.changed() => break,
                };
                let at = Instant::now();
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(data))) => {
                        let _ = ws.send(Message::Pong(data)).await;
                        continue;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => {
                        eprintln!("socket {socket}: {e}");
                        errors.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    None => {
                        eprintln!("socket {socket}: closed by the server");
                        errors.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                };
                if text.contains("\"type\":\"ping\"") {
                    let _ = ws.send(Message::text("{\"type\":\"pong\"}")).await;
                    continue;
                }
                match text.find(&marker) {
                    Some(at_marker) if text.contains("\"type\":\"next\"") => {
                        let start = at_marker + marker.len();
                        let id = text.get(start..start + 36).unwrap_or_default().to_owned();
                        deliveries.push((id, at));
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                            eprintln!("socket {socket}: unexpected {text}");
                        }
                    }
                }
            }
            let _ = ws.close(None).await;
            deliveries
        }));
    }
    let subscribers = (args.sockets * args.per_socket) as u64;
    eprintln!(
        "{} sockets, {subscribers} subscriptions sent in {:.1} s",
        args.sockets,
        started.elapsed().as_secs_f64()
    );

    let mut http = Http::connect(authority).await?;
    let mut sequence = 0u64;
    let mut write = async |http: &mut Http| -> anyhow::Result<(Instant, String)> {
        sequence += 1;
        let body = match args.kind {
            Kind::Comment => json!({
                "query": "mutation($p: ID!, $c: String!) { addComment(postId: $p, content: $c) { id } }",
                "variables": { "p": args.post, "c": format!("Subscriber benchmark comment {sequence}.") },
            }),
            Kind::Post => json!({
                "query": "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
                "variables": { "i": { "title": format!("Subscriber benchmark post {sequence} {}", std::process::id()),
                                      "content": "A post published to every subscriber of the benchmark.",
                                      "category": "TECHNOLOGY", "isPublished": true } },
            }),
        };
        let sent = Instant::now();
        let (status, answer) = http
            .graphql(Bytes::from(body.to_string()), Some(&args.token))
            .await?;
        let answer: Value = serde_json::from_slice(&answer)?;
        let key = match args.kind {
            Kind::Comment => "addComment",
            Kind::Post => "createPost",
        };
        let Some(id) = answer["data"][key]["id"].as_str() else {
            bail!("the write answered HTTP {status}: {answer}");
        };
        Ok((sent, id.to_owned()))
    };
    let wait_for = |target: u64, timeout: Duration| {
        let received = received.clone();
        async move {
            let deadline = Instant::now() + timeout;
            while received.load(Ordering::Relaxed) < target && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            received.load(Ordering::Relaxed) >= target
        }
    };

    // Warm-up events until one reaches every subscriber: then every subscription is live.
    let mut expected = 0u64;
    let mut live = false;
    for attempt in 1..=10 {
        let before = received.load(Ordering::Relaxed);
        write(&mut http).await?;
        let reached = wait_for(before + subscribers, Duration::from_secs(5)).await;
        expected = received.load(Ordering::Relaxed);
        if reached {
            eprintln!("warm-up event {attempt} reached all {subscribers} subscribers");
            live = true;
            break;
        }
        eprintln!(
            "warm-up event {attempt} reached {} of {subscribers} subscribers",
            expected - before
        );
    }
    if !live {
        bail!("no warm-up event reached every subscriber");
    }
    tokio::time::sleep(Duration::from_millis(args.gap_ms)).await;

    hook(args.before_events.as_deref())?;
    let mut writes = Vec::with_capacity(args.events);
    let mut missed = 0u64;
    for _ in 0..args.events {
        let (sent, id) = write(&mut http).await?;
        let write_ms = sent.elapsed().as_secs_f64() * 1000.0;
        expected += subscribers;
        if !wait_for(expected, Duration::from_secs(args.timeout)).await {
            let got = received.load(Ordering::Relaxed);
            missed += expected - got;
            expected = got;
        }
        writes.push((id, sent, write_ms));
        tokio::time::sleep(Duration::from_millis(args.gap_ms)).await;
    }
    hook(args.after_events.as_deref())?;
    stop_tx.send(true)?;
    let mut all: Vec<(String, Instant)> = Vec::new();
    for socket in sockets {
        all.extend(socket.await?);
    }

    let mut every = Vec::new();
    let mut last = Vec::new();
    let mut write_ms = Vec::new();
    for (id, sent, ms) in &writes {
        let latencies: Vec<f64> = all
            .iter()
            .filter(|(got, _)| got == id)
            .map(|(_, at)| at.duration_since(*sent).as_secs_f64() * 1000.0)
            .collect();
        if let Some(max) = latencies.iter().copied().max_by(f64::total_cmp) {
            last.push(max);
        }
        every.extend(latencies);
        write_ms.push(*ms);
    }
    let delivered = every.len() as u64;
    let report = json!({
        "kind": match args.kind { Kind::Comment => "commentAdded", Kind::Post => "postPublished" },
        "sockets": args.sockets,
        "subscribers": subscribers,
        "events": args.events,
        "deliveries": delivered,
        "missed": missed + (args.events as u64 * subscribers).saturating_sub(delivered),
        "errors": errors.load(Ordering::Relaxed),
        "delivery": distribution(every),
        "last_subscriber": distribution(last),
        "write": distribution(write_ms),
    });
    println!("{report}");
    Ok(())
}

// ------------------------------------------------------------------ mixed

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Op {
    Feed,
    Nested,
    Comment,
    Like,
}

impl Op {
    const ALL: [Op; 4] = [Op::Feed, Op::Nested, Op::Comment, Op::Like];

    fn name(self) -> &'static str {
        match self {
            Op::Feed => "feed",
            Op::Nested => "nested",
            Op::Comment => "comment",
            Op::Like => "like",
        }
    }

    /// The key the answer's `data` must hold.
    fn field(self) -> &'static str {
        match self {
            Op::Feed | Op::Nested => "\"posts\":",
            Op::Comment => "\"addComment\":",
            Op::Like => "\"likePost\":",
        }
    }
}

struct Job {
    op: Op,
    due: Instant,
    n: u64,
}

struct Outcome {
    op: Op,
    ms: f64,
    ok: bool,
    measured: bool,
}

async fn mixed(authority: &str, args: MixedArgs) -> anyhow::Result<()> {
    let weights: Vec<u64> = args
        .mix
        .split(',')
        .map(|w| w.trim().parse::<u64>())
        .collect::<Result<_, _>>()
        .context("--mix: four whole numbers, e.g. 4,2,1,1")?;
    if weights.len() != 4 || weights.iter().sum::<u64>() == 0 {
        bail!("--mix: four weights (feed, nested, comment, like)");
    }
    // The blend as a repeating sequence, interleaved (4,2,1,1: F N F C F N F L).
    let mut sequence: Vec<Op> = Vec::new();
    let total: u64 = weights.iter().sum();
    let mut credit = [0i64; 4];
    for _ in 0..total {
        for (c, w) in credit.iter_mut().zip(&weights) {
            *c += *w as i64;
        }
        let pick = (0..4).max_by_key(|&i| (credit[i], -(i as i64))).unwrap_or(0);
        credit[pick] -= total as i64;
        sequence.push(Op::ALL[pick]);
    }
    let feed = Bytes::from(std::fs::read(&args.feed).with_context(|| args.feed.clone())?);
    let nested = Bytes::from(std::fs::read(&args.nested).with_context(|| args.nested.clone())?);
    let tokens = Arc::new(lua_strings(&args.tokens)?);
    let posts = Arc::new(lua_strings(&args.posts)?);

    let (job_tx, job_rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
    let job_rx = Arc::new(tokio::sync::Mutex::new(job_rx));
    let (out_tx, mut out_rx) = tokio::sync::mpsc::unbounded_channel::<Outcome>();
    let start = Instant::now() + Duration::from_millis(200);
    let measured_from = start + Duration::from_secs(args.warmup);
    let mut workers = Vec::new();
    for worker in 0..args.conns {
        let mut http = Http::connect(authority).await?;
        let job_rx = job_rx.clone();
        let out_tx = out_tx.clone();
        let (feed, nested, tokens, posts) = (feed.clone(), nested.clone(), tokens.clone(), posts.clone());
        let authority = authority.to_owned();
        workers.push(tokio::spawn(async move {
            let mut saved_error = false;
            loop {
                let Some(job) = job_rx.lock().await.recv().await else {
                    break;
                };
                let token = &tokens[(job.n as usize * 7919 + worker) % tokens.len()];
                let post = &posts[(job.n as usize).wrapping_mul(2_654_435_761) % posts.len()];
                let (body, token) = match job.op {
                    Op::Feed => (feed.clone(), None),
                    Op::Nested => (nested.clone(), None),
                    Op::Comment => (
                        Bytes::from(
                            json!({ "operationName": "AddComment",
                                    "query": "mutation AddComment($postId: ID!, $content: String!) { addComment(postId: $postId, content: $content) { id } }",
                                    "variables": { "postId": post, "content": format!("Mixed load comment {}.", job.n) } })
                            .to_string(),
                        ),
                        Some(token.as_str()),
                    ),
                    Op::Like => (
                        Bytes::from(
                            json!({ "operationName": "Like",
                                    "query": "mutation Like($id: ID!) { likePost(id: $id) { id likeCount } }",
                                    "variables": { "id": post } })
                            .to_string(),
                        ),
                        Some(token.as_str()),
                    ),
                };
                let result = http.graphql(body, token).await;
                let ms = job.due.elapsed().as_secs_f64() * 1000.0;
                let ok = match &result {
                    Ok((status, answer)) => {
                        let text = String::from_utf8_lossy(answer);
                        let ok = *status == StatusCode::OK
                            && text.starts_with("{\"data\":{")
                            && text.contains(job.op.field())
                            && !text.contains("\"errors\":");
                        if !ok && !saved_error {
                            saved_error = true;
                            eprintln!("{} answered HTTP {status}: {}", job.op.name(), text.chars().take(300).collect::<String>());
                        }
                        ok
                    }
                    Err(e) => {
                        eprintln!("{}: {e}", job.op.name());
                        // A broken connection is replaced.
                        if let Ok(fresh) = Http::connect(&authority).await {
                            http = fresh;
                        }
                        false
                    }
                };
                let _ = out_tx.send(Outcome {
                    op: job.op,
                    ms,
                    ok,
                    measured: job.due >= measured_from,
                });
            }
        }));
    }
    drop(out_tx);

    // The arrivals: request n is due at start + n / rate, whatever the answers are doing.
    let count = (args.warmup + args.duration) * args.rate;
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    for n in 0..count {
        let due = start + interval.mul_f64(n as f64);
        tokio::time::sleep_until(due.into()).await;
        job_tx.send(Job {
            op: sequence[n as usize % sequence.len()],
            due,
            n,
        })?;
    }
    let scheduled_until = Instant::now();
    drop(job_tx);
    for worker in workers {
        worker.await?;
    }
    let finished = Instant::now();

    let mut per_op: std::collections::BTreeMap<Op, (Vec<f64>, u64)> = Default::default();
    let mut all = Vec::new();
    let mut errors = 0u64;
    while let Some(outcome) = out_rx.recv().await {
        if !outcome.measured {
            continue;
        }
        let entry = per_op.entry(outcome.op).or_default();
        entry.0.push(outcome.ms);
        all.push(outcome.ms);
        if !outcome.ok {
            entry.1 += 1;
            errors += 1;
        }
    }
    let measured = all.len();
    let mut report = json!({
        "rate": args.rate,
        "duration_s": args.duration,
        "conns": args.conns,
        "mix": Op::ALL.iter().zip(&weights).map(|(op, w)| format!("{}={w}", op.name())).collect::<Vec<_>>().join(","),
        "achieved_rps": (measured as f64 / args.duration as f64).round(),
        "drain_ms": (finished.duration_since(scheduled_until).as_secs_f64() * 1000.0).round(),
        "errors": errors,
        "all": distribution(all),
    });
    for (op, (ms, op_errors)) in per_op {
        let mut d = distribution(ms);
        d["errors"] = json!(op_errors);
        report[op.name()] = d;
    }
    println!("{report}");
    Ok(())
}
