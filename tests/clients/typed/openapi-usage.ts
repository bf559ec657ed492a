// Uses the types openapi-typescript generates from the served /api/openapi.json (copied next to
// the generated api.ts and compiled there with tsc --strict --noEmit).
import type { components, operations, paths } from "./api";

/** The JSON body of a response or request body object. */
type Json<T> = T extends { content: { "application/json": infer Body } } ? Body : never;

export type PostList = Json<paths["/api/posts"]["get"]["responses"][200]>;
export type ListPostsQuery = NonNullable<paths["/api/posts"]["get"]["parameters"]["query"]>;
export type PostDetail = Json<paths["/api/posts/{id}"]["get"]["responses"][200]>;
export type LoginBody = Json<paths["/api/auth/login"]["post"]["requestBody"]>;
export type Session = components["schemas"]["SessionEnvelope"];
export type ErrorBody = components["schemas"]["ErrorBody"];

// Operations as openapi-fetch-style clients reach them: by path and method.
export type Login = paths["/api/auth/login"]["post"];
export type Like = paths["/api/posts/{id}/like"]["post"];
export type ListPosts = paths["/api/posts"]["get"];
export type PostById = paths["/api/posts/{id}"]["get"];
export type UpdatePost = paths["/api/posts/{id}"]["put"];
export type ListUsers = paths["/api/users"]["get"];
export type UserById = paths["/api/users/{id}"]["get"];
export type UpdateUser = paths["/api/users/{id}"]["put"];
/** Every operation by its operationId (duplicate operationIds collide here). */
export type OperationId = keyof operations;

export async function listPosts(query: ListPostsQuery): Promise<PostList> {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const response = await fetch(`/api/posts?${params}`);
  if (!response.ok) throw new Error(((await response.json()) as ErrorBody).message);
  return (await response.json()) as PostList;
}

export function titles(list: PostList): string[] {
  return list.data.map((post) => `${post.title} by ${post.author?.username ?? "?"} (${post.commentCount})`);
}

export function lastPage(list: PostList): number {
  return list.pagination.pages;
}

export async function signIn(body: LoginBody): Promise<string> {
  const response = await fetch("/api/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const session = (await response.json()) as Json<Login["responses"][200]>;
  return `${session.user.username}: ${session.tokens.accessToken}`;
}

export function likes(answer: Json<Like["responses"][200]>): number {
  return answer.data.liked ? answer.data.likes : 0;
}

export const page: ListPosts["parameters"]["query"] = { page: 2, limit: 10, sort: "-createdAt" };
export const postId: PostById["parameters"]["path"]["id"] = "5f0c0000-0000-4000-8000-000000000000";
export const edit: Json<UpdatePost["requestBody"]> = { title: "A better title" };
export const admins: ListUsers["parameters"]["query"] = { role: "admin" };
export const someone: UserById["parameters"]["path"]["id"] = postId;
export const rename: Json<UpdateUser["requestBody"]> = { username: "ann" };
export const operationIds = (ids: OperationId[]): string => ids.join(", ");

// The generated types are precise, not `any`: each line below must fail to compile.
// @ts-expect-error `likes` is a number
export const badLike: components["schemas"]["LikeState"] = { liked: true, likes: "1" };
// @ts-expect-error `pagination` is required
export const badList: PostList = { success: true, data: [] };
