//! Parsed documents by query text. Clients send the same few documents over and over, and
//! parsing one (a pest grammar) cost 15 % of the CPU of a small query; a clone of the parsed
//! document costs a fraction of that. Bounded by the bytes of query text kept
//! ([`crate::memory_cache`]), so clients that send ever-new documents only churn it without
//! pushing out the hot ones; documents that do not parse, fail the limits or validation are
//! never kept.

use std::sync::Arc;

use async_graphql::Request;
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use moka::sync::Cache;

use super::admission::selected_operation;
use crate::memory_cache;

/// Most bytes kept, text and entry charges together: at most 1024 documents. A parsed tree is
/// many times larger than its text (a field per few bytes), so the budget is on the text.
const MAX_BYTES: usize = 256 * 1024;
/// Larger documents are parsed on every request.
const MAX_QUERY_BYTES: usize = 8 * 1024;

pub struct ParsedDocuments {
    by_query: Cache<String, Arc<ExecutableDocument>>,
}

impl Default for ParsedDocuments {
    fn default() -> Self {
        Self {
            by_query: memory_cache::by_bytes(MAX_BYTES, |query: &String, _| query.len()).build(),
        }
    }
}

/// A document parsed for one request, to keep once it has passed validation and run.
pub struct NewDocument {
    query: String,
    document: Arc<ExecutableDocument>,
}

impl ParsedDocuments {
    /// Gives `request` its parsed document: a copy of the kept one, or a fresh parse, returned
    /// for [`ParsedDocuments::remember`] (a document is kept only once it has run, so documents
    /// that fail the limits or validation never take room). A document that does not parse is
    /// left for the executor to report.
    pub fn attach(&self, request: &mut Request) -> Option<NewDocument> {
        if request.query.len() > MAX_QUERY_BYTES {
            return None;
        }
        if let Some(document) = self.by_query.get(&request.query) {
            request.set_parsed_query((*document).clone());
            return None;
        }
        let document = Arc::new(request.parsed_query().ok()?.clone());
        Some(NewDocument {
            query: request.query.clone(),
            document,
        })
    }

    /// The type of the operation `request` selects, when its document is kept (it ran before);
    /// nothing is copied.
    pub fn operation_type(&self, request: &Request) -> Option<OperationType> {
        let document = self.by_query.get(&request.query)?;
        selected_operation(&document, request.operation_name.as_deref()).map(|operation| operation.node.ty)
    }

    /// Keeps a document that ran; the cache makes room within its weight.
    pub fn remember(&self, new: NewDocument) {
        self.by_query.insert(new.query, new.document);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory_cache::ENTRY_BYTES;

    fn run(cache: &ParsedDocuments, query: &str) -> Request {
        let mut request = Request::new(query);
        if let Some(new) = cache.attach(&mut request) {
            cache.remember(new);
        }
        request
    }

    /// Entries and weight once the cache has done its pending work.
    fn size(cache: &ParsedDocuments) -> (u64, u64) {
        cache.by_query.run_pending_tasks();
        (cache.by_query.entry_count(), cache.by_query.weighted_size())
    }

    #[test]
    fn the_operation_type_of_a_kept_document_is_known_without_a_copy() {
        let cache = ParsedDocuments::default();
        let both = "query Q { posts { nodes { id } } } mutation M { logout }";
        let named = |name: &str| Request::new(both).operation_name(name);
        assert_eq!(cache.operation_type(&named("Q")), None, "not kept yet");
        run(&cache, both);
        assert_eq!(cache.operation_type(&named("Q")), Some(OperationType::Query));
        assert_eq!(cache.operation_type(&named("M")), Some(OperationType::Mutation));
        assert_eq!(cache.operation_type(&named("Other")), None);
    }

    #[test]
    fn documents_are_parsed_once_and_bounded() {
        let cache = ParsedDocuments::default();
        let hot = "{ posts { nodes { id } } }";
        let mut first = run(&cache, hot);
        let mut again = Request::new(hot);
        assert!(
            cache.attach(&mut again).is_none(),
            "the second request reuses the first parse"
        );
        assert_eq!(size(&cache).0, 1);
        assert_eq!(
            format!("{:?}", again.parsed_query().unwrap()),
            format!("{:?}", first.parsed_query().unwrap())
        );

        let mut unremembered = Request::new("{ me { id } }");
        assert!(cache.attach(&mut unremembered).is_some());
        assert_eq!(size(&cache).0, 1, "kept only when remembered (after it ran)");

        let mut broken = Request::new("{ posts { ");
        assert!(
            cache.attach(&mut broken).is_none(),
            "a document that does not parse is not kept"
        );
        assert!(broken.parsed_query().is_err());

        // A flood of one-off documents, with the hot one still in use among them.
        let most = (MAX_BYTES / ENTRY_BYTES) as u64;
        let mut hot_misses = 0;
        for n in 0..4 * most {
            run(&cache, &format!("{{ post(id: \"{n}\") {{ id }} }}"));
            if n % 10 == 0 {
                let mut request = Request::new(hot);
                if let Some(new) = cache.attach(&mut request) {
                    hot_misses += 1;
                    cache.remember(new);
                }
            }
        }
        let (entries, weight) = size(&cache);
        assert!(entries <= most, "{entries} documents kept");
        assert!(weight <= MAX_BYTES as u64, "{weight} kept");
        assert_eq!(hot_misses, 0, "the flood pushed out the hot document");

        let large = format!("{{ posts {{ nodes {{ id }} }} }}{}", " ".repeat(MAX_QUERY_BYTES));
        let mut large = Request::new(large);
        assert!(cache.attach(&mut large).is_none());
        assert!(large.parsed_query().is_ok(), "parsed by the executor as usual");
    }

    #[test]
    fn the_text_budget_holds() {
        let cache = ParsedDocuments::default();
        let padding = " ".repeat(MAX_QUERY_BYTES - 64);
        for n in 0..40 {
            run(&cache, &format!("{{ post(id: \"{n}\") {{ id }} }}{padding}"));
        }
        let (entries, weight) = size(&cache);
        assert!(weight <= MAX_BYTES as u64, "{weight} kept");
        assert!(entries < 40);
    }
}
