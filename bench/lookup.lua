-- wrk script: caller lookup of a random seeded party, its number typed in national format.
-- PARTIES (env) is the number of seeded parties; TOKEN an API token (relay apitoken USERNAME).
local parties = tonumber(os.getenv("PARTIES") or "1000000")
local token = os.getenv("TOKEN") or ""
math.randomseed(42)
request = function()
  local n = 2 * math.random(1, parties)
  local national = string.format("212%07d", 2000000 + n)
  local typed = "(" .. national:sub(1, 3) .. ")%20" .. national:sub(4, 6) .. "-" .. national:sub(7)
  return wrk.format("GET", "/api/v1/parties/lookup/?phone=" .. typed, {["Authorization"] = "Bearer " .. token})
end
