//! Parsed documents by query text. Clients send the same few documents over and over, and
//! parsing one (a pest grammar) cost 15 % of the CPU of a small query; a clone of the parsed
//! document costs a fraction of that. Bounded in entries and in document size, so clients that
//! send ever-new documents only churn it; documents that do not parse are never kept (their
//! error is produced by the parser on every request, as before).

use std::collections::HashMap;
use std::sync::Mutex;

use async_graphql::Request;
use async_graphql::parser::types::ExecutableDocument;

/// Most distinct documents kept.
const MAX_DOCUMENTS: usize = 512;
/// Larger documents are parsed on every request.
const MAX_QUERY_BYTES: usize = 16 * 1024;

#[derive(Default)]
pub struct ParsedDocuments {
    by_query: Mutex<HashMap<String, ExecutableDocument>>,
}

impl ParsedDocuments {
    /// Gives `request` its parsed document: a copy of the cached one, or a fresh parse that is
    /// then cached. A document that does not parse is left for the executor to report.
    pub fn attach(&self, request: &mut Request) {
        if request.query.len() > MAX_QUERY_BYTES {
            return;
        }
        let cached = self.lock().get(&request.query).cloned();
        if let Some(document) = cached {
            request.set_parsed_query(document);
            return;
        }
        let Ok(document) = request.parsed_query() else {
            return;
        };
        let document = document.clone();
        let mut by_query = self.lock();
        if by_query.len() >= MAX_DOCUMENTS {
            // Any entry will do: a bounded cache of hot documents refills within requests.
            if let Some(evicted) = by_query.keys().next().cloned() {
                by_query.remove(&evicted);
            }
        }
        by_query.insert(request.query.clone(), document);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ExecutableDocument>> {
        self.by_query.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_parsed_once_and_bounded() {
        let cache = ParsedDocuments::default();
        let mut first = Request::new("{ posts { nodes { id } } }");
        cache.attach(&mut first);
        let mut again = Request::new("{ posts { nodes { id } } }");
        cache.attach(&mut again);
        assert_eq!(cache.len(), 1);
        assert_eq!(
            format!("{:?}", again.parsed_query().unwrap()),
            format!("{:?}", first.parsed_query().unwrap())
        );

        let mut broken = Request::new("{ posts { ");
        cache.attach(&mut broken);
        assert_eq!(cache.len(), 1, "a document that does not parse is not kept");
        assert!(broken.parsed_query().is_err());

        for n in 0..MAX_DOCUMENTS + 10 {
            cache.attach(&mut Request::new(format!("{{ post(id: \"{n}\") {{ id }} }}")));
        }
        assert_eq!(cache.len(), MAX_DOCUMENTS);

        let huge = format!("{{ posts {{ nodes {{ id }} }} }}{}", " ".repeat(MAX_QUERY_BYTES));
        let mut large = Request::new(huge);
        cache.attach(&mut large);
        assert!(large.parsed_query().is_ok());
        assert_eq!(cache.len(), MAX_DOCUMENTS);
    }
}
