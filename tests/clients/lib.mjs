// Helpers shared by the client checks: the run's context (repository root, server, account),
// plain GraphQL over fetch (for setup steps that are not what a check is about), child
// processes on this Node binary, and the keyset orders the server promises.
import { spawn } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The folder of this suite (tests/clients). */
export const here = path.dirname(fileURLToPath(import.meta.url));

/** Throws with `message` when `condition` is false. */
export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/**
 * The run's context: where the repository and the server are, and the account the checks sign
 * in with (CLIENTS_EMAIL and CLIENTS_PASSWORD; the demo account when unset).
 */
export function context(root, base) {
  const url = new URL(base);
  return {
    root: path.resolve(root),
    base: url.origin,
    http: `${url.origin}/graphql`,
    ws: `${url.protocol === "https:" ? "wss" : "ws"}://${url.host}/graphql/ws`,
    email: process.env.CLIENTS_EMAIL || "user@example.com",
    password: process.env.CLIENTS_PASSWORD || "password123",
    token: null,
  };
}

/** POSTs a GraphQL document and returns its `data`; throws on HTTP or GraphQL errors. */
export async function graphql(ctx, query, variables = {}, token = null) {
  const headers = { "content-type": "application/json", accept: "application/graphql-response+json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(ctx.http, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
  }
  if (!response.ok || body.errors) {
    throw new Error(`HTTP ${response.status}: ${JSON.stringify(body.errors ?? body).slice(0, 400)}`);
  }
  return body.data;
}

/** Signs in once per run with the GraphQL `login` mutation and returns the access token. */
export async function token(ctx) {
  if (!ctx.token) {
    const data = await graphql(
      ctx,
      "mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { tokens { accessToken } } }",
      { email: ctx.email, password: ctx.password },
    );
    ctx.token = data.login.tokens.accessToken;
  }
  return ctx.token;
}

/** A fresh output folder under tests/clients/.generated (git-ignored), emptied first. */
export async function outputDir(name) {
  const dir = path.join(here, ".generated", name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Runs a Node script of a package with this Node binary; resolves {code, output}. */
export function runNode(args, options = {}) {
  return runProgram(process.execPath, args, options);
}

/** Runs a program (the gateway's binary, say); resolves {code, output}: stdout and stderr, without colours. */
export function runProgram(program, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output: stripAnsi(output) }));
  });
}

/** The TypeScript compiler on a project: `tsc -p TSCONFIG` (strict, no emit, set there). */
export async function tsc(tsconfig) {
  const bin = path.join(here, "node_modules/typescript/bin/tsc");
  return runNode([bin, "-p", tsconfig, "--pretty", "false"]);
}

export function stripAnsi(text) {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
}

/** The last `count` non-empty lines of a tool's output, for a one-line failure reason. */
export function tail(text, count = 12) {
  return text
    .split("\n")
    .map((line) => line.trimEnd())
    .filter(Boolean)
    .slice(-count)
    .join("\n    ");
}

/** An RFC 3339 time as nanoseconds since the epoch (a JS Date keeps milliseconds only). */
export function nanos(time) {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  assert(match, `not an RFC 3339 time: ${time}`);
  const seconds = BigInt(Date.parse(`${match[1]}${match[3]}`)) / 1000n;
  const fraction = BigInt((match[2] ?? "").padEnd(9, "0").slice(0, 9));
  return seconds * 1_000_000_000n + fraction;
}

/**
 * Whether `b` may follow `a` in a keyset order by (createdAt, id): createdAt ascending (or
 * descending when `newestFirst`), then id ascending. The API shows times to the millisecond while
 * Postgres keeps microseconds, so two times that look equal may still differ: the id decides
 * only between times shown with microseconds or finer.
 */
export function inTimeOrder(a, b, newestFirst = false) {
  const difference = nanos(b.createdAt) - nanos(a.createdAt);
  if (difference !== 0n) return newestFirst ? difference < 0n : difference > 0n;
  const precise = [a, b].every((node) => /\.\d{6,}/.test(node.createdAt));
  return !precise || compareIds(a.id, b.id) < 0;
}

/** Compares two ids as Postgres orders uuids (bytewise, so their lowercase hex text). */
export function compareIds(a, b) {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The index of the first duplicate id in a list, or -1. */
export function firstDuplicate(ids) {
  const seen = new Set();
  return ids.findIndex((id) => (seen.has(id) ? true : (seen.add(id), false)));
}

/** Signs in through REST (`POST /api/auth/login`), which trusted-documents mode leaves open. */
export async function restToken(ctx) {
  const response = await fetch(`${ctx.base}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: ctx.email, password: ctx.password }),
  });
  const body = await response.json();
  const token = body?.tokens?.accessToken;
  assert(response.ok && token, `REST login: HTTP ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
  return token;
}
