// Uses the types graphql-codegen's client preset generates from schema.graphql and documents/
// (copied next to the generated gql/ folder and compiled there with tsc --strict --noEmit).
import { ApolloClient, HttpLink, InMemoryCache } from "@apollo/client";

import { getFragmentData } from "./gql";
import {
  CommentAddedDocument,
  CommentItemFragmentDoc,
  FeedPageDocument,
  LoginDocument,
  PostCardFragmentDoc,
  PostWithCommentsDocument,
  type CommentAddedSubscription,
  type FeedPageQuery,
  type FeedPageQueryVariables,
  type LoginMutation,
  type LoginMutationVariables,
  type PostCardFragment,
  type PostWithCommentsQuery,
} from "./gql/graphql";

const client = new ApolloClient({ link: new HttpLink({ uri: "/graphql" }), cache: new InMemoryCache() });

/** The titles of a feed page, read through the PostCard fragment. */
export async function feedTitles(after: string | null): Promise<string[]> {
  const { data } = await client.query({ query: FeedPageDocument, variables: { first: 20, after, category: "TECHNOLOGY" } });
  return data?.posts.edges.map((edge) => getFragmentData(PostCardFragmentDoc, edge.node).title) ?? [];
}

export function byline(card: PostCardFragment): string {
  return card.author.fullName || card.author.username;
}

export function nextCursor(data: FeedPageQuery): string | null {
  return data.posts.pageInfo.hasNextPage ? (data.posts.pageInfo.endCursor ?? null) : null;
}

export async function commentIds(id: string): Promise<string[]> {
  const { data } = await client.query({ query: PostWithCommentsDocument, variables: { id, first: 10 } });
  const post: PostWithCommentsQuery["post"] | undefined = data?.post;
  return post?.comments.edges.map((edge) => getFragmentData(CommentItemFragmentDoc, edge.node).id) ?? [];
}

export async function signIn(variables: LoginMutationVariables): Promise<string> {
  const { data } = await client.mutate({ mutation: LoginDocument, variables });
  const login: LoginMutation["login"] | undefined = data?.login;
  if (!login) throw new Error("no login answer");
  const role: "USER" | "MODERATOR" | "ADMIN" = login.user.role;
  return `${role} ${login.tokens.tokenType} ${login.tokens.accessToken} ${login.tokens.expiresIn * 1000}`;
}

export function onComment(data: CommentAddedSubscription): string {
  const comment = getFragmentData(CommentItemFragmentDoc, data.commentAdded);
  const createdAt: string = comment.createdAt;
  return `${comment.author.username} at ${createdAt}: ${comment.content} (${data.commentAdded.post.commentCount})`;
}

export function watchComments(postId: string, onEvent: (text: string) => void): () => void {
  const subscription = client.subscribe({ query: CommentAddedDocument, variables: { postId } }).subscribe((result) => {
    if (result.data) onEvent(onComment(result.data));
  });
  return () => subscription.unsubscribe();
}

// The generated types are precise, not `any`: each line below must fail to compile.
// @ts-expect-error `first` is an Int
export const badFirst: FeedPageQueryVariables = { first: "20" };
// @ts-expect-error not a Category
export const badCategory: FeedPageQueryVariables = { first: 20, category: "SPORTS" };
// @ts-expect-error `post` is null for an unknown id or someone else's draft
export const unsafeTitle = (data: PostWithCommentsQuery): string => data.post.title;
// @ts-expect-error the fragment's fields are masked until getFragmentData
export const maskedTitle = (data: FeedPageQuery): string => data.posts.edges[0].node.title;
