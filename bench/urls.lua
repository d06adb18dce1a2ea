-- wrk script: GET the request paths listed in a file (one per line), in order,
-- cycling. Each wrk thread starts at a different offset.
--
--   wrk -t1 -c32 -d10s -s bench/urls.lua http://127.0.0.1:PORT -- LIST_FILE
--
-- When the run ends it prints one machine-readable line:
--   WRK_RESULT requests=N duration_us=N bytes=N connect=N read=N write=N
--              status=N timeout=N p50_us=N p99_us=N
-- where `status` counts responses outside 2xx/3xx.

local counter = 0

function setup(thread)
  thread:set("thread_index", counter)
  counter = counter + 1
end

local paths = {}
local i = 0

function init(args)
  local file = args[1]
  if file == nil then
    error("usage: wrk ... -s urls.lua URL -- LIST_FILE")
  end
  local f = assert(io.open(file, "r"))
  for line in f:lines() do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  f:close()
  if #paths == 0 then
    error("no request paths in " .. file)
  end
  -- Spread the threads' starting points over the list.
  i = ((thread_index or 0) * 7919) % #paths
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d " ..
    "status=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
