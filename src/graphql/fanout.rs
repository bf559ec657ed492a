//! Subscriptions at scale (schema data, one per process): how many each client holds open, and
//! the rows events refer to, read once per event however many subscribers deliver it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::db::models::{Comment, Post, User};
use crate::error::AppError;

/// Rows kept for events just delivered (a cell per event; the map starts over past this).
const ROWS_KEPT: usize = 256;

type Cell<T> = Arc<OnceCell<Option<T>>>;

/// A comment event's row: the comment, its post (for visibility) and its author.
type CommentRow = (Comment, Post, User);

pub struct Fanout {
    max_per_client: usize,
    open: Mutex<HashMap<String, usize>>,
    comments: Mutex<HashMap<Uuid, Cell<CommentRow>>>,
    posts: Mutex<HashMap<Uuid, Cell<(Post, User)>>>,
}

/// A subscription counted against its client; uncounted when dropped (with its stream).
pub struct Admission {
    fanout: Arc<Fanout>,
    client: String,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut open = self.fanout.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

fn cell<T>(map: &Mutex<HashMap<Uuid, Cell<T>>>, id: Uuid) -> Cell<T> {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= ROWS_KEPT && !map.contains_key(&id) {
        map.clear();
    }
    map.entry(id).or_default().clone()
}

impl Fanout {
    pub fn new(max_per_client: u32) -> Arc<Self> {
        Arc::new(Self {
            max_per_client: usize::try_from(max_per_client).unwrap_or(usize::MAX),
            open: Mutex::new(HashMap::new()),
            comments: Mutex::new(HashMap::new()),
            posts: Mutex::new(HashMap::new()),
        })
    }

    /// Counts one more subscription of `client`, or refuses it past the cap.
    pub fn admit(self: &Arc<Self>, client: String) -> Result<Admission, AppError> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(client.clone()).or_default();
        if *count >= self.max_per_client {
            metrics::counter!("graphql_subscriptions_refused_total", "limit" => "client").increment(1);
            return Err(AppError::TooManySubscriptions);
        }
        *count += 1;
        Ok(Admission {
            fanout: self.clone(),
            client,
        })
    }

    /// The comment of an event with its post and author, read once for every subscriber of this
    /// process.
    pub async fn comment<F>(&self, id: Uuid, load: F) -> Option<CommentRow>
    where
        F: Future<Output = Option<CommentRow>>,
    {
        cell(&self.comments, id).get_or_init(|| load).await.clone()
    }

    /// The post of an event with its author, read once for every subscriber of this process.
    pub async fn post<F>(&self, id: Uuid, load: F) -> Option<(Post, User)>
    where
        F: Future<Output = Option<(Post, User)>>,
    {
        cell(&self.posts, id).get_or_init(|| load).await.clone()
    }
}
