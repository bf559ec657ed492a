// relay-compiler over schema.graphql and the Relay documents of relay/ (fragments with
// @argumentDefinitions, @connection on Post.comments and Query.posts, @appendNode, a query, a
// mutation, a subscription): they must compile, and the artifacts must be written.
import { copyFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { assert, here, outputDir, runNode, tail } from "./lib.mjs";

/** Artifacts relay-compiler must write for the documents of relay/. */
const ARTIFACTS = [
  "CommentItem_comment.graphql.ts",
  "FeedPageQuery.graphql.ts",
  "FeedPage_query.graphql.ts",
  "PostComments_post.graphql.ts",
  "PostCommentsSubscription.graphql.ts",
  "PostPageLikeMutation.graphql.ts",
  "PostPageQuery.graphql.ts",
];

async function relay(ctx) {
  const out = await outputDir("relay");
  const src = path.join(out, "src");
  await outputDir(path.join("relay", "src", "__generated__"));
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
  };
  await writeFile(path.join(out, "relay.config.json"), JSON.stringify(config, null, 2));
  const bin = path.join(here, "node_modules/relay-compiler/cli.js");
  const { code, output } = await runNode([bin, "--output", "quiet-with-errors", "relay.config.json"], { cwd: out });
  if (code !== 0) throw new Error(`relay-compiler exited ${code}:\n    ${tail(output, 40)}`);
  const written = await readdir(path.join(src, "__generated__"));
  const missing = ARTIFACTS.filter((name) => !written.includes(name));
  assert(missing.length === 0, `relay-compiler did not write ${missing.join(", ")} (wrote ${written.join(", ")})`);
  return `${written.length} artifacts`;
}

export const checks = [{ name: "relay-compiler", run: relay }];
