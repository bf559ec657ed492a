//! `blog-gateway seed`: deterministic demo data, bulk-inserted in one transaction.

use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, TimeDelta, Utc};
use clap::Args;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::password::hash_password_blocking;
use crate::config::Config;
use crate::db::models::{Category, Role};
use crate::db::pool::{create_database_if_missing, redact_url, run_migrations};
use crate::db::schema::{comments, post_likes, posts, users};

/// The password of every seeded account.
const DEMO_PASSWORD: &str = "password123";

/// The demo accounts, one per role, as the first users: username, email, role, first and last name.
const DEMO_ACCOUNTS: [(&str, &str, Role, &str, &str); 3] = [
    ("admin", "admin@example.com", Role::Admin, "Ada", "Admin"),
    (
        "moderator",
        "moderator@example.com",
        Role::Moderator,
        "Max",
        "Moderator",
    ),
    ("user", "user@example.com", Role::User, "Uma", "User"),
];

/// Rows per INSERT: a post, the widest row, binds 12 values, so a statement stays far below
/// Postgres' limit of 65,535 bind parameters.
const ROWS_PER_INSERT: usize = 2_000;

/// 2024-01-01T00:00:00Z: users sign up on that day, posts follow over the next year.
const TIMELINE_START: i64 = 1_704_067_200;
const DAY: i64 = 86_400;
const YEAR: i64 = 365 * DAY;
/// Comments and likes arrive within this many seconds of their post.
const REACTION_WINDOW: i64 = 30 * DAY;

/// Every tenth post is a draft; drafts get neither comments nor likes.
const DRAFT_EVERY: usize = 10;

/// Sizes and target of the demo data.
#[derive(Args)]
pub struct SeedArgs {
    /// Users to create, the three demo accounts (admin, moderator, user) included.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(3..))]
    users: u32,
    /// Posts to create; every tenth is a draft.
    #[arg(long, default_value_t = 200)]
    posts: u32,
    /// Comments to spread over the published posts.
    #[arg(long, default_value_t = 1000)]
    comments: u32,
    /// Likes to spread over the published posts (at most one per user and post).
    #[arg(long, default_value_t = 2000)]
    likes: u32,
    /// Delete every user, post, comment, like and refresh token before seeding.
    #[arg(long)]
    reset: bool,
    /// The database (the server's other settings are accepted and ignored).
    #[command(flatten)]
    config: Config,
}

/// Creates and migrates the database if needed, then fills it with demo data. A database that
/// already has users is left alone unless `--reset` is given.
pub async fn seed(args: SeedArgs) -> anyhow::Result<()> {
    super::init_tracing(&args.config);
    let started = Instant::now();
    let sizes = Sizes::checked(&args)?;
    let url = &args.config.database_url;
    create_database_if_missing(url).await?;
    run_migrations(url)
        .await
        .with_context(|| format!("migrating {}", redact_url(url)))?;
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .with_context(|| format!("cannot connect to {}", redact_url(url)))?;
    let reset = args.reset;
    conn.transaction(async move |conn| {
        if reset {
            diesel::sql_query("TRUNCATE users, posts, comments, post_likes, refresh_tokens CASCADE")
                .execute(conn)
                .await?;
        } else {
            refuse_if_not_empty(conn).await?;
        }
        // Argon2 is deliberately slow: one hash, shared by every account, keeps a large seed fast.
        let data = tokio::task::spawn_blocking(move || -> anyhow::Result<DemoData> {
            let password_hash = hash_password_blocking(DEMO_PASSWORD)?;
            Ok(DemoData::generate(sizes, &password_hash))
        })
        .await
        .context("the generator panicked")??;
        data.insert(conn, &progress_bar(sizes.total_rows())?).await
    })
    .await?;
    // Fresh statistics give the first queries after a bulk load the plans they will keep.
    diesel::sql_query("ANALYZE users, posts, comments, post_likes")
        .execute(&mut conn)
        .await
        .context("analyzing the seeded tables")?;
    let accounts = DEMO_ACCOUNTS.map(|(_, email, ..)| email).join(", ");
    println!(
        "seeded {}: {} users, {} posts ({} published), {} comments, {} likes in {:.1} s; \
         demo accounts {accounts} (password {DEMO_PASSWORD})",
        redact_url(url),
        sizes.users,
        sizes.posts,
        sizes.published(),
        sizes.comments,
        sizes.likes,
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}

async fn refuse_if_not_empty(conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    let existing: i64 = users::table.count().get_result(conn).await?;
    if existing > 0 {
        bail!(
            "the database is not empty ({existing} users); pass --reset to replace its users, posts, comments and likes with demo data"
        );
    }
    Ok(())
}

/// A bar on stderr; indicatif draws nothing when stderr is not a terminal.
fn progress_bar(total: u64) -> anyhow::Result<ProgressBar> {
    let style = ProgressStyle::with_template("{msg:>9} [{bar:40}] {pos}/{len} rows, {elapsed}")?
        .progress_chars("=> ");
    Ok(ProgressBar::new(total).with_style(style))
}

#[derive(Clone, Copy)]
struct Sizes {
    users: usize,
    posts: usize,
    comments: usize,
    likes: usize,
}

impl Sizes {
    /// The sizes, once they are known to fit: likes are unique per user and post.
    fn checked(args: &SeedArgs) -> anyhow::Result<Self> {
        let sizes = Self {
            users: args.users as usize,
            posts: args.posts as usize,
            comments: args.comments as usize,
            likes: args.likes as usize,
        };
        let published = sizes.published();
        if sizes.comments > 0 && published == 0 {
            bail!("--comments needs at least one published post: pass --posts 1 or more");
        }
        let most_likes = published as u64 * sizes.users as u64;
        if sizes.likes as u64 > most_likes {
            bail!(
                "--likes {}: at most {most_likes} fit, one per user and published post ({} users, {published} published posts)",
                sizes.likes,
                sizes.users
            );
        }
        Ok(sizes)
    }

    fn published(&self) -> usize {
        self.posts - self.posts / DRAFT_EVERY
    }

    fn total_rows(&self) -> u64 {
        (self.users + self.posts + self.comments + self.likes) as u64
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct SeedUser {
    id: Uuid,
    username: String,
    email: String,
    password_hash: String,
    role: Role,
    first_name: Option<String>,
    last_name: Option<String>,
    bio: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = posts)]
struct SeedPost {
    id: Uuid,
    author_id: Uuid,
    title: String,
    content: String,
    category: Category,
    tags: Vec<String>,
    is_published: bool,
    views: i64,
    likes_count: i32,
    comments_count: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = comments)]
struct SeedComment {
    id: Uuid,
    post_id: Uuid,
    author_id: Uuid,
    content: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = post_likes)]
struct SeedLike {
    post_id: Uuid,
    user_id: Uuid,
    created_at: DateTime<Utc>,
}

/// Every row of the seed, built in memory so that the post counters equal the rows.
struct DemoData {
    users: Vec<SeedUser>,
    posts: Vec<SeedPost>,
    comments: Vec<SeedComment>,
    likes: Vec<SeedLike>,
}

/// Inserts `$rows` into `$table` a chunk per statement, advancing `$bar`.
macro_rules! insert_chunked {
    ($conn:expr, $bar:expr, $table:expr, $label:literal, $rows:expr) => {
        $bar.set_message($label);
        for chunk in $rows.chunks(ROWS_PER_INSERT) {
            diesel::insert_into($table).values(chunk).execute($conn).await?;
            $bar.inc(chunk.len() as u64);
        }
    };
}

impl DemoData {
    fn generate(sizes: Sizes, password_hash: &str) -> Self {
        let users: Vec<SeedUser> = (0..sizes.users)
            .map(|index| demo_user(index, sizes.users, password_hash))
            .collect();
        let mut posts: Vec<SeedPost> = (0..sizes.posts)
            .map(|index| demo_post(index, sizes.posts, &users))
            .collect();
        // Popularity follows the id order of the published posts, so the favourites are spread
        // over the timeline instead of being the oldest posts.
        let mut by_popularity: Vec<usize> = (0..posts.len()).filter(|&i| posts[i].is_published).collect();
        by_popularity.sort_by_key(|&i| posts[i].id);
        let comments: Vec<SeedComment> = (0..sizes.comments)
            .map(|index| {
                let mut seed = RowSeed::new("comment", index);
                let post = &mut posts[by_popularity[seed.skewed(by_popularity.len())]];
                post.comments_count += 1;
                let created_at =
                    post.created_at + TimeDelta::seconds(60 + seed.below(REACTION_WINDOW as usize) as i64);
                let length = 1 + seed.below(2);
                SeedComment {
                    id: seed.id,
                    post_id: post.id,
                    author_id: seed.pick(&users).id,
                    content: seed
                        .distinct(COMMENT_SENTENCES, length)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" "),
                    created_at,
                    updated_at: created_at,
                }
            })
            .collect();
        let likes = plan_likes(sizes.likes, &by_popularity, &mut posts, &users);
        Self {
            users,
            posts,
            comments,
            likes,
        }
    }

    async fn insert(&self, conn: &mut AsyncPgConnection, bar: &ProgressBar) -> anyhow::Result<()> {
        insert_chunked!(conn, bar, users::table, "users", self.users);
        insert_chunked!(conn, bar, posts::table, "posts", self.posts);
        insert_chunked!(conn, bar, comments::table, "comments", self.comments);
        insert_chunked!(conn, bar, post_likes::table, "likes", self.likes);
        bar.finish_and_clear();
        Ok(())
    }
}

fn demo_user(index: usize, count: usize, password_hash: &str) -> SeedUser {
    let mut seed = RowSeed::new("user", index);
    let (username, email, role, first_name, last_name) = match DEMO_ACCOUNTS.get(index) {
        Some(&(username, email, role, first, last)) => {
            (username.to_owned(), email.to_owned(), role, first, last)
        }
        None => {
            let first = *seed.pick(FIRST_NAMES);
            let last = *seed.pick(LAST_NAMES);
            // The index keeps names unique; the longest name stays well within 30 characters.
            let username = format!("{}.{}{index}", first.to_lowercase(), last.to_lowercase());
            let email = format!("{username}@example.com");
            (username, email, Role::User, first, last)
        }
    };
    let bio = (seed.below(2) == 0).then(|| {
        let topic = seed.pick(Category::ALL).as_str();
        format!("{first_name} writes about {topic}.")
    });
    let created_at = at(index as i64 * DAY / count as i64);
    SeedUser {
        id: seed.id,
        username,
        email,
        password_hash: password_hash.to_owned(),
        role,
        first_name: Some(first_name.to_owned()),
        last_name: Some(last_name.to_owned()),
        bio,
        created_at,
        updated_at: created_at,
    }
}

fn demo_post(index: usize, count: usize, users: &[SeedUser]) -> SeedPost {
    let mut seed = RowSeed::new("post", index);
    let category = *seed.pick(Category::ALL);
    let topic = *seed.pick(topics(category));
    let title = capitalize(&seed.pick(TITLES).replace("{}", topic));
    let length = 4 + seed.below(5);
    let sentences: Vec<String> = seed
        .distinct(POST_SENTENCES, length)
        .map(|sentence| capitalize(&sentence.replace("{}", topic)))
        .collect();
    let paragraphs: Vec<String> = sentences.chunks(2).map(|pair| pair.join(" ")).collect();
    let tag_count = seed.below(6);
    let tags = seed
        .distinct(&TAGS, tag_count)
        .map(|tag| (*tag).to_owned())
        .collect();
    let is_published = index % DRAFT_EVERY != DRAFT_EVERY - 1;
    let views = if is_published {
        let u = seed.unit();
        (u * u * u * 1_000.0) as i64
    } else {
        0
    };
    let spacing = (YEAR / count as i64).max(1);
    let created_at = at(DAY + index as i64 * YEAR / count as i64 + seed.below(spacing as usize) as i64);
    let updated_at = if seed.below(5) == 0 {
        created_at + TimeDelta::seconds(seed.below(7 * DAY as usize) as i64)
    } else {
        created_at
    };
    SeedPost {
        id: seed.id,
        author_id: seed.pick(users).id,
        title,
        content: paragraphs.join("\n\n"),
        category,
        tags,
        is_published,
        views,
        likes_count: 0,
        comments_count: 0,
        created_at,
        updated_at,
    }
}

/// Likes, unique per (post, user): the n-th like of a post goes to the n-th user of the post's
/// walk over all users, which never repeats a user.
fn plan_likes(
    count: usize,
    by_popularity: &[usize],
    posts: &mut [SeedPost],
    users: &[SeedUser],
) -> Vec<SeedLike> {
    let walks: Vec<(usize, usize)> = by_popularity
        .iter()
        .map(|&post| RowSeed::new("likers", post).walk(users.len()))
        .collect();
    let mut given = vec![0usize; by_popularity.len()];
    (0..count)
        .map(|index| {
            let mut seed = RowSeed::new("like", index);
            let mut rank = seed.skewed(by_popularity.len());
            // A post liked by everyone passes its like on; `Sizes::checked` ensures room remains.
            while given[rank] == users.len() {
                rank = (rank + 1) % by_popularity.len();
            }
            let (start, step) = walks[rank];
            let user = &users[(start + given[rank] * step) % users.len()];
            given[rank] += 1;
            let post = &mut posts[by_popularity[rank]];
            post.likes_count += 1;
            SeedLike {
                post_id: post.id,
                user_id: user.id,
                created_at: post.created_at
                    + TimeDelta::seconds(60 + seed.below(REACTION_WINDOW as usize) as i64),
            }
        })
        .collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// `seconds` after the start of the demo timeline.
fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::UNIX_EPOCH + TimeDelta::seconds(TIMELINE_START + seconds)
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The deterministic source of one row: sha256("kind:index") gives its id and seeds its draws,
/// so a row never depends on the clock, on the run, or on the rows generated before it.
struct RowSeed {
    id: Uuid,
    state: u64,
}

impl RowSeed {
    fn new(kind: &str, index: usize) -> Self {
        let digest = Sha256::digest(format!("{kind}:{index}"));
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        let mut state = [0u8; 8];
        state.copy_from_slice(&digest[16..24]);
        Self {
            id: uuid::Builder::from_custom_bytes(id).into_uuid(),
            state: u64::from_le_bytes(state),
        }
    }

    /// The next number of a SplitMix64 stream: tiny, fast, and the same on every platform.
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (n > 0); the modulo bias does not matter for demo data.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A number below `n` (n > 0), small ones far likelier: a few posts draw most reactions.
    fn skewed(&mut self, n: usize) -> usize {
        let u = self.unit();
        ((u * u * n as f64) as usize).min(n - 1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A start and a step coprime with `len` (len > 0): `start + n * step` (mod `len`) visits
    /// every index below `len` once in its first `len` steps.
    fn walk(&mut self, len: usize) -> (usize, usize) {
        let mut step = 1 + self.below(len.max(2) - 1);
        while gcd(step, len) != 1 {
            step += 1;
        }
        (self.below(len), step)
    }

    /// Up to `count` distinct items, in a random order.
    fn distinct<'a, T>(&mut self, items: &'a [T], count: usize) -> impl Iterator<Item = &'a T> + use<'a, T> {
        let (start, step) = self.walk(items.len());
        (0..count.min(items.len())).map(move |n| &items[(start + n * step) % items.len()])
    }
}

const FIRST_NAMES: &[&str] = &[
    "Ann", "Ben", "Chloe", "Dan", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kira", "Liam", "Mira",
    "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Wei", "Xena", "Yusuf", "Zoe",
];

const LAST_NAMES: &[&str] = &[
    "Lee", "Garcia", "Novak", "Smith", "Okafor", "Tanaka", "Muller", "Rossi", "Silva", "Kowalski", "Dubois",
    "Jensen", "Ivanova", "Khan", "Park", "Nguyen", "Haddad", "Moreau", "Fischer", "Costa",
];

const TAGS: [&str; 16] = [
    "rust",
    "graphql",
    "postgres",
    "web",
    "career",
    "productivity",
    "remote-work",
    "fitness",
    "nutrition",
    "travel",
    "finance",
    "startups",
    "learning",
    "design",
    "testing",
    "open-source",
];

fn topics(category: Category) -> &'static [&'static str] {
    match category {
        Category::Technology => &[
            "async Rust",
            "GraphQL APIs",
            "PostgreSQL indexes",
            "type-safe SQL",
            "WebAssembly",
            "observability",
            "container images",
            "API versioning",
        ],
        Category::Lifestyle => &[
            "slow mornings",
            "minimalist living",
            "city cycling",
            "home cooking",
            "weekend hiking",
            "reading habits",
        ],
        Category::Business => &[
            "bootstrapping",
            "pricing",
            "remote teams",
            "hiring engineers",
            "customer interviews",
            "quarterly planning",
        ],
        Category::Health => &[
            "sleep",
            "strength training",
            "running form",
            "healthy lunches",
            "desk posture",
            "stress",
        ],
        Category::Education => &[
            "learning to code",
            "online courses",
            "spaced repetition",
            "teaching kids maths",
            "study groups",
            "technical writing",
        ],
    }
}

const TITLES: &[&str] = &[
    "a practical guide to {}",
    "what I learned about {}",
    "{} in ten minutes",
    "why {} matters",
    "notes on {}",
    "getting started with {}",
    "common mistakes with {}",
    "{}: one year later",
    "the case for {}",
    "{} for busy people",
];

const POST_SENTENCES: &[&str] = &[
    "{} looks simple from the outside, and that is exactly why it deserves a closer look.",
    "I spent the last few months with {} and kept notes along the way.",
    "The first surprise was how little setup {} needs.",
    "Most advice about {} skips the boring parts, which are the ones that matter.",
    "Measure before you change anything; {} rewards patience.",
    "A small, steady routine beats a heroic weekend.",
    "The trade-offs only show up once real people depend on the result.",
    "Here is the checklist I wish I had on day one.",
    "If you only remember one thing about {}, make it this: start small.",
    "Friends who tried {} after me made the same mistakes I did.",
    "None of this needs expensive tools.",
    "Write things down; future you will not remember why.",
];

const COMMENT_SENTENCES: &[&str] = &[
    "Great write-up, thanks for sharing.",
    "This matches my experience exactly.",
    "I disagree with the second point, but the rest is spot on.",
    "Could you expand on the checklist?",
    "Bookmarked for later.",
    "I tried this last week and it worked.",
    "What would you do differently next time?",
    "Clear and to the point.",
    "The examples made it click for me.",
    "Looking forward to part two.",
];
