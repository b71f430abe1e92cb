-- wrk script: each request is a 10-event batch of one customer, with fresh message ids, spread
-- over many customers (thread × 500). Counts answers by status; `done` prints the figures.
local counter = 0
local thread_id = 0
local key = os.getenv("LOAD_KEY") or "pk_demo_4f9c2a7d1e"
local run = os.getenv("LOAD_RUN") or tostring(os.time())
statuses = {}
local threads = {}

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

local names = { "Product Viewed", "Product Viewed", "Product Added", "Product Viewed", "Products Searched" }

request = function()
  counter = counter + 1
  local customer = string.format("load-%s-%d-%d", run, tid, counter % 500)
  local events = {}
  for i = 1, 10 do
    local name = names[(i % #names) + 1]
    local props
    if name == "Products Searched" then
      props = '{"query":"tent"}'
    else
      props = string.format('{"product_id":"p%04d","category":"Tents","price":99}', (counter + i) % 240 + 1)
    end
    events[i] = string.format(
      '{"type":"track","event":"%s","anonymousId":"%s","messageId":"%s-%d-%d-%d","timestamp":"2026-11-30T10:%02d:%02dZ","properties":%s}',
      name, customer, run, tid, counter, i, i, counter % 60, props)
  end
  local body = string.format('{"writeKey":"%s","batch":[%s]}', key, table.concat(events, ","))
  return wrk.format("POST", "/v1/batch", { ["Content-Type"] = "text/plain" }, body)
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local ok, other = 0, 0
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for code, n in pairs(s) do
      if code == 200 then ok = ok + n else other = other + n end
    end
  end
  io.write(string.format("RESULT requests=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f ok=%d non200=%d socket_errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, ok, other,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
