// A second subgraph for the federation check: a "reviews" service built with @apollo/subgraph. It
// keeps one review per post it is given (5, 4, 3... stars), extends the gateway's `Post` entity
// with its reviews, and lists the latest reviews, each naming its post by reference only.
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";

export const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  type Review {
    id: ID!
    stars: Int!
    body: String!
    post: Post
  }

  type Post @key(fields: "id") {
    id: ID!
    reviews: [Review!]!
  }

  type Query {
    latestReviews: [Review!]!
  }
`);

/** Starts the subgraph on a free port with a review of each of `postIds`; resolves {url, typeDefs, stop}. */
export async function startReviews(postIds) {
  const reviews = postIds.map((postId, at) => ({ id: `review-${at}`, stars: 5 - at, body: `Review ${at}`, postId }));
  const resolvers = {
    Query: { latestReviews: () => reviews },
    Review: { post: (review) => ({ __typename: "Post", id: review.postId }) },
    Post: {
      __resolveReference: (reference) => ({ id: reference.id }),
      reviews: (post) => reviews.filter((review) => review.postId === post.id),
    },
  };
  const server = new ApolloServer({
    schema: buildSubgraphSchema({ typeDefs, resolvers }),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: "127.0.0.1" } });
  return { url, typeDefs, stop: () => server.stop() };
}
