-- Mixed read/write load for scripts/soak.sh: feed, nested and detail queries, the REST list and
-- detail, and comment/like writes with one user's token. A body with GraphQL "errors" or a legacy
-- "success":false counts as an error, as does any non-2xx answer.
local token = os.getenv("SOAK_TOKEN")
local post = os.getenv("SOAK_POST")
local requests = {
  { "POST", "/graphql", '{"query":"{ posts(first: 20) { nodes { id title likeCount commentCount author { username } } } }"}' },
  { "POST", "/graphql", '{"query":"{ posts(first: 10) { nodes { id comments(first: 5) { nodes { id author { username } } } } } }"}' },
  { "POST", "/graphql", '{"query":"query($id: ID!) { post(id: $id) { title comments(first: 20) { nodes { content } } } }","variables":{"id":"' .. post .. '"}}' },
  { "GET", "/api/posts?limit=10", nil },
  { "GET", "/api/posts/" .. post, nil },
  { "POST", "/graphql", '{"query":"mutation($id: ID!) { addComment(postId: $id, content: \\"soak\\") { id } }","variables":{"id":"' .. post .. '"}}', true },
  { "POST", "/graphql", '{"query":"mutation($id: ID!) { likePost(id: $id) { likeCount } }","variables":{"id":"' .. post .. '"}}', true },
}
local n = 0
local body_errors = 0

request = function()
  n = n + 1
  local r = requests[(n % #requests) + 1]
  local headers = { ["Content-Type"] = "application/json" }
  if r[4] then headers["Authorization"] = "Bearer " .. token end
  return wrk.format(r[1], r[3] and r[2] or r[2], headers, r[3])
end

response = function(status, headers, body)
  if status >= 200 and status < 300 and (string.find(body, '"errors"', 1, true) or string.find(body, '"success":false', 1, true)) then
    body_errors = body_errors + 1
  end
end

done = function(summary, latency, requests)
  io.write(string.format("requests %d, non-2xx %d, socket errors %d, body errors %d, p50 %.2f ms, p99 %.2f ms\n",
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    body_errors, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
