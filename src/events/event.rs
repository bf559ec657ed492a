//! The events themselves: ids only, serialized the same in process and over the Redis relay.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::models::Category;

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
