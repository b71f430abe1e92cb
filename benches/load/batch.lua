-- wrk script: each request is a 10-event batch of one customer, with fresh message ids, spread
-- over many customers (per thread: LOAD_CUSTOMERS, default 500). Counts answers by status.
local counter = 0
CUSTOMERS = tonumber(os.getenv("LOAD_CUSTOMERS") or "500")
local key = os.getenv("LOAD_KEY") or "pk_demo_4f9c2a7d1e"
local run = os.getenv("LOAD_RUN") or tostring(os.time())
EXPECT = 200
dofile((os.getenv("LOAD_DIR") or ".") .. "/report.lua")

local names = { "Product Viewed", "Product Viewed", "Product Added", "Product Viewed", "Products Searched" }

request = function()
  counter = counter + 1
  local customer = string.format("load-%s-%d-%d", run, tid, counter % CUSTOMERS)
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
      '{"type":"track","event":"%s","anonymousId":"%s","messageId":"%s-%d-%d-%d","timestamp":"%s","properties":%s}',
      name, customer, run, tid, counter, i, os.date("!%Y-%m-%dT%H:%M:%SZ"), props)
  end
  local body = string.format('{"writeKey":"%s","batch":[%s]}', key, table.concat(events, ","))
  return wrk.format("POST", "/v1/batch", { ["Content-Type"] = "text/plain" }, body)
end
