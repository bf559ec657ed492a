// openapi-typescript over the OpenAPI document the live server serves (GET /api/openapi.json),
// then `tsc --strict --noEmit` over the generated types and typed/openapi-usage.ts, which uses
// them as a REST client would (paths, components and operations by operationId).
import { copyFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { STRICT_TSCONFIG } from "./codegen.mjs";
import { assert, here, outputDir, runNode, tail, tsc } from "./lib.mjs";

async function openapiTypescript(ctx) {
  const out = await outputDir("openapi");
  const response = await fetch(`${ctx.base}/api/openapi.json`);
  assert(response.ok, `GET /api/openapi.json answered ${response.status}`);
  const document = await response.json();
  assert(typeof document.openapi === "string" && document.paths, "GET /api/openapi.json is not an OpenAPI document");
  await writeFile(path.join(out, "openapi.json"), JSON.stringify(document, null, 2));
  const bin = path.join(here, "node_modules/openapi-typescript/bin/cli.js");
  const generated = await runNode([bin, "openapi.json", "--output", "api.ts"], { cwd: out });
  if (generated.code !== 0) throw new Error(`openapi-typescript exited ${generated.code}:\n    ${tail(generated.output, 20)}`);
  await copyFile(path.join(here, "typed", "openapi-usage.ts"), path.join(out, "usage.ts"));
  await writeFile(path.join(out, "tsconfig.json"), JSON.stringify(STRICT_TSCONFIG, null, 2));
  const problems = [];
  const duplicates = duplicateOperationIds(document);
  if (duplicates.length) problems.push(`operationIds used more than once (each becomes one key of \`operations\`): ${duplicates.join("; ")}`);
  const { code, output } = await tsc(path.join(out, "tsconfig.json"));
  if (code !== 0) problems.push(`tsc --strict over the generated types failed:\n    ${tail(output, 30)}`);
  if (problems.length) throw new Error(problems.join("\n    "));
  const operations = Object.values(operationsOf(document)).length;
  return `OpenAPI ${document.openapi}, ${operations} operations typed, usage compiles under --strict`;
}

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** Every operation of the document as "METHOD /path" -> its operationId. */
function operationsOf(document) {
  const operations = {};
  for (const [route, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      if (item[method]) operations[`${method.toUpperCase()} ${route}`] = item[method].operationId;
    }
  }
  return operations;
}

/** "id (METHOD /path, METHOD /path)" for each operationId shared by operations, or missing. */
function duplicateOperationIds(document) {
  const byId = new Map();
  for (const [operation, id] of Object.entries(operationsOf(document))) {
    const key = id ?? "<no operationId>";
    byId.set(key, [...(byId.get(key) ?? []), operation]);
  }
  return [...byId]
    .filter(([id, operations]) => operations.length > 1 || id === "<no operationId>")
    .map(([id, operations]) => `${id} (${operations.join(", ")})`);
}

export const checks = [{ name: "openapi-typescript", run: openapiTypescript }];
