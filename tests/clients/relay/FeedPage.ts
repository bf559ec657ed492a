// The home feed: a Relay connection over the root `posts` field, filtered by category.
import { graphql } from "react-relay";

export const FeedListFragment = graphql`
  fragment FeedPage_query on Query
  @argumentDefinitions(
    first: { type: "Int", defaultValue: 20 }
    after: { type: "String" }
    category: { type: "Category" }
  ) {
    posts(first: $first, after: $after, category: $category) @connection(key: "FeedPage_posts", filters: ["category"]) {
      edges {
        node {
          id
          title
          likeCount
          commentCount
          author {
            username
          }
        }
      }
    }
  }
`;

export const FeedPageQuery = graphql`
  query FeedPageQuery($category: Category, $first: Int) {
    ...FeedPage_query @arguments(category: $category, first: $first)
  }
`;
