-- Shared part of the wrk scripts of bench/run.sh (loaded with dofile by the others).
--
-- Counts as a "body error" every answer whose body says the request failed although wrk
-- may not see it: a legacy REST body with "success":false, or a GraphQL body with an
-- "errors" key (field errors answer HTTP 200). wrk itself counts non-2xx answers and socket
-- errors. The first failing answer of each thread (any status) is written to ERR_FILE
-- (suffixed with the thread number) so that the cause can be read after the run.
--
-- Env: ERR_FILE  path prefix for the saved failing answers (default: none saved)

local err_prefix = os.getenv("ERR_FILE")
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
  table.insert(threads, thread)
end

body_errors = 0
local saved = false

local function save(status, body)
  if saved or not err_prefix then
    return
  end
  saved = true
  local f = io.open(err_prefix .. "." .. tostring(thread_id or 0) .. ".txt", "wb")
  if f then
    f:write("HTTP ", tostring(status), "\n", body or "", "\n")
    f:close()
  end
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    save(status, body)
    return
  end
  if body and (string.find(body, '"success":false', 1, true) or string.find(body, '"errors":', 1, true)) then
    body_errors = body_errors + 1
    save(status, body)
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do
    n = n + (t:get("body_errors") or 0)
  end
  io.write(string.format("body_errors: %d\n", n))
end

-- Reads a file that ends in "return {...}" (written by bench/prepare.py).
function load_table(env_name)
  local path = assert(os.getenv(env_name), env_name .. " is not set")
  local t = assert(dofile(path))
  assert(#t > 0, path .. " is empty")
  return t
end
