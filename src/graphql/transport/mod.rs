//! The two transports of GraphQL: HTTP (`POST` and `GET /graphql`, batches) and WebSocket
//! (graphql-transport-ws). Each decodes requests, resolves the caller and encodes answers; the
//! rules between are the pipeline's (`graphql::pipeline`), the same for both.

pub mod http;
pub mod ws;
