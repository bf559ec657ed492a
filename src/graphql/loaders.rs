//! Per-request DataLoaders: every relation is fetched in one statement per resolver tick.
//! They are built for each request (never shared), so no cached row crosses viewers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use uuid::Uuid;

use super::batch::BatchQueue;
use crate::db::models::{Comment, Post, User, UserByline};
use crate::db::replicas::Reads;
use crate::domain::changes::EntityTag;
use crate::domain::page::{Direction, Page, PageRequest};
use crate::domain::{comments, likes, posts, users};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::telemetry;
use diesel_async::AsyncPgConnection;
use tracing::Instrument;

pub type LoadError = Arc<AppError>;

/// Where a loader's fetches run.
type Spawner = Arc<dyn Fn(BoxFuture<'static, ()>) + Send + Sync>;

/// A loader with no timer delay whose fetches run through `spawner`.
fn loader<T: Loader<K>, K: Send + Sync + std::hash::Hash + Eq + Clone + 'static>(
    spawner: &Spawner,
    inner: T,
) -> DataLoader<T> {
    DataLoader::new(inner, traced::<T>(spawner)).delay(Duration::ZERO)
}

/// Like [`loader`], remembering rows for the rest of the request (a user seen as a post author
/// is not fetched again as a commenter; bylines and whole rows are remembered apart).
fn caching_loader<T: Loader<Uuid>>(spawner: &Spawner, inner: T) -> DataLoader<T, HashMapCache> {
    DataLoader::with_cache(inner, traced::<T>(spawner), HashMapCache::default()).delay(Duration::ZERO)
}

/// `spawner` for the fetches of loader `T`: each fetch (one batch, one statement) runs in a
/// `dataloader.batch` span named by the loader, a child of the operation that asked first.
fn traced<T: 'static>(spawner: &Spawner) -> impl Fn(BoxFuture<'static, ()>) + Send + Sync + 'static {
    let spawner = spawner.clone();
    let name = std::any::type_name::<T>().rsplit("::").next().unwrap_or("loader");
    move |task| {
        let span = tracing::debug_span!(
            target: telemetry::TARGET,
            "dataloader.batch",
            otel.name = name,
            graphql.loader = name,
        );
        if span.is_disabled() {
            spawner(task);
        } else {
            spawner(Box::pin(task.instrument(span)));
        }
    }
}

/// All loaders of one request.
pub struct Loaders {
    pub users: DataLoader<UserLoader, HashMapCache>,
    pub user_bylines: DataLoader<UserBylineLoader, HashMapCache>,
    pub posts: DataLoader<PostLoader, HashMapCache>,
    pub comments: DataLoader<CommentLoader, HashMapCache>,
    pub post_comments: DataLoader<PostCommentsLoader>,
    pub author_posts: DataLoader<AuthorPostsLoader>,
    pub author_post_counts: DataLoader<AuthorPostCountLoader>,
    pub liked: DataLoader<LikedLoader>,
}

impl Loaders {
    /// Loaders of one HTTP request, batched deterministically by the request's queue.
    pub fn new(viewer_id: Option<Uuid>, queue: &BatchQueue, reads: &Reads) -> Self {
        Self::with_spawners(
            reads,
            viewer_id,
            Arc::new(queue.spawner()),
            Arc::new(queue.deferred_spawner()),
        )
    }

    /// Loaders of one subscription, whose events are resolved outside any HTTP request: fetches
    /// run as tasks after the resolvers of the event had a turn to enqueue keys.
    pub fn for_subscription(state: &AppState, viewer_id: Option<Uuid>) -> Self {
        let spawner: Spawner = Arc::new(|task| {
            tokio::spawn(async move {
                tokio::task::yield_now().await;
                task.await;
            });
        });
        Self::with_spawners(&state.primary_reads(), viewer_id, spawner.clone(), spawner)
    }

    fn with_spawners(reads: &Reads, viewer_id: Option<Uuid>, spawner: Spawner, deferred: Spawner) -> Self {
        let queue = &spawner;
        Self {
            users: caching_loader(&deferred, UserLoader(reads.clone())),
            user_bylines: caching_loader(&deferred, UserBylineLoader(reads.clone())),
            posts: caching_loader(queue, PostLoader(reads.clone())),
            comments: caching_loader(queue, CommentLoader(reads.clone())),
            post_comments: loader(queue, PostCommentsLoader(reads.clone())),
            author_posts: loader(queue, AuthorPostsLoader(reads.clone())),
            author_post_counts: loader(queue, AuthorPostCountLoader(reads.clone())),
            liked: loader(
                &deferred,
                LikedLoader {
                    reads: reads.clone(),
                    viewer_id,
                },
            ),
        }
    }
}

pub struct UserLoader(Reads);

/// Shared, not cloned: a loader hands every caller its own copy of the value.
impl Loader<Uuid> for UserLoader {
    type Value = Arc<User>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Arc<User>>, LoadError> {
        self.0.depends_on(keys.iter().map(|id| EntityTag::User(*id)));
        let rows = self.0.run(|conn, _| Box::pin(users::by_ids(conn, keys))).await?;
        Ok(rows.into_iter().map(|u| (u.id, Arc::new(u))).collect())
    }
}

pub struct UserBylineLoader(Reads);

impl Loader<Uuid> for UserBylineLoader {
    type Value = Arc<UserByline>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Arc<UserByline>>, LoadError> {
        self.0.depends_on(keys.iter().map(|id| EntityTag::User(*id)));
        let rows = self
            .0
            .run(|conn, _| Box::pin(users::bylines_by_ids(conn, keys)))
            .await?;
        Ok(rows.into_iter().map(|u| (u.id, Arc::new(u))).collect())
    }
}

pub struct PostLoader(Reads);

impl Loader<Uuid> for PostLoader {
    type Value = Post;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Post>, LoadError> {
        self.0.depends_on(keys.iter().map(|id| EntityTag::Post(*id)));
        let rows = self.0.run(|conn, _| Box::pin(posts::by_ids(conn, keys))).await?;
        Ok(rows.into_iter().map(|p| (p.id, p)).collect())
    }
}

pub struct CommentLoader(Reads);

/// A comment with its post (whose visibility is the comment's).
impl Loader<Uuid> for CommentLoader {
    type Value = (Comment, Post);
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, (Comment, Post)>, LoadError> {
        let rows = self
            .0
            .run(|conn, _| Box::pin(comments::by_ids_with_post(conn, keys)))
            .await?;
        // A comment is visible as its post is.
        self.0.depends_on(keys.iter().map(|id| EntityTag::Comment(*id)));
        self.0
            .depends_on(rows.iter().map(|(_, post)| EntityTag::Post(post.id)));
        Ok(rows.into_iter().map(|row| (row.0.id, row)).collect())
    }
}

/// A comment with the author's byline its statement read along with it.
pub type CommentWithAuthor = (Comment, Arc<UserByline>);

/// The first (or, backward, the last) comments of one post.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PostCommentsKey {
    pub post_id: Uuid,
    pub first: i64,
    pub direction: Direction,
}

pub struct PostCommentsLoader(Reads);

impl Loader<PostCommentsKey> for PostCommentsLoader {
    type Value = Vec<CommentWithAuthor>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[PostCommentsKey],
    ) -> Result<HashMap<PostCommentsKey, Vec<CommentWithAuthor>>, LoadError> {
        let found = self.0.run(|conn, _| Box::pin(post_comments(conn, keys))).await?;
        self.0
            .depends_on(keys.iter().map(|key| EntityTag::CommentList(key.post_id)));
        for (comment, author) in found.values().flatten() {
            self.0
                .depends_on([EntityTag::Comment(comment.id), EntityTag::User(author.id)]);
        }
        Ok(found)
    }
}

/// The first comments of each post of `keys`, with their authors.
async fn post_comments(
    conn: &mut AsyncPgConnection,
    keys: &[PostCommentsKey],
) -> AppResult<HashMap<PostCommentsKey, Vec<CommentWithAuthor>>> {
    let mut out = HashMap::with_capacity(keys.len());
    // Different page sizes in one document are rare: one statement per distinct size (and
    // direction).
    let mut by_size: HashMap<(i64, Direction), Vec<Uuid>> = HashMap::new();
    for key in keys {
        by_size
            .entry((key.first, key.direction))
            .or_default()
            .push(key.post_id);
    }
    // One shared row per author, however many comments they wrote.
    let mut authors: HashMap<Uuid, Arc<UserByline>> = HashMap::new();
    for ((first, direction), post_ids) in by_size {
        let rows = comments::first_for_posts(conn, &post_ids, first, direction).await?;
        let mut grouped: HashMap<Uuid, Vec<CommentWithAuthor>> = HashMap::with_capacity(post_ids.len());
        for (comment, author) in rows {
            let author = authors
                .entry(author.id)
                .or_insert_with(|| Arc::new(author))
                .clone();
            grouped
                .entry(comment.post_id)
                .or_default()
                .push((comment, author));
        }
        for post_id in post_ids {
            let rows = grouped.remove(&post_id).unwrap_or_default();
            out.insert(
                PostCommentsKey {
                    post_id,
                    first,
                    direction,
                },
                rows,
            );
        }
    }
    Ok(out)
}

/// The first (or, backward, the last) page of one author's posts, with or without drafts.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuthorPostsKey {
    pub author_id: Uuid,
    pub first: i64,
    pub include_drafts: bool,
    pub direction: Direction,
}

pub struct AuthorPostsLoader(Reads);

impl Loader<AuthorPostsKey> for AuthorPostsLoader {
    type Value = Page<Post>;
    type Error = LoadError;

    async fn load(&self, keys: &[AuthorPostsKey]) -> Result<HashMap<AuthorPostsKey, Page<Post>>, LoadError> {
        let found = self.0.run(|conn, _| Box::pin(author_posts(conn, keys))).await?;
        self.0.depends_on([EntityTag::PostList]);
        for page in found.values() {
            self.0
                .depends_on(page.items.iter().map(|post| EntityTag::Post(post.id)));
        }
        Ok(found)
    }
}

/// The first page of posts of each author of `keys`.
async fn author_posts(
    conn: &mut AsyncPgConnection,
    keys: &[AuthorPostsKey],
) -> AppResult<HashMap<AuthorPostsKey, Page<Post>>> {
    let mut out = HashMap::with_capacity(keys.len());
    let mut groups: HashMap<(i64, bool, Direction), Vec<Uuid>> = HashMap::new();
    for key in keys {
        groups
            .entry((key.first, key.include_drafts, key.direction))
            .or_default()
            .push(key.author_id);
    }
    for ((first, include_drafts, direction), author_ids) in groups {
        let mut grouped: HashMap<Uuid, Vec<Post>> = HashMap::new();
        for post in posts::first_by_authors(conn, &author_ids, first, include_drafts, direction).await? {
            grouped.entry(post.author_id).or_default().push(post);
        }
        let request = PageRequest {
            size: first,
            cursor: None,
            direction,
        };
        for author_id in author_ids {
            let mut rows = grouped.remove(&author_id).unwrap_or_default();
            // Listed newest first; `from_rows` takes a backward read's rows last first.
            if direction == Direction::Backward {
                rows.reverse();
            }
            out.insert(
                AuthorPostsKey {
                    author_id,
                    first,
                    include_drafts,
                    direction,
                },
                Page::from_rows(rows, &request),
            );
        }
    }
    Ok(out)
}

/// Whether the viewer liked each post; anonymous viewers like nothing and cost no query.
pub struct LikedLoader {
    reads: Reads,
    viewer_id: Option<Uuid>,
}

impl Loader<Uuid> for LikedLoader {
    type Value = bool;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, bool>, LoadError> {
        let Some(viewer_id) = self.viewer_id else {
            return Ok(keys.iter().map(|k| (*k, false)).collect());
        };
        let liked = self
            .reads
            .run(|conn, _| Box::pin(likes::liked_among(conn, viewer_id, keys)))
            .await?;
        let mut out: HashMap<Uuid, bool> = keys.iter().map(|k| (*k, false)).collect();
        for id in liked {
            out.insert(id, true);
        }
        Ok(out)
    }
}

/// How many posts one author has, with or without drafts (`User.posts.totalCount`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuthorPostCountKey {
    pub author_id: Uuid,
    pub include_drafts: bool,
}

pub struct AuthorPostCountLoader(Reads);

impl Loader<AuthorPostCountKey> for AuthorPostCountLoader {
    type Value = i64;
    type Error = LoadError;

    async fn load(&self, keys: &[AuthorPostCountKey]) -> Result<HashMap<AuthorPostCountKey, i64>, LoadError> {
        self.0.depends_on([EntityTag::PostList]);
        Ok(self
            .0
            .run(|conn, _| Box::pin(author_post_counts(conn, keys)))
            .await?)
    }
}

/// How many posts each author of `keys` has.
async fn author_post_counts(
    conn: &mut AsyncPgConnection,
    keys: &[AuthorPostCountKey],
) -> AppResult<HashMap<AuthorPostCountKey, i64>> {
    let mut out = HashMap::with_capacity(keys.len());
    for include_drafts in [false, true] {
        let author_ids: Vec<Uuid> = keys
            .iter()
            .filter(|k| k.include_drafts == include_drafts)
            .map(|k| k.author_id)
            .collect();
        if author_ids.is_empty() {
            continue;
        }
        for (author_id, count) in posts::count_by_authors(conn, &author_ids, include_drafts).await? {
            out.insert(
                AuthorPostCountKey {
                    author_id,
                    include_drafts,
                },
                count,
            );
        }
    }
    Ok(out)
}
