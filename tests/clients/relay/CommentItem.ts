// A comment as a Relay app renders it (compiled by relay-compiler in the client suite).
import { graphql } from "react-relay";

export const CommentItemFragment = graphql`
  fragment CommentItem_comment on Comment {
    id
    content
    createdAt
    author {
      username
      fullName
    }
  }
`;
