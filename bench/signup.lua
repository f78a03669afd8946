-- wrk script for bench/signup.py: POST /subscribe with a new address every request.
-- FORM_TOKEN: a form token from GET /; RUN: a prefix that keeps the addresses of each run distinct.
local token = os.getenv("FORM_TOKEN") or ""
local run = os.getenv("RUN") or "r"
local threads = 0
local counter = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function request()
  counter = counter + 1
  local body = "email=bench." .. run .. "." .. id .. "." .. counter .. "%40example.org&form_token=" .. token
  return wrk.format("POST", "/subscribe", {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d non2xx=%d socket_errors=%d p50_us=%d p90_us=%d p99_us=%d\n",
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
