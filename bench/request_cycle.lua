-- wrk script for bbbfleet's benchmark: cycle through pre-signed request paths and count the
-- responses that are not the expected one.  Nothing else is recorded: latency is wrk's own.
--
--   wrk ... -s request_cycle.lua URL -- PATHS_FILE STATUS WHERE NEEDLE
--
-- PATHS_FILE holds one request path (with its query) per line; STATUS is the expected HTTP
-- status; WHERE is "location" (the Location header) or "body"; NEEDLE is text that must occur
-- there ("" checks the status only).  done() prints one line "BENCH_RESULT {json}".

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   prepared = {}
   count = 0
   for line in io.lines(args[1]) do
      if line ~= "" then
         count = count + 1
         prepared[count] = wrk.format("GET", line)
      end
   end
   expected_status = tonumber(args[2])
   where = args[3]
   needle = args[4] or ""
   index = 0
   wraps = 0
   bad = 0
   first_bad = ""
end

function request()
   index = index + 1
   if index > count then
      index = 1
      wraps = wraps + 1
   end
   return prepared[index]
end

local function unexpected(status, text)
   bad = bad + 1
   if first_bad == "" then
      first_bad = tostring(status) .. " " .. string.sub(text or "", 1, 300)
   end
end

function response(status, headers, body)
   if status ~= expected_status then
      unexpected(status, body)
      return
   end
   if needle ~= "" then
      local haystack = body
      if where == "location" then
         haystack = headers["location"] or headers["Location"] or ""
      end
      if not string.find(haystack, needle, 1, true) then
         unexpected(status, haystack)
      end
   end
end

local function json_string(text)
   return '"' .. string.gsub(text, '[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
   end) .. '"'
end

function done(summary, latency, requests)
   local total_bad, total_wraps, sample, paths = 0, 0, "", 0
   for _, thread in ipairs(threads) do
      total_bad = total_bad + thread:get("bad")
      total_wraps = total_wraps + thread:get("wraps")
      paths = thread:get("count")
      if sample == "" then
         sample = thread:get("first_bad")
      end
   end
   local e = summary.errors
   io.write("BENCH_RESULT {")
   io.write(string.format('"requests": %d, "duration_us": %d, "bytes": %d, ',
      summary.requests, summary.duration, summary.bytes))
   io.write(string.format('"connect_errors": %d, "read_errors": %d, "write_errors": %d, ',
      e.connect, e.read, e.write))
   io.write(string.format('"status_errors": %d, "timeouts": %d, "unexpected": %d, ',
      e.status, e.timeout, total_bad))
   io.write(string.format('"wraps": %d, "paths": %d, "first_unexpected": %s, ',
      total_wraps, paths, json_string(sample)))
   io.write(string.format('"mean_us": %.1f, "max_us": %d, ',
      latency.mean, latency.max))
   io.write(string.format('"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d}\n',
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9)))
end
