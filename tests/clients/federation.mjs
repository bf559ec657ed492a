// Apollo Federation v2 with real tools: the gateway's subgraph SDL (its `_service { sdl }`) and a
// small "reviews" subgraph (@apollo/subgraph, federation/reviews.mjs) are composed by
// @apollo/composition into a supergraph, which @apollo/gateway serves (on @apollo/server). Queries
// through that router cross both subgraphs each way: reviews of the gateway's posts (the router
// asks the reviews subgraph for `Post` entities), and the posts of reviews (it asks the gateway's
// `_entities`), where a draft is null for an anonymous caller and visible to its author, whose
// `Authorization` the router forwards. The router presents ROUTER_SECRET, so its query plans run
// although the gateway is in trusted-documents mode.
// Needs FEDERATION_POSTS: {"published": [id, ...], "draft": id} (the draft is the signed-in
// account's) and ROUTER_SECRET.
import { composeServices } from "@apollo/composition";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { parse } from "graphql";

import { startReviews } from "./federation/reviews.mjs";
import { assert, restToken } from "./lib.mjs";

/** POSTs to a GraphQL endpoint and returns the whole answer. */
async function post(url, query, { headers = {}, variables = {} } = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  try {
    return { status: response.status, ...JSON.parse(text) };
  } catch {
    throw new Error(`${url}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
  }
}

async function federation(ctx) {
  const secret = process.env.ROUTER_SECRET;
  const posts = JSON.parse(process.env.FEDERATION_POSTS ?? "null");
  assert(secret && posts?.draft && posts.published?.length >= 2, "ROUTER_SECRET and FEDERATION_POSTS must be set");
  const routerHeaders = { "x-router-secret": secret };
  const sdl = await post(ctx.http, "{ _service { sdl } }", { headers: routerHeaders });
  assert(sdl.data?._service?.sdl, `_service { sdl }: ${JSON.stringify(sdl).slice(0, 300)}`);

  const reviewed = [...posts.published.slice(0, 2), posts.draft];
  const reviews = await startReviews(reviewed);
  let router;
  try {
    const composed = composeServices([
      { name: "blog", typeDefs: parse(sdl.data._service.sdl), url: ctx.http },
      { name: "reviews", typeDefs: reviews.typeDefs, url: reviews.url },
    ]);
    assert(!composed.errors?.length, `composition failed: ${composed.errors?.map((e) => e.message).join("; ")}`);

    const gateway = new ApolloGateway({
      supergraphSdl: composed.supergraphSdl,
      buildService: ({ url }) =>
        new RemoteGraphQLDataSource({
          url,
          willSendRequest({ request, context }) {
            if (context.authorization) request.http.headers.set("authorization", context.authorization);
            request.http.headers.set("x-router-secret", secret);
          },
        }),
    });
    router = new ApolloServer({ gateway });
    const { url } = await startStandaloneServer(router, {
      listen: { port: 0, host: "127.0.0.1" },
      context: async ({ req }) => ({ authorization: req.headers.authorization }),
    });

    // Into the reviews subgraph: the gateway's posts with the reviews another service keeps.
    const feed = await post(url, "{ posts(first: 50, sort: OLDEST) { nodes { id title reviews { stars } } } }");
    assert(!feed.errors, `posts with reviews: ${JSON.stringify(feed.errors)}`);
    const first = feed.data.posts.nodes.find((node) => node.id === posts.published[0]);
    assert(first && first.reviews.length === 1 && first.reviews[0].stars === 5, `reviews of ${posts.published[0]}: ${JSON.stringify(first)}`);

    // Into the gateway: the posts of reviews, through `_entities` (a draft is its author's).
    const query = "{ latestReviews { stars post { id title author { username } } } }";
    const anonymous = await post(url, query);
    assert(!anonymous.errors, `latestReviews: ${JSON.stringify(anonymous.errors)}`);
    const seen = anonymous.data.latestReviews.map((review) => review.post?.id ?? null);
    assert(
      JSON.stringify(seen) === JSON.stringify([posts.published[0], posts.published[1], null]),
      `anonymous posts of reviews ${JSON.stringify(seen)}, expected the two published and null for the draft`,
    );
    assert(anonymous.data.latestReviews[0].post.author.username, "the author of a post resolved through _entities");
    const token = await restToken(ctx);
    const signedIn = await post(url, query, { headers: { authorization: `Bearer ${token}` } });
    assert(!signedIn.errors, `latestReviews as the author: ${JSON.stringify(signedIn.errors)}`);
    const draft = signedIn.data.latestReviews[2].post;
    assert(draft?.id === posts.draft, `the draft's author did not see it through the router: ${JSON.stringify(draft)}`);

    // Without the secret, the router's plans are refused like any unregistered document.
    const stranger = await post(ctx.http, "{ _service { sdl } }", { headers: { "x-router-secret": "wrong" } });
    assert(stranger.errors?.[0]?.extensions?.code === "PERSISTED_QUERY_NOT_ALLOWED", `a wrong secret ran: ${JSON.stringify(stranger).slice(0, 200)}`);
    return "composed with reviews; both directions, drafts by Authorization";
  } finally {
    await router?.stop();
    await reviews.stop();
  }
}

export const checks = [{ name: "federation-router", run: federation }];
