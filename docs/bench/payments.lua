-- wrk script: durable payments of 0.01 to random placements.
--   wrk -t2 -c64 -d20s -s docs/bench/payments.lua http://127.0.0.1:8080 -- IDS_FILE API_KEY
-- IDS_FILE holds one placement id per line (docs/bench/ids.py writes it).
local ids = {}
local key

function init(args)
  local file = assert(io.open(args[1], "r"), "cannot open the ids file " .. tostring(args[1]))
  for line in file:lines() do
    if #line > 0 then ids[#ids + 1] = line end
  end
  file:close()
  assert(#ids > 0, "no placement ids in " .. args[1])
  key = args[2]
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  local id = ids[math.random(#ids)]
  return wrk.format("POST", "/v1/placements/" .. id .. "/payment-received", {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json",
  }, '{"amount": "0.01"}')
end

local statuses = {}
function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("payments/s %.0f  p50 %.2f ms  p99 %.2f ms  errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
