// A post's comments as a Relay connection: page size and cursor as fragment arguments (nullable,
// with a default, as Relay requires), and live comments appended to the connection.
import { graphql } from "react-relay";

export const PostCommentsFragment = graphql`
  fragment PostComments_post on Post
  @argumentDefinitions(first: { type: "Int", defaultValue: 10 }, after: { type: "String" }) {
    id
    commentCount
    comments(first: $first, after: $after) @connection(key: "PostComments_comments") {
      __id
      edges {
        node {
          id
          ...CommentItem_comment
        }
      }
    }
  }
`;

export const PostCommentsSubscription = graphql`
  subscription PostCommentsSubscription($postId: ID!, $connections: [ID!]!) {
    commentAdded(postId: $postId) @appendNode(connections: $connections, edgeTypeName: "CommentEdge") {
      id
      ...CommentItem_comment
    }
  }
`;
