-- workload.lua - the request mix of one `make bench` run, for wrk (Debian's wrk 4, LuaJIT).
--
-- Environment:
--   BENCH_WORKLOAD  locate | search | write | mix (a baseline such as the hello-world gets locate)
--   BENCH_TOKEN     bearer token
--   BENCH_OBJECTS   keys bench/00000000 .. bench/<N-1> exist (locate, mix)
--   BENCH_DELAY_MS  mean pause (ms, fractional) before each request of a connection: an
--                   open-loop-ish rate for the latency-at-half-load run; unset = closed loop
--   BENCH_OUT       file the summary is written to (JSON, one object)
--   BENCH_SEED      random seed (default 1), so a run's key sequence is reproducible
--   BENCH_RUN       a name for this run, part of the keys the writes create
--
-- write: start an upload (PUT /v1/objects/bw/<run>/<thread>/<n>, 1024 bytes) and complete it
-- (POST /v1/uploads/<id>/complete); the id comes from the PUT's answer, and whichever
-- connection of the thread asks next sends the complete. A write is both requests; each is
-- one durable transaction. mix: each new operation is locate (70%), search (20%) or write
-- (10%); a write's complete is sent as the next request of the thread, ahead of new ones.
local workload = os.getenv("BENCH_WORKLOAD") or "locate"
local token = os.getenv("BENCH_TOKEN") or ""
local nobjects = tonumber(os.getenv("BENCH_OBJECTS") or "1000000")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
local out = os.getenv("BENCH_OUT")
local seed = tonumber(os.getenv("BENCH_SEED") or "1")
local run = os.getenv("BENCH_RUN") or "0" -- new keys per run: a write never replaces an earlier run's object
local debug = os.getenv("BENCH_DEBUG") -- print the first failed answers on stderr
local shown = 0

local threads = {}
local counter = 1

function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

local auth = {["Authorization"] = "Bearer " .. token}
local auth_json = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
local pending = {}   -- upload ids waiting for their complete
local npending = 0
local n = 0
-- counters read by done() through thread:get
ops_locate, ops_search, ops_start, ops_complete, bad = 0, 0, 0, 0, 0

function init(args)
    math.randomseed(seed * 7919 + (tid or 0))
end

local function locate()
    ops_locate = ops_locate + 1
    return wrk.format("GET", string.format("/v1/objects/bench/%08d", math.random(0, nobjects - 1)), auth)
end

local function search()
    ops_search = ops_search + 1
    return wrk.format("GET", string.format("/v1/objects?tag.shard=%d&tag.kind=%d&limit=20", math.random(0, 99),
        math.random(0, 6)), auth)
end

local function start_upload()
    n = n + 1
    ops_start = ops_start + 1
    return wrk.format("PUT", string.format("/v1/objects/bw/%s/%d/%d", run, tid or 0, n), auth_json,
        '{"size":1024,"content_type":"application/octet-stream","tags":{"kind":"w"}}')
end

local function complete()
    local id = pending[npending]
    pending[npending] = nil
    npending = npending - 1
    ops_complete = ops_complete + 1
    return wrk.format("POST", "/v1/uploads/" .. id .. "/complete", auth)
end

if workload == "locate" then
    request = locate
elseif workload == "search" then
    request = search
elseif workload == "write" then
    request = function()
        if npending > 0 then return complete() end
        return start_upload()
    end
elseif workload == "mix" then
    request = function()
        if npending > 0 then return complete() end
        local r = math.random()
        if r < 0.7 then return locate() end
        if r < 0.9 then return search() end
        return start_upload()
    end
else
    error("unknown BENCH_WORKLOAD " .. workload)
end

if workload == "write" or workload == "mix" then
    response = function(status, headers, body)
        if status == 201 then
            local id = string.match(body, '"upload_id":"([^"]+)"')
            if id then
                npending = npending + 1
                pending[npending] = id
            else
                bad = bad + 1
            end
        elseif status >= 300 then
            bad = bad + 1
        end
        if debug and status >= 300 and shown < 5 then
            shown = shown + 1
            io.stderr:write(status .. " " .. body .. "\n")
        end
    end
end

if delay_ms then
    -- wrk takes whole milliseconds: alternate floor and ceil so the mean is delay_ms
    local lo = math.floor(delay_ms)
    local frac = delay_ms - lo
    delay = function()
        if math.random() < frac then return lo + 1 end
        return lo
    end
end

function done(summary, latency, requests)
    local t = {locate = 0, search = 0, start = 0, complete = 0, bad = 0}
    for _, th in ipairs(threads) do
        t.locate = t.locate + (th:get("ops_locate") or 0)
        t.search = t.search + (th:get("ops_search") or 0)
        t.start = t.start + (th:get("ops_start") or 0)
        t.complete = t.complete + (th:get("ops_complete") or 0)
        t.bad = t.bad + (th:get("bad") or 0)
    end
    local e = summary.errors
    local s = string.format(
        '{"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"bad":%d},' ..
        '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f},' ..
        '"ops":{"locate":%d,"search":%d,"start":%d,"complete":%d}}\n',
        summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout, t.bad,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max,
        latency.mean, t.locate, t.search, t.start, t.complete)
    if out then
        local f = io.open(out, "w")
        f:write(s)
        f:close()
    else
        io.write(s)
    end
end
