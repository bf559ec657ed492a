// graphql-inspector's diff of schema.graphql against the schema as it stood when issue 20 began
// (baseline/schema.graphql, never regenerated): the schema may only grow. A deliberately
// breaking change (a field removed, an argument made required) must be caught, so a diff that
// sees nothing cannot pass for one that found nothing.
import { readFile } from "node:fs/promises";
import path from "node:path";

import { CriticalityLevel, diff } from "@graphql-inspector/core";
import { buildSchema } from "graphql";

import { assert, here } from "./lib.mjs";

async function breakingChanges(before, after) {
  const changes = await diff(buildSchema(before), buildSchema(after));
  return {
    changes,
    breaking: changes.filter((change) => change.criticality.level === CriticalityLevel.Breaking),
  };
}

async function schemaDiff(ctx) {
  const baseline = await readFile(path.join(here, "baseline", "schema.graphql"), "utf8");
  const current = await readFile(path.join(ctx.root, "schema.graphql"), "utf8");
  const { changes, breaking } = await breakingChanges(baseline, current);
  assert(
    breaking.length === 0,
    `schema.graphql breaks clients of the baseline:\n    ${breaking.map((change) => change.message).join("\n    ")}`,
  );

  // The check itself: two breaking edits of the current schema must be reported as such.
  const withoutTitle = current.replace(/(type Post implements Node \{[^}]*?)\n\ttitle: String!\n/, "$1\n");
  assert(withoutTitle !== current, "the test's edit found no `title: String!` in type Post to remove");
  const requiredId = current.replace("node(id: ID!): Node", "node(id: ID!, kind: String!): Node");
  assert(requiredId !== current, "the test's edit found no node(id:) field to change");
  for (const [edit, schema, expect] of [
    ["a removed field", withoutTitle, "Post.title"],
    ["a new required argument", requiredId, "Query.node.kind"],
  ]) {
    const found = await breakingChanges(current, schema);
    assert(
      found.breaking.some((change) => change.path === expect),
      `graphql-inspector did not call ${edit} breaking (it saw: ${found.changes.map((c) => c.message).join("; ") || "nothing"})`,
    );
  }
  const dangerous = changes.filter((change) => change.criticality.level === CriticalityLevel.Dangerous).length;
  return `${changes.length} changes since the baseline, ${dangerous} dangerous, none breaking`;
}

export const checks = [{ name: "schema-diff", run: schemaDiff }];
