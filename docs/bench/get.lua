-- wrk script: GETs with a creditor's key, for timing reads.
--   wrk -t1 -c1 -d10s --latency -s docs/bench/get.lua 'http://127.0.0.1:8080/v1/transactions' -- API_KEY
local key
function init(args) key = args[1] end
function request()
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. key })
end
