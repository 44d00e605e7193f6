-- wrk script for scripts/bench_serve.py.
--
-- Every request carries the Cookie header in BENCH_COOKIES (five cookies) and,
-- when BENCH_VISITORS names a file of browsers (one a line: the cookies Cookie
-- Lab gave that browser on its first visits, its visitor id and CSRF cookie),
-- one of them, round robin, so the load spreads over many browsers.
-- Requests are built once per thread: request() only picks one and counts it.
-- done() prints one line, "BENCH_JSON {...}", that the bench parses: "sent"
-- is how many requests went out, "requests" how many were answered (wrk
-- stops with up to one request per connection unanswered).

local cookies = os.getenv("BENCH_COOKIES") or ""
local visitors_file = os.getenv("BENCH_VISITORS")
local threads = {}

function setup(thread)
  -- Each thread starts at its own place in the list.
  thread:set("offset", #threads)
  threads[#threads + 1] = thread
end

local requests = {}
local next_index = 0
sent = 0 -- global: done() reads each thread's count

function init(args)
  local ids = {}
  if visitors_file and visitors_file ~= "" then
    for line in io.lines(visitors_file) do
      if line ~= "" then
        ids[#ids + 1] = line
      end
    end
  end
  if #ids == 0 then
    requests[1] = wrk.format(nil, nil, { ["Cookie"] = cookies })
  else
    for i, own in ipairs(ids) do
      requests[i] = wrk.format(nil, nil, { ["Cookie"] = cookies .. "; " .. own })
    end
  end
  next_index = (offset or 0) * 7 % #requests
end

function request()
  sent = sent + 1
  next_index = next_index % #requests + 1
  return requests[next_index]
end

function done(summary, latency, requests)
  local total_sent = 0
  for _, thread in ipairs(threads) do
    total_sent = total_sent + thread:get("sent")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "sent": %d, "duration_us": %d, "connect": %d, "read": %d, '
      .. '"write": %d, "status": %d, "timeout": %d, "p50_us": %.0f, "p99_us": %.0f}\n',
    summary.requests, total_sent, summary.duration, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99)))
end
