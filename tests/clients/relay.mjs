// relay-compiler over schema.graphql and the Relay documents of relay/ (fragments with
// @argumentDefinitions, @connection on Post.comments and Query.posts, @appendNode, a query, a
// mutation, a subscription, @refetchable fragments on Post and User): they must compile, and
// the artifacts must be written. Then the refetch queries relay-compiler wrote run against the
// gateway: a post's comments paged both ways to the ends through node(id:), and a user refetched.
import { copyFile, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { assert, firstDuplicate, graphql, here, inTimeOrder, outputDir, runNode, tail } from "./lib.mjs";

/** Artifacts relay-compiler must write for the documents of relay/. */
const ARTIFACTS = [
  "CommentItem_comment.graphql.ts",
  "FeedPageQuery.graphql.ts",
  "FeedPage_query.graphql.ts",
  "PostComments_post.graphql.ts",
  "PostCommentsSubscription.graphql.ts",
  "PostPageLikeMutation.graphql.ts",
  "PostPageQuery.graphql.ts",
  "PostThreadPaginationQuery.graphql.ts",
  "PostThread_post.graphql.ts",
  "UserCardRefetchQuery.graphql.ts",
  "UserCard_user.graphql.ts",
];

/**
 * Runs relay-compiler over the Relay documents of relay/, copied into `out`/src, with `extra`
 * configuration (a persistConfig, say); artifacts go to `out`/src/__generated__.
 */
export async function compileRelay(ctx, out, extra = {}) {
  const src = path.join(out, "src");
  await outputDir(path.relative(path.join(here, ".generated"), path.join(src, "__generated__")));
  for (const file of await readdir(path.join(here, "relay"))) {
    await copyFile(path.join(here, "relay", file), path.join(src, file));
  }
  const config = {
    src: "./src",
    schema: path.relative(out, path.join(ctx.root, "schema.graphql")),
    language: "typescript",
    artifactDirectory: "./src/__generated__",
    customScalarTypes: { DateTime: "string" },
    requireCustomScalarTypes: true,
    eagerEsModules: true,
    noSourceControl: true,
    ...extra,
  };
  await writeFile(path.join(out, "relay.config.json"), JSON.stringify(config, null, 2));
  const bin = path.join(here, "node_modules/relay-compiler/cli.js");
  const { code, output } = await runNode([bin, "--output", "quiet-with-errors", "relay.config.json"], { cwd: out });
  if (code !== 0) throw new Error(`relay-compiler exited ${code}:\n    ${tail(output, 40)}`);
  return src;
}

async function relay(ctx) {
  const out = await outputDir("relay");
  const src = await compileRelay(ctx, out);
  const written = await readdir(path.join(src, "__generated__"));
  const missing = ARTIFACTS.filter((name) => !written.includes(name));
  assert(missing.length === 0, `relay-compiler did not write ${missing.join(", ")} (wrote ${written.join(", ")})`);
  return `${written.length} artifacts`;
}

/** The operation text relay-compiler wrote into an artifact (`params.text`). */
async function operationText(name) {
  const file = path.join(here, ".generated", "relay", "src", "__generated__", `${name}.graphql.ts`);
  const source = await readFile(file, "utf8");
  const match = /"text": ("(?:[^"\\]|\\.)*")/.exec(source);
  assert(match, `${name}: no operation text in ${file}`);
  return JSON.parse(match[1]);
}

/** Pages `node(id:).comments` with the compiled refetch query, forward or backward, to the end. */
async function pageThread(ctx, text, id, forward) {
  const size = 3;
  let ids = [];
  let nodes = [];
  let cursor = null;
  for (let pages = 1; ; pages += 1) {
    // Relay sends the other direction's arguments as null.
    const variables = forward
      ? { id, first: size, after: cursor, last: null, before: null }
      : { id, first: null, after: null, last: size, before: cursor };
    const data = await graphql(ctx, text, variables);
    const comments = data.node.comments;
    const page = comments.edges.map((edge) => edge.node);
    nodes = forward ? [...nodes, ...page] : [...page, ...nodes];
    ids = nodes.map((node) => node.id);
    const more = forward ? comments.pageInfo.hasNextPage : comments.pageInfo.hasPreviousPage;
    if (!more) return { nodes, ids, pages };
    assert(page.length === size, `a page of ${page.length} with more to come (${forward ? "forward" : "backward"})`);
    cursor = forward ? comments.pageInfo.endCursor : comments.pageInfo.startCursor;
    assert(pages < 1000, "paging does not end");
  }
}

async function relayRefetch(ctx) {
  const feed = await graphql(ctx, "{ posts(first: 100) { nodes { id commentCount author { id username } } } }");
  const target = [...feed.posts.nodes].sort((a, b) => b.commentCount - a.commentCount)[0];
  assert(target && target.commentCount > 6, "no published post with more than 6 comments: seed more");
  const text = await operationText("PostThreadPaginationQuery");
  assert(/node\(id: \$id\)/.test(text), `the refetch query does not go through node(id:):\n${text}`);
  const forward = await pageThread(ctx, text, target.id, true);
  const backward = await pageThread(ctx, text, target.id, false);
  for (const [way, read] of [
    ["forward", forward],
    ["backward", backward],
  ]) {
    const duplicate = firstDuplicate(read.ids);
    assert(duplicate < 0, `${way}: comment ${read.ids[duplicate]} appears twice (at ${duplicate})`);
    assert(
      read.ids.length === target.commentCount,
      `${way}: ${read.ids.length} comments in ${read.pages} pages, but commentCount is ${target.commentCount}`,
    );
    for (let i = 1; i < read.nodes.length; i += 1) {
      const [a, b] = [read.nodes[i - 1], read.nodes[i]];
      assert(inTimeOrder(a, b), `${way}: comments out of (createdAt, id) order at ${i}: ${a.id} then ${b.id}`);
    }
  }
  assert(
    JSON.stringify(forward.ids) === JSON.stringify(backward.ids),
    "the comments read backward are not the comments read forward",
  );
  const refetch = await operationText("UserCardRefetchQuery");
  const user = await graphql(ctx, refetch, { id: target.author.id });
  assert(
    user.node?.username === target.author.username && Number.isInteger(user.node.postCount),
    `UserCardRefetchQuery refetched ${JSON.stringify(user.node)}, not ${target.author.username}`,
  );
  return `${target.commentCount} comments of post ${target.id} in ${forward.pages} pages forward and ${backward.pages} backward; user ${target.author.username} refetched`;
}

export const checks = [
  { name: "relay-compiler", run: relay },
  { name: "relay-refetch-pagination", run: relayRefetch },
];
