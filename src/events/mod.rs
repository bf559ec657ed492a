//! Domain events for subscriptions. Events carry ids only: each subscriber loads the row when it
//! delivers it, with its own viewer's visibility rules. Published in process here; with Redis the
//! bus also relays them between instances (see `relay`).

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::db::models::Category;

mod relay;
pub use relay::Relay;

/// How many events a slow subscriber may lag behind before it skips some.
const CAPACITY: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Event {
    CommentAdded {
        post_id: Uuid,
        comment_id: Uuid,
    },
    PostPublished {
        post_id: Uuid,
        category: CategoryLabel,
    },
    /// A user's role or active flag changed: open sockets of that user check it again at once
    /// (on every instance), and end when the user is deactivated or demoted.
    UserChanged {
        user_id: Uuid,
    },
}

/// A category as carried by events (its Postgres label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CategoryLabel(#[serde(with = "category_label")] pub Category);

mod category_label {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::db::models::Category;

    pub fn serialize<S: Serializer>(category: &Category, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(category.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Category, D::Error> {
        let label = String::deserialize(deserializer)?;
        Category::parse(&label).ok_or_else(|| serde::de::Error::custom(format!("unknown category {label}")))
    }
}

/// Fans events out to the subscribers of this process.
#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<Event>,
    relay: Option<Relay>,
}

impl EventBus {
    pub fn new(relay: Option<Relay>) -> Self {
        let (local, _) = broadcast::channel(CAPACITY);
        Self { local, relay }
    }

    /// Publishes an event after the write that caused it committed. With Redis the event goes
    /// through the shared channel (every instance, this one included, receives it from there);
    /// if Redis fails it is still delivered to this instance's subscribers.
    pub async fn publish(&self, event: Event) {
        if let Some(relay) = &self.relay
            && relay.publish(&event).await
        {
            return;
        }
        self.deliver_locally(event);
    }

    /// Hands an event to this process' subscribers (no receivers is fine).
    pub fn deliver_locally(&self, event: Event) {
        let _ = self.local.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }

    /// Subscribers currently connected to this process.
    pub fn subscriber_count(&self) -> usize {
        self.local.receiver_count()
    }
}
