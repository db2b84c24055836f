-- wrk script: one made-up request per POST, as JSON (default) or as the web form
-- (BENCH_FORM=1). Names come from the same pools as `case-triage demo-data`, so on a
-- loaded database duplicate matching finds candidates and scores them.
local form = os.getenv("BENCH_FORM") == "1"
local given = { "Ahmad", "Mohammad", "Abdul", "Farid", "Hamid", "Nasrin", "Zahra", "Fatima",
  "Mariam", "Sayed", "Habib", "Rahim", "Karim", "Shabnam", "Laila", "Wahid", "Jawad", "Sadia" }
local family = { "Karimi", "Ahmadzai", "Rahimi", "Hakimi", "Noori", "Sultani", "Popal", "Wardak",
  "Stanikzai", "Safi", "Hashimi", "Amiri", "Mohammadi", "Jalali", "Qaderi", "Barakzai" }
local places = { "afghanistan", "border", "pakistan", "elsewhere" }

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + (id or 0))
  if form then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  else
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
  end
end

local function pick(t) return t[math.random(#t)] end

function request()
  local name = pick(given) .. " " .. pick(family)
  local dob = string.format("%d-%02d-%02d", math.random(1950, 2007), math.random(1, 12), math.random(1, 28))
  local phone = string.format("+93 7%02d %03d %03d", math.random(0, 99), math.random(0, 999), math.random(0, 999))
  local place = pick(places)
  local size = math.random(1, 11)
  local body
  if form then
    body = "submitter_kind=self&applicant_full_name=" .. name:gsub(" ", "+") ..
      "&applicant_date_of_birth=" .. dob .. "&applicant_phone=" .. phone:gsub("%+", "%%2B"):gsub(" ", "+") ..
      "&applicant_location=" .. place .. "&applicant_household_size=" .. size ..
      "&siv_status=none&referral_program=none&us_tie=none" ..
      "&description=We+need+to+know+what+to+do+next.&consent=yes"
  else
    body = '{"submitter":{"kind":"self"},"applicant":{"full_name":"' .. name ..
      '","date_of_birth":"' .. dob .. '","phone":"' .. phone .. '","location":"' .. place ..
      '","household_size":' .. size .. '},"siv":{"status":"none"},"referral":{"program":"none"},' ..
      '"claimed_programs":[],"us_tie":"none","urgent":{"danger":false,"medical":false},' ..
      '"description":"We need to know what to do next.","consent":true}'
  end
  return wrk.format(nil, nil, nil, body)
end

local bad = 0
function response(status, headers, body)
  if status ~= 201 and status ~= 303 then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("unexpected status " .. status .. "\n") end
  end
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT rps=%.1f p50=%.2f p99=%.2f requests=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests, errors))
end
