-- wrk script: GET <prefix>/<hash>.narinfo for a new random, well-formed
-- nix-base32 store hash on every request, so that no answer can come from a
-- cache of earlier lookups. The sequence is seeded, hence the same for every
-- server.
--
--   wrk -t1 -c32 -d10s -s bench/misses.lua http://127.0.0.1:PORT -- /bench SEED [warm-up]
--
-- Prints the same WRK_RESULT line as urls.lua.

local counter = 0

function setup(thread)
  thread:set("thread_index", counter)
  counter = counter + 1
end

local alphabet = "0123456789abcdfghijklmnpqrsvwxyz"
local chars = {}
local prefix = "/bench"

function init(args)
  prefix = args[1] or prefix
  -- A third argument (wrk's warm-up run) selects another sequence, so the
  -- measured run does not repeat the hashes the warm-up asked for.
  local seed = tonumber(args[2] or "1") * 2 + (args[3] and 1 or 0)
  math.randomseed(seed * 1000 + (thread_index or 0))
  for k = 1, 32 do
    chars[k] = alphabet:sub(k, k)
  end
end

local hash = {}

function request()
  for k = 1, 32 do
    hash[k] = chars[math.random(32)]
  end
  return wrk.format("GET", prefix .. "/" .. table.concat(hash) .. ".narinfo")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d " ..
    "status=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
