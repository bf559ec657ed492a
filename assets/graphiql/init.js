// Starts GraphiQL against this server's /graphql. Kept out of the page so that the
// Content-Security-Policy can forbid inline scripts.
(function () {
  var exampleQuery = [
    "# Welcome to blog-gateway. Press the run button (or Ctrl-Enter) to run this query.",
    "# Signed-in queries: add {\"Authorization\": \"Bearer <accessToken>\"} in the Headers tab below.",
    "query LatestPosts {",
    "  posts(first: 5) {",
    "    totalCount",
    "    nodes {",
    "      id",
    "      title",
    "      category",
    "      likeCount",
    "      commentCount",
    "      author { username fullName }",
    "    }",
    "    pageInfo { hasNextPage endCursor }",
    "  }",
    "}",
    ""
  ].join("\n");
  var fetcher = GraphiQL.createFetcher({ url: window.location.origin + "/graphql" });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: exampleQuery,
      defaultHeaders: "{\n  \"Authorization\": \"Bearer \"\n}",
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false
    })
  );
})();
