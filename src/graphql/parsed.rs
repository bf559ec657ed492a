//! Parsed documents by query text. Clients send the same few documents over and over, and
//! parsing one (a pest grammar) cost 15 % of the CPU of a small query; a clone of the parsed
//! document costs a fraction of that. Bounded in entries and in document size, so clients that
//! send ever-new documents only churn it; documents that do not parse, fail the limits or
//! validation are never kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_graphql::Request;
use async_graphql::parser::types::ExecutableDocument;

/// Most distinct documents kept.
const MAX_DOCUMENTS: usize = 512;
/// Most query text kept, all documents together: a parsed tree is many times larger than its
/// text (a field per few bytes), so the budget is on the text.
const MAX_TOTAL_QUERY_BYTES: usize = 128 * 1024;
/// Larger documents are parsed on every request.
const MAX_QUERY_BYTES: usize = 8 * 1024;

#[derive(Default)]
pub struct ParsedDocuments {
    inner: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    by_query: HashMap<String, Arc<ExecutableDocument>>,
    query_bytes: usize,
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
        let kept = self.lock().by_query.get(&request.query).cloned();
        if let Some(document) = kept {
            request.set_parsed_query((*document).clone());
            return None;
        }
        let document = Arc::new(request.parsed_query().ok()?.clone());
        Some(NewDocument {
            query: request.query.clone(),
            document,
        })
    }

    /// Keeps a document that ran, making room within the budgets.
    pub fn remember(&self, new: NewDocument) {
        let mut kept = self.lock();
        if kept.by_query.contains_key(&new.query) {
            return;
        }
        while kept.by_query.len() >= MAX_DOCUMENTS
            || kept.query_bytes + new.query.len() > MAX_TOTAL_QUERY_BYTES
        {
            // Any entry will do: a bounded cache of hot documents refills within requests.
            let Some(evicted) = kept.by_query.keys().next().cloned() else {
                break;
            };
            kept.by_query.remove(&evicted);
            kept.query_bytes -= evicted.len();
        }
        kept.query_bytes += new.query.len();
        kept.by_query.insert(new.query, new.document);
    }

    fn lock(&self) -> MutexGuard<'_, Kept> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().by_query.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cache: &ParsedDocuments, query: &str) -> Request {
        let mut request = Request::new(query);
        if let Some(new) = cache.attach(&mut request) {
            cache.remember(new);
        }
        request
    }

    #[test]
    fn documents_are_parsed_once_and_bounded() {
        let cache = ParsedDocuments::default();
        let mut first = run(&cache, "{ posts { nodes { id } } }");
        let mut again = Request::new("{ posts { nodes { id } } }");
        assert!(
            cache.attach(&mut again).is_none(),
            "the second request reuses the first parse"
        );
        assert_eq!(cache.len(), 1);
        assert_eq!(
            format!("{:?}", again.parsed_query().unwrap()),
            format!("{:?}", first.parsed_query().unwrap())
        );

        let mut unremembered = Request::new("{ me { id } }");
        assert!(cache.attach(&mut unremembered).is_some());
        assert_eq!(cache.len(), 1, "kept only when remembered (after it ran)");

        let mut broken = Request::new("{ posts { ");
        assert!(
            cache.attach(&mut broken).is_none(),
            "a document that does not parse is not kept"
        );
        assert!(broken.parsed_query().is_err());

        for n in 0..MAX_DOCUMENTS + 10 {
            run(&cache, &format!("{{ post(id: \"{n}\") {{ id }} }}"));
        }
        assert_eq!(cache.len(), MAX_DOCUMENTS);

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
        let kept = cache.lock();
        assert!(kept.query_bytes <= MAX_TOTAL_QUERY_BYTES);
        assert_eq!(
            kept.query_bytes,
            kept.by_query.keys().map(String::len).sum::<usize>()
        );
        assert!(kept.by_query.len() < 40);
    }
}
