-- wrk script of bench/run.sh: one fixed request (the URL given to wrk), answers checked by
-- wrk-common.lua.
-- Env: REQ_METHOD (GET)  BODY_FILE (optional JSON body; sent with Content-Type: application/json)
--      ERR_FILE (see wrk-common.lua)
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "wrk-common.lua")

wrk.method = os.getenv("REQ_METHOD") or "GET"
local body_file = os.getenv("BODY_FILE")
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end
