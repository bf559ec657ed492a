//! What an answer depends on and what a write changes, as entity tags: the response cache keeps
//! each answer with the tags of what it read, and a write invalidates exactly the tags it
//! touched (`response_cache`). The service layer names the tags: reads through the request's
//! `Reads` (`db::replicas`), writes through the [`TagSet`] the door passes to each write.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

/// One thing an answer can depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntityTag {
    /// One post's row (also when it was looked up and not found).
    Post(Uuid),
    /// One user's row.
    User(Uuid),
    /// One comment's row.
    Comment(Uuid),
    /// Which posts exist and in what order (every post list and count, lookups by slug).
    PostList,
    /// The order by popularity (likes and comments; views lag by design).
    PostPopular,
    /// The comments of one post.
    CommentList(Uuid),
    /// The tag list and its counts.
    TagList,
    /// Which users exist (lists, counts, lookups by username).
    UserList,
    /// Everything: a write the tags above do not describe (an account deactivated).
    All,
}

impl std::fmt::Display for EntityTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntityTag::Post(id) => write!(f, "Post:{id}"),
            EntityTag::User(id) => write!(f, "User:{id}"),
            EntityTag::Comment(id) => write!(f, "Comment:{id}"),
            EntityTag::PostList => f.write_str("Post:list"),
            EntityTag::PostPopular => f.write_str("Post:popular"),
            EntityTag::CommentList(post) => write!(f, "Comment:list:{post}"),
            EntityTag::TagList => f.write_str("Tag:list"),
            EntityTag::UserList => f.write_str("User:list"),
            EntityTag::All => f.write_str("All"),
        }
    }
}

/// A set of tags one request collects, shared by its parts (loaders, resolvers). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct TagSet(Arc<Mutex<BTreeSet<EntityTag>>>);

impl TagSet {
    pub fn add(&self, tag: EntityTag) {
        self.0.lock().expect("tag set lock").insert(tag);
    }

    pub fn extend(&self, tags: impl IntoIterator<Item = EntityTag>) {
        self.0.lock().expect("tag set lock").extend(tags);
    }

    /// The tags collected so far.
    pub fn snapshot(&self) -> Vec<EntityTag> {
        self.0.lock().expect("tag set lock").iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_print_as_the_cache_stores_them() {
        let id = Uuid::nil();
        assert_eq!(EntityTag::Post(id).to_string(), format!("Post:{id}"));
        assert_eq!(
            EntityTag::CommentList(id).to_string(),
            format!("Comment:list:{id}")
        );
        assert_eq!(EntityTag::PostPopular.to_string(), "Post:popular");
        let set = TagSet::default();
        set.extend([EntityTag::PostPopular, EntityTag::PostList]);
        set.add(EntityTag::PostList);
        assert_eq!(set.snapshot(), vec![EntityTag::PostList, EntityTag::PostPopular]);
    }
}
