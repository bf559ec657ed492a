// graphql-ws 6 (the graphql-transport-ws protocol) against the live /graphql/ws: a commentAdded
// subscription receives a comment added through HTTP.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

import { assert, graphql, token } from "./lib.mjs";

const COMMENT_ADDED = `
  subscription CommentAdded($postId: ID!) {
    commentAdded(postId: $postId) {
      id
      content
      createdAt
      author { username }
      post { id }
    }
  }
`;

const ADD_COMMENT = `
  mutation AddComment($postId: ID!, $content: String!) {
    addComment(postId: $postId, content: $content) { id }
  }
`;

async function commentAdded(ctx) {
  const authToken = await token(ctx);
  const feed = await graphql(ctx, "{ posts(first: 1) { nodes { id } } }");
  const post = feed.posts.nodes[0];
  assert(post, "the feed is empty: the server has no published posts");

  // Every callback below records what happened and wakes waitFor, which re-checks its condition.
  let connected = false;
  let failure = null;
  const events = [];
  let wake = () => {};
  const signal = () => wake();
  const waitFor = async (condition, ms) => {
    const deadline = Date.now() + ms;
    while (!condition() && Date.now() < deadline) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return condition();
  };
  const client = createClient({
    url: ctx.ws,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${authToken}` },
    retryAttempts: 0,
    lazy: false,
    on: {
      connected: () => {
        connected = true;
        signal();
      },
    },
  });
  const dispose = client.subscribe(
    { query: COMMENT_ADDED, variables: { postId: post.id } },
    {
      next: (message) => {
        if (message.errors) failure = new Error(`subscription errors: ${JSON.stringify(message.errors)}`);
        else events.push(message.data.commentAdded);
        signal();
      },
      error: (error) => {
        failure = error instanceof Error ? error : new Error(`subscription failed: ${JSON.stringify(error)}`);
        signal();
      },
      complete: () => {
        failure ??= new Error("the server completed the subscription");
        signal();
      },
    },
  );
  try {
    await waitFor(() => connected || failure, 15_000);
    if (failure) throw failure;
    assert(connected, `no connection_ack from ${ctx.ws} within 15 s`);
    // The subscribe message and the HTTP write race: the server may register the subscription
    // after the first comment is added. Add comments until one arrives (at most 5, 2 s apart),
    // then give the last one 10 s more (a loaded machine).
    const added = [];
    const arrived = () => events.find((event) => added.some((comment) => comment.id === event.id));
    for (let attempt = 1; attempt <= 5 && !arrived(); attempt += 1) {
      const content = `graphql-ws check ${Date.now()} #${attempt}`;
      const data = await graphql(ctx, ADD_COMMENT, { postId: post.id, content }, authToken);
      added.push({ id: data.addComment.id, content });
      await waitFor(() => failure || arrived(), attempt === 5 ? 12_000 : 2000);
      if (failure) throw failure;
    }
    const event = arrived();
    assert(event, `no commentAdded event for comments ${added.map((a) => a.id).join(", ")} within 20 s`);
    const comment = added.find((a) => a.id === event.id);
    assert(event.content === comment.content, `event content ${JSON.stringify(event.content)}, sent ${JSON.stringify(comment.content)}`);
    assert(event.post.id === post.id, `event for post ${event.post.id}, subscribed to ${post.id}`);
    const strangers = events.filter((e) => !added.some((a) => a.id === e.id));
    assert(strangers.length === 0, `events for comments not added here: ${JSON.stringify(strangers)}`);
    return `comment ${event.id} arrived on post ${post.id} (after ${added.length} comment(s))`;
  } finally {
    dispose();
    await client.dispose();
  }
}

export const checks = [{ name: "graphql-ws-comment-added", run: commentAdded }];
