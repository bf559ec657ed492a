// Apollo Client 4 against the live /graphql: relay-style pagination through fetchMore (a post's
// comments, the root feed), a like that updates the normalized cache, and automatic persisted
// queries through @apollo/client/link/persisted-queries.
import { createHash } from "node:crypto";

import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { relayStylePagination } from "@apollo/client/utilities";
import { filter, firstValueFrom, timeout } from "rxjs";

import { assert, firstDuplicate, graphql, inTimeOrder, token } from "./lib.mjs";

/** The cache of a frontend that pages comments and feeds with Relay cursors. */
function cache() {
  return new InMemoryCache({
    typePolicies: {
      Query: { fields: { posts: relayStylePagination(["category", "authorId", "tag", "search", "sort"]) } },
      Post: { fields: { comments: relayStylePagination() } },
      User: { fields: { posts: relayStylePagination() } },
    },
  });
}

/**
 * A fetch that records every request: its body's `query` (or none: hash only) and its
 * persisted-query extension, so a check can tell what went over the wire.
 */
export function recordingFetch() {
  const requests = [];
  const wrapped = async (input, init = {}) => {
    let body = {};
    if (typeof init.body === "string") body = JSON.parse(init.body);
    else {
      const url = new URL(typeof input === "string" ? input : input.url);
      body = {
        query: url.searchParams.get("query") ?? undefined,
        extensions: url.searchParams.has("extensions") ? JSON.parse(url.searchParams.get("extensions")) : undefined,
      };
    }
    const response = await fetch(input, init);
    let error;
    try {
      const answer = JSON.parse(await response.clone().text());
      error = answer.errors?.[0] && `${answer.errors[0].message} ${answer.errors[0].extensions?.code ?? ""}`.trim();
    } catch {
      error = `HTTP ${response.status}, not JSON`;
    }
    requests.push({
      method: init.method ?? "GET",
      operationName: body.operationName,
      hasQuery: typeof body.query === "string" && body.query.length > 0,
      hash: body.extensions?.persistedQuery?.sha256Hash,
      status: response.status,
      error,
    });
    return response;
  };
  return { fetch: wrapped, requests };
}

export function client(ctx, { authToken = null, fetch: fetchImpl = fetch, links = [] } = {}) {
  const http = new HttpLink({
    uri: ctx.http,
    fetch: fetchImpl,
    headers: authToken ? { authorization: `Bearer ${authToken}` } : {},
  });
  return new ApolloClient({ link: ApolloLink.from([...links, http]), cache: cache() });
}

/** Subscribes to a watched query and waits for its first complete result. */
async function firstComplete(observable) {
  const result = await firstValueFrom(
    observable.pipe(filter((result) => result.dataState === "complete" || result.error !== undefined)),
  );
  if (result.error) throw result.error;
  return result;
}

/**
 * Pages a watched query to its end with fetchMore; `connection(data)` picks the connection.
 * Returns the merged connection the cache holds at the end and the number of pages fetched.
 */
async function pageToEnd(observable, connection) {
  const subscription = observable.subscribe(() => {});
  try {
    let data = (await firstComplete(observable)).data;
    let pages = 1;
    while (connection(data).pageInfo.hasNextPage) {
      assert(pages < 1000, "hasNextPage stays true after 1000 pages");
      const after = connection(data).pageInfo.endCursor;
      assert(after, "hasNextPage is true but endCursor is null");
      // The watched query emits the merged list after fetchMore resolves: wait for it.
      const merged = firstValueFrom(
        observable.pipe(
          filter((result) => result.dataState === "complete" && connection(result.data).pageInfo.endCursor !== after),
          timeout({ first: 20_000, with: () => Promise.reject(new Error(`no merged result after page ${pages + 1}`)) }),
        ),
      );
      merged.catch(() => {}); // awaited below; handled here should fetchMore throw first
      await observable.fetchMore({ variables: { after } });
      pages += 1;
      data = (await merged).data;
    }
    return { merged: connection(data), pages };
  } finally {
    subscription.unsubscribe();
  }
}

const POST_COMMENTS = gql`
  query PostComments($id: ID!, $first: Int!, $after: String) {
    post(id: $id) {
      id
      commentCount
      comments(first: $first, after: $after) {
        edges {
          cursor
          node {
            id
            createdAt
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`;

const FEED = gql`
  query FeedPage($first: Int!, $after: String) {
    posts(first: $first, after: $after) {
      totalCount
      edges {
        cursor
        node {
          id
          createdAt
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

/** The published post with the most comments among the newest 100 (ids are never hard-coded). */
async function busiestPost(ctx) {
  const data = await graphql(ctx, "{ posts(first: 100) { nodes { id commentCount } } }");
  const posts = [...data.posts.nodes].sort((a, b) => b.commentCount - a.commentCount);
  assert(posts.length > 0, "the feed is empty: the server has no published posts");
  return posts[0];
}

async function commentsPagination(ctx) {
  const pageSize = 3;
  const target = await busiestPost(ctx);
  assert(
    target.commentCount > 2 * pageSize,
    `the busiest post has ${target.commentCount} comments: seed more than ${2 * pageSize} on one post`,
  );
  const apollo = client(ctx);
  const observable = apollo.watchQuery({ query: POST_COMMENTS, variables: { id: target.id, first: pageSize } });
  const { merged, pages } = await pageToEnd(observable, (data) => data.post.comments);
  const nodes = merged.edges.map((edge) => edge.node);
  const ids = nodes.map((node) => node.id);
  const duplicate = firstDuplicate(ids);
  assert(duplicate < 0, `comment ${ids[duplicate]} appears twice in the merged list (at ${duplicate})`);
  for (let i = 1; i < nodes.length; i += 1) {
    const [a, b] = [nodes[i - 1], nodes[i]];
    assert(
      inTimeOrder(a, b),
      `comments out of (createdAt, id) order at ${i}: ${a.createdAt} ${a.id} then ${b.createdAt} ${b.id}`,
    );
  }
  const commentCount = apollo.readQuery({ query: POST_COMMENTS, variables: { id: target.id, first: pageSize } })
    .post.commentCount;
  assert(
    nodes.length === commentCount,
    `merged ${nodes.length} comments in ${pages} pages, but commentCount is ${commentCount}`,
  );
  assert(pages === Math.ceil(commentCount / pageSize), `${commentCount} comments took ${pages} pages of ${pageSize}`);
  return `${commentCount} comments of post ${target.id} in ${pages} pages of ${pageSize}`;
}

async function feedPagination(ctx) {
  const pageSize = 50;
  const apollo = client(ctx);
  const observable = apollo.watchQuery({ query: FEED, variables: { first: pageSize } });
  const { merged, pages } = await pageToEnd(observable, (data) => data.posts);
  const nodes = merged.edges.map((edge) => edge.node);
  const ids = nodes.map((node) => node.id);
  const duplicate = firstDuplicate(ids);
  assert(duplicate < 0, `post ${ids[duplicate]} appears twice in the merged feed (at ${duplicate})`);
  for (let i = 1; i < nodes.length; i += 1) {
    const [a, b] = [nodes[i - 1], nodes[i]];
    assert(
      inTimeOrder(a, b, true),
      `feed not newest first at ${i}: ${a.createdAt} ${a.id} then ${b.createdAt} ${b.id}`,
    );
  }
  const total = merged.totalCount;
  assert(nodes.length === total, `merged ${nodes.length} posts in ${pages} pages, but totalCount is ${total}`);
  assert(pages > 1, `${total} posts fit one page of ${pageSize}: seed more published posts`);
  return `${total} published posts in ${pages} pages of ${pageSize}`;
}

const POST_LIKES = gql`
  query PostLikes($id: ID!) {
    post(id: $id) {
      id
      title
      likeCount
      viewerHasLiked
    }
  }
`;

const LIKE = gql`
  mutation LikePost($id: ID!) {
    likePost(id: $id) {
      id
      likeCount
      viewerHasLiked
    }
  }
`;

const UNLIKE = gql`
  mutation UnlikePost($id: ID!) {
    unlikePost(id: $id) {
      id
      likeCount
      viewerHasLiked
    }
  }
`;

const LIKE_FIELDS = gql`
  fragment LikeFields on Post {
    likeCount
    viewerHasLiked
  }
`;

async function likeUpdatesCache(ctx) {
  const authToken = await token(ctx);
  // A post the account has not liked yet (the account's own likes are read with its token).
  const feed = await graphql(ctx, "{ posts(first: 100) { nodes { id viewerHasLiked } } }", {}, authToken);
  const target = feed.posts.nodes.find((post) => !post.viewerHasLiked);
  assert(target, "the account has liked every post of the newest 100");
  const recorder = recordingFetch();
  const apollo = client(ctx, { authToken, fetch: recorder.fetch });
  const before = (await apollo.query({ query: POST_LIKES, variables: { id: target.id } })).data.post;
  assert(before.viewerHasLiked === false, `post ${target.id} reads as liked before the like`);
  const id = apollo.cache.identify({ __typename: "Post", id: target.id });
  assert(id, "the cache cannot identify a Post by its id");

  const liked = await apollo.mutate({ mutation: LIKE, variables: { id: target.id } });
  assert(liked.data.likePost.likeCount === before.likeCount + 1, `likePost answered ${JSON.stringify(liked.data)}`);
  const fragment = apollo.cache.readFragment({ id, fragment: LIKE_FIELDS });
  assert(
    fragment?.likeCount === before.likeCount + 1 && fragment.viewerHasLiked === true,
    `cached post after the like: ${JSON.stringify(fragment)}, expected likeCount ${before.likeCount + 1}, liked`,
  );
  const cached = await apollo.query({ query: POST_LIKES, variables: { id: target.id }, fetchPolicy: "cache-only" });
  assert(
    cached.data?.post?.likeCount === before.likeCount + 1 && cached.data.post.viewerHasLiked === true,
    `cache-only query after the like: ${JSON.stringify(cached.data)}`,
  );
  const names = recorder.requests.map((request) => request.operationName);
  assert(
    JSON.stringify(names) === JSON.stringify(["PostLikes", "LikePost"]),
    `the cache was not updated in place: requests ${JSON.stringify(names)}`,
  );

  // Unliking restores the count, in the cache as well (and leaves the data as it was).
  await apollo.mutate({ mutation: UNLIKE, variables: { id: target.id } });
  const restored = apollo.cache.readFragment({ id, fragment: LIKE_FIELDS });
  assert(
    restored?.likeCount === before.likeCount && restored.viewerHasLiked === false,
    `cached post after the unlike: ${JSON.stringify(restored)}, expected likeCount ${before.likeCount}`,
  );
  return `post ${target.id}: likeCount ${before.likeCount} -> ${before.likeCount + 1} -> ${before.likeCount} in the cache`;
}

async function persistedQueries(ctx) {
  const recorder = recordingFetch();
  const sha256 = (text) => createHash("sha256").update(text).digest("hex");
  // A document no earlier request sent (the server remembers hashes), so the first try misses.
  const nonce = `apq${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const query = gql(`
    query PersistedFeed {
      ${nonce}: posts(first: 2) {
        nodes {
          id
          title
        }
      }
    }
  `);
  const apollo = client(ctx, { fetch: recorder.fetch, links: [createPersistedQueryLink({ sha256 })] });
  const first = await apollo.query({ query, fetchPolicy: "network-only" });
  assert(first.data?.[nonce]?.nodes?.length > 0, `first answer: ${JSON.stringify(first)}`);
  const afterFirst = recorder.requests.map((request) => (request.hasQuery ? "query" : "hash"));
  assert(
    JSON.stringify(afterFirst) === JSON.stringify(["hash", "query"]),
    `first query: expected a hash-only miss then a retry with the document, got ${JSON.stringify(recorder.requests)}`,
  );
  const miss = recorder.requests[0].error;
  assert(
    miss === "PersistedQueryNotFound PERSISTED_QUERY_NOT_FOUND",
    `the hash-only miss answered ${JSON.stringify(recorder.requests[0])}, expected PersistedQueryNotFound`,
  );
  const second = await apollo.query({ query, fetchPolicy: "network-only" });
  assert(
    JSON.stringify(second.data) === JSON.stringify(first.data),
    `the hash-only answer differs: ${JSON.stringify(second.data)}`,
  );
  const requests = recorder.requests.map((request) => (request.hasQuery ? "query" : "hash"));
  assert(
    JSON.stringify(requests) === JSON.stringify(["hash", "query", "hash"]),
    `second query: expected hash only, got ${JSON.stringify(recorder.requests)}`,
  );
  const hashes = new Set(recorder.requests.map((request) => request.hash));
  assert(hashes.size === 1 && !hashes.has(undefined), `every request carries the same hash: ${[...hashes]}`);
  return `hash-only miss (HTTP ${recorder.requests[0].status} PersistedQueryNotFound), retry with the document, then hash only`;
}

export const checks = [
  { name: "apollo-comments-pagination", run: commentsPagination },
  { name: "apollo-feed-pagination", run: feedPagination },
  { name: "apollo-like-cache", run: likeUpdatesCache },
  { name: "apollo-persisted-queries", run: persistedQueries },
];
