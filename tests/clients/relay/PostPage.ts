// A post's page: the post and the first comments, through PostComments_post.
import { graphql } from "react-relay";

export const PostPageQuery = graphql`
  query PostPageQuery($id: ID!, $comments: Int) {
    post(id: $id) {
      id
      title
      content
      likeCount
      viewerHasLiked
      author {
        username
        fullName
      }
      ...PostComments_post @arguments(first: $comments)
    }
  }
`;

export const PostPageLikeMutation = graphql`
  mutation PostPageLikeMutation($id: ID!) {
    likePost(id: $id) {
      id
      likeCount
      viewerHasLiked
    }
  }
`;
