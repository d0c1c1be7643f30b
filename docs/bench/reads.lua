-- wrk script: GETs of random placements, for timing point reads of the views.
--   wrk -t2 -c64 -d15s -s docs/bench/reads.lua http://127.0.0.1:8080 -- IDS_FILE API_KEY [PATH]
-- IDS_FILE holds one placement id per line (docs/bench/ids.py writes it);
-- PATH is the route with %s for the id (default /v1/placements/%s).
local ids = {}
local key, path

function init(args)
  local file = assert(io.open(args[1], "r"), "cannot open the ids file " .. tostring(args[1]))
  for line in file:lines() do
    if #line > 0 then ids[#ids + 1] = line end
  end
  file:close()
  assert(#ids > 0, "no placement ids in " .. args[1])
  key = args[2]
  path = args[3] or "/v1/placements/%s"
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  return wrk.format("GET", string.format(path, ids[math.random(#ids)]), { ["Authorization"] = "Bearer " .. key })
end

local statuses = {}
function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local other = 0
  for status, n in pairs(statuses) do
    if status ~= 200 then other = other + n end
  end
  io.write(string.format("reads/s %.0f  p50 %.2f ms  p99 %.2f ms  non-200 %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, other))
end
