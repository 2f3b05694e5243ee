-- wrk script: POST /api/v1/cases/ opening a case on a random seeded party; the subjects all match one
-- of the bench routing rules (bench/cases.py creates them), so each case is routed and round-robin
-- assigned. PARTIES (env): the highest party id; TOKEN: an API token of a bench agent.
local parties = tonumber(os.getenv("PARTIES") or "1000000")
local token = os.getenv("TOKEN") or ""
local subjects = {"Question about the bill", "No dial tone", "Fibre upgrade"}
math.randomseed(7)
wrk.method = "POST"
request = function()
  local body = string.format(
    '{"party": %d, "subject": "%s", "description": "Opened by bench/cases_create.lua", "channel": "phone"}',
    math.random(1, parties), subjects[math.random(1, #subjects)])
  return wrk.format("POST", "/api/v1/cases/", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end
