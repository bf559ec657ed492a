-- Mixed read/write load for scripts/soak.sh: feed, nested and detail queries, the REST list and
-- detail, and writes that keep the data the same size (like/unlike, views, profile updates; a
-- soak that adds comments would grow every detail answer) with one user's token. A body with GraphQL "errors" or a legacy
-- "success":false counts as an error, as does any non-2xx answer.
local token = os.getenv("SOAK_TOKEN")
local posts = {}
for id in string.gmatch(os.getenv("SOAK_POSTS"), "[^,]+") do posts[#posts + 1] = id end
-- Writes and detail reads spread over many posts, so that no answer grows without bound.
local n = 0
body_errors = 0

-- done() runs in wrk's main Lua state: it reads each thread's counter through its handle.
local threads = {}
setup = function(thread)
  threads[#threads + 1] = thread
end

local function build(id)
  return {
    { "POST", "/graphql", '{"query":"{ posts(first: 20) { nodes { id title likeCount commentCount author { username } } } }"}' },
    { "POST", "/graphql", '{"query":"{ posts(first: 10) { nodes { id comments(first: 5) { nodes { id author { username } } } } } }"}' },
    { "POST", "/graphql", '{"query":"query($id: ID!) { post(id: $id) { title comments(first: 20) { nodes { content } } } }","variables":{"id":"' .. id .. '"}}' },
    { "GET", "/api/posts?limit=10", nil },
    { "GET", "/api/posts/" .. id, nil },
    { "POST", "/graphql", '{"query":"mutation($id: ID!) { likePost(id: $id) { likeCount } }","variables":{"id":"' .. id .. '"}}', true },
    { "POST", "/graphql", '{"query":"mutation($id: ID!) { unlikePost(id: $id) { likeCount } }","variables":{"id":"' .. id .. '"}}', true },
    { "POST", "/graphql", '{"query":"mutation($id: ID!) { viewPost(id: $id) { views } }","variables":{"id":"' .. id .. '"}}', true },
    { "POST", "/graphql", '{"query":"mutation { updateProfile(input: { bio: \\"soaking\\" }) { id } }"}', true },
  }
end

request = function()
  n = n + 1
  local list = build(posts[(n % #posts) + 1])
  local r = list[(n % #list) + 1]
  local headers = { ["Content-Type"] = "application/json" }
  if r[4] then headers["Authorization"] = "Bearer " .. token end
  return wrk.format(r[1], r[2], headers, r[3])
end

response = function(status, headers, body)
  if status >= 200 and status < 300 and (string.find(body, '"errors"', 1, true) or string.find(body, '"success":false', 1, true)) then
    body_errors = body_errors + 1
  end
end

done = function(summary, latency, requests)
  local body_errors = 0
  for _, thread in ipairs(threads) do
    body_errors = body_errors + thread:get("body_errors")
  end
  io.write(string.format("requests %d, non-2xx %d, socket errors %d, body errors %d, p50 %.2f ms, p99 %.2f ms\n",
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    body_errors, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
