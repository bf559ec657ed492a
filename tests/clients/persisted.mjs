// Persisted documents from frontend builds, against a gateway in trusted-documents mode
// (TRUSTED_DOCUMENTS=true). Each frontend tool writes its own manifest:
//   Apollo:  @apollo/generate-persisted-query-manifest (ids: sha256 of the body),
//   Relay:   relay-compiler with persistConfig (ids: md5),
//   codegen: graphql-codegen's client preset with persistedDocuments (ids: sha1),
// `blog-gateway documents add` registers the three, and each tool's own client then runs its
// documents by id only: Apollo Client's persisted query link from the manifest
// (`extensions.persistedQuery`), relay-runtime with a network that sends `doc_id`, and the
// codegen documents (their text replaced by the hash) sent as `documentId`. A document that is
// not registered is refused before it runs.
// Needs BLOG_GATEWAY_BIN (the binary) and DATABASE_URL (the gateway's database) to register.
import { copyFile, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";

import { gql } from "@apollo/client";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { generatePersistedQueryIdsFromManifest } from "@apollo/persisted-query-lists";
import { generate } from "@graphql-codegen/cli";
import ts from "typescript";

import { client, recordingFetch } from "./apollo.mjs";
import { compileRelay } from "./relay.mjs";
import { assert, here, outputDir, runNode, runProgram, tail } from "./lib.mjs";

/** The documents a frontend ships (the same files the codegen check types). */
const DOCUMENTS = path.join(here, "documents");

/** Where each tool's manifest is written. */
const MANIFESTS = {
  apollo: path.join(here, ".generated", "persisted", "apollo", "persisted-query-manifest.json"),
  relay: path.join(here, ".generated", "persisted", "relay", "persisted_queries.json"),
  codegen: path.join(here, ".generated", "persisted", "codegen", "gql", "persisted-documents.json"),
};

async function readJson(file) {
  return JSON.parse(await readFile(file, "utf8"));
}

/** Apollo's tool over the documents a frontend ships. */
async function apolloManifest() {
  const out = path.dirname(MANIFESTS.apollo);
  await outputDir(path.relative(path.join(here, ".generated"), out));
  for (const file of await readdir(DOCUMENTS)) await copyFile(path.join(DOCUMENTS, file), path.join(out, file));
  const config = { documents: ["*.graphql"], output: path.basename(MANIFESTS.apollo) };
  await writeFile(path.join(out, "persisted-query-manifest.config.json"), JSON.stringify(config));
  const bin = path.join(here, "node_modules/@apollo/generate-persisted-query-manifest/cli.js");
  const { code, output } = await runNode([bin], { cwd: out });
  if (code !== 0) throw new Error(`generate-persisted-query-manifest exited ${code}:\n    ${tail(output)}`);
  const manifest = await readJson(MANIFESTS.apollo);
  assert(manifest.format === "apollo-persisted-query-manifest", `unexpected manifest ${JSON.stringify(manifest).slice(0, 200)}`);
  return manifest.operations.length;
}

/** relay-compiler with persistConfig over the Relay documents of relay/. */
async function relayManifest(ctx) {
  const out = path.dirname(MANIFESTS.relay);
  await outputDir(path.relative(path.join(here, ".generated"), out));
  // relay-compiler adds to the file it persists into; it must exist.
  await writeFile(MANIFESTS.relay, "{}");
  await compileRelay(ctx, out, {
    persistConfig: { file: `./${path.basename(MANIFESTS.relay)}`, algorithm: "MD5" },
  });
  return Object.keys(await readJson(MANIFESTS.relay)).length;
}

/** graphql-codegen's client preset with persisted documents (text replaced by the hash). */
async function codegenManifest(ctx) {
  const out = path.dirname(path.dirname(MANIFESTS.codegen));
  await outputDir(path.relative(path.join(here, ".generated"), out));
  await generate(
    {
      schema: path.join(ctx.root, "schema.graphql"),
      documents: path.join(DOCUMENTS, "*.graphql"),
      silent: true,
      errorsOnly: true,
      generates: {
        [`${out}/gql/`]: {
          preset: "client",
          presetConfig: {
            fragmentMasking: false,
            // sha1, the algorithm of codegen's persisted-documents guide (this version's default
            // is `sha256:<hex>`): the gateway keeps whatever id a tool wrote.
            persistedDocuments: { mode: "replaceDocumentWithHash", hashAlgorithm: "sha1" },
          },
          config: {
            scalars: { DateTime: "string" },
            strictScalars: true,
            enumType: "string-literal",
            enumsAsTypes: true,
            useTypeImports: true,
          },
        },
      },
    },
    true,
  );
  return Object.keys(await readJson(MANIFESTS.codegen)).length;
}

/** `blog-gateway documents add FILE...`, as a deployment registers a build's manifests. */
async function register(files) {
  const bin = process.env.BLOG_GATEWAY_BIN;
  assert(bin && process.env.DATABASE_URL, "BLOG_GATEWAY_BIN and DATABASE_URL must be set to register documents");
  const { code, output } = await runProgram(bin, ["documents", "add", ...files]);
  if (code !== 0) throw new Error(`documents add exited ${code}:\n    ${tail(output)}`);
  return output;
}

/** Each tool writes its manifest; the three are registered with the gateway's CLI. */
async function manifests(ctx) {
  const counts = {
    apollo: await apolloManifest(),
    relay: await relayManifest(ctx),
    codegen: await codegenManifest(ctx),
  };
  for (const [tool, count] of Object.entries(counts)) assert(count >= 2, `${tool} wrote ${count} documents`);
  const output = await register(Object.values(MANIFESTS));
  for (const [tool, count] of Object.entries(counts)) {
    assert(output.includes(`${count} documents  ${MANIFESTS[tool]}`), `documents add did not register ${tool}'s ${count}:\n${output}`);
  }
  return Object.entries(counts)
    .map(([tool, count]) => `${tool} ${count}`)
    .join(", ");
}

/** A TypeScript module a build wrote, made importable the way a bundler does (types erased). */
async function importTs(file) {
  const source = await readFile(file, "utf8");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const js = `${file}.mjs`;
  await writeFile(js, outputText);
  return import(pathToFileURL(js).href);
}

/** The first page of the feed any run has (at least 3 published posts). */
function assertFeed(data, source) {
  const posts = data?.posts;
  const page = posts?.edges?.map((edge) => edge.node?.id) ?? [];
  assert(page.length === 3 && page.every(Boolean), `${source}: unexpected feed ${JSON.stringify(data).slice(0, 300)}`);
}

/** Apollo Client with the persisted query link built from the Apollo manifest: hashes only. */
async function apolloPersisted(ctx) {
  const manifest = await readJson(MANIFESTS.apollo);
  const recorder = recordingFetch();
  const link = createPersistedQueryLink(generatePersistedQueryIdsFromManifest({ loadManifest: () => manifest }));
  const apollo = client(ctx, { fetch: recorder.fetch, links: [link] });
  const feed = gql(await readFile(path.join(DOCUMENTS, "FeedPage.graphql"), "utf8"));
  const { data } = await apollo.query({ query: feed, variables: { first: 3 } });
  assertFeed(data, "Apollo");
  const expected = manifest.operations.find((operation) => operation.name === "FeedPage").id;
  assert(recorder.requests.length === 1, `${recorder.requests.length} requests: ${JSON.stringify(recorder.requests)}`);
  const [request] = recorder.requests;
  assert(!request.hasQuery && request.hash === expected, `Apollo sent ${JSON.stringify(request)}, expected the manifest's id ${expected} alone`);
  // The same document by the persisted-documents proposal's `sha256:` id.
  const proposal = await fetch(ctx.http, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
    body: JSON.stringify({ documentId: `sha256:${expected}`, variables: { first: 3 } }),
  });
  const answer = await proposal.json();
  assert(proposal.ok && !answer.errors, `documentId sha256:${expected}: HTTP ${proposal.status} ${JSON.stringify(answer).slice(0, 300)}`);
  assertFeed(answer.data, "documentId sha256:");
  return `FeedPage by id ${expected.slice(0, 12)}..., also as documentId sha256:`;
}

/** relay-runtime over the persisted artifacts: the network sends `doc_id` only. */
async function relayPersisted(ctx) {
  const { Environment, Network, RecordSource, Store, fetchQuery } = await import("relay-runtime");
  const sent = [];
  const answers = [];
  const network = Network.create(async (params, variables) => {
    assert(params.id && params.text == null, `the artifact of ${params.name} carries text: not a persisted build`);
    const body = { doc_id: params.id, variables };
    sent.push(body);
    const response = await fetch(ctx.http, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    answers.push(answer);
    return answer;
  });
  const environment = new Environment({ network, store: new Store(new RecordSource()) });
  const artifact = await importTs(path.join(path.dirname(MANIFESTS.relay), "src", "__generated__", "FeedPageQuery.graphql.ts"));
  const data = await fetchQuery(environment, artifact.default, { first: 3, after: null }).toPromise();
  // What the query reads is masked behind its fragment; the answer it normalized is the feed.
  assert(data?.__fragments?.FeedPage_query, `relay-runtime read ${JSON.stringify(data).slice(0, 200)}`);
  assert(answers.length === 1 && !answers[0].errors, `Relay was answered ${JSON.stringify(answers).slice(0, 300)}`);
  assertFeed(answers[0].data, "Relay");
  const ids = Object.keys(await readJson(MANIFESTS.relay));
  assert(sent.length === 1 && ids.includes(sent[0].doc_id) && /^[0-9a-f]{32}$/.test(sent[0].doc_id), `Relay sent ${JSON.stringify(sent)}`);
  return `FeedPageQuery by md5 doc_id ${sent[0].doc_id.slice(0, 12)}...`;
}

/** The codegen documents, whose text the build replaced by a hash, sent as `documentId`. */
async function codegenPersisted(ctx) {
  const generated = await importTs(path.join(path.dirname(MANIFESTS.codegen), "graphql.ts"));
  const document = generated.FeedPageDocument;
  const hash = document?.__meta__?.hash;
  assert(hash && !document.definitions, `the build left document text in FeedPageDocument: ${JSON.stringify(document).slice(0, 200)}`);
  assert(/^[0-9a-f]{40}$/.test(hash), `codegen's default hash is sha1; got ${hash}`);
  // The executor of codegen's persisted-documents guide, over GET and POST.
  const post = await fetch(ctx.http, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
    body: JSON.stringify({ documentId: hash, variables: { first: 3 } }),
  });
  const body = await post.json();
  assert(post.ok && !body.errors, `POST documentId: HTTP ${post.status} ${JSON.stringify(body).slice(0, 300)}`);
  assertFeed(body.data, "codegen POST");
  const url = `${ctx.http}?documentId=${encodeURIComponent(hash)}&variables=${encodeURIComponent(JSON.stringify({ first: 3 }))}`;
  const get = await fetch(url, { headers: { accept: "application/graphql-response+json" } });
  const got = await get.json();
  assert(get.ok && !got.errors, `GET documentId: HTTP ${get.status} ${JSON.stringify(got).slice(0, 300)}`);
  assertFeed(got.data, "codegen GET");
  return `FeedPage by sha1 documentId ${hash.slice(0, 12)}..., POST and GET`;
}

/** What the trusted mode refuses: a document nobody registered, an unknown id, both at once. */
async function unlistedRefused(ctx) {
  const send = async (body) => {
    const response = await fetch(ctx.http, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    return { status: response.status, code: answer.errors?.[0]?.extensions?.code, data: answer.data };
  };
  const cases = [
    [{ query: "{ posts(first: 1) { totalCount } }" }, 400, "PERSISTED_QUERY_NOT_ALLOWED"],
    [{ documentId: "sha256:" + "0".repeat(64) }, 400, "PERSISTED_QUERY_NOT_FOUND"],
    [{ doc_id: "not-a-registered-id" }, 400, "PERSISTED_QUERY_NOT_FOUND"],
    [{ documentId: "x", query: "{ __typename }" }, 400, "BAD_REQUEST"],
  ];
  for (const [body, status, code] of cases) {
    const got = await send(body);
    assert(got.status === status && got.code === code && got.data === undefined, `${JSON.stringify(body)} answered ${JSON.stringify(got)}, expected ${status} ${code}`);
  }
  return `${cases.length} refused`;
}

export const checks = [
  { name: "persisted-manifests", run: manifests },
  { name: "persisted-apollo", run: apolloPersisted },
  { name: "persisted-relay", run: relayPersisted },
  { name: "persisted-codegen", run: codegenPersisted },
  { name: "persisted-unlisted-refused", run: unlistedRefused },
];
