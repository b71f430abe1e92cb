-- Shared by the wrk scripts of `make load`: counts answers by status per thread and prints one
-- RESULT line (requests, requests/s, p50 / p99 latency, answers with the expected status, others,
-- socket errors). EXPECT is the status a request should get.
statuses = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  statuses = {}
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local ok, other = 0, 0
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do
      if code == EXPECT then ok = ok + n else other = other + n end
    end
  end
  io.write(string.format("RESULT requests=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f ok=%d non200=%d socket_errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, ok, other,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
