// A post's comments paged both ways, as Relay's usePaginationFragment does with loadNext and
// loadPrevious: the fragment is @refetchable, so relay-compiler writes the query that refetches
// it through node(id:), and its connection takes first/after and last/before.
import { graphql } from "react-relay";

export const PostThreadFragment = graphql`
  fragment PostThread_post on Post
  @refetchable(queryName: "PostThreadPaginationQuery")
  @argumentDefinitions(
    first: { type: "Int", defaultValue: 3 }
    after: { type: "String" }
    last: { type: "Int" }
    before: { type: "String" }
  ) {
    title
    comments(first: $first, after: $after, last: $last, before: $before)
      @connection(key: "PostThread_comments") {
      edges {
        node {
          id
          createdAt
        }
      }
    }
  }
`;

export const UserCardFragment = graphql`
  fragment UserCard_user on User @refetchable(queryName: "UserCardRefetchQuery") {
    username
    postCount
  }
`;
