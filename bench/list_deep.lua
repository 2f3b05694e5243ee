-- wrk script: list pages deep in the list (random cursors from var/bench-pages.txt), with a session cookie.
local cookie = os.getenv("COOKIE") or ""
local pages = {}
for line in io.lines(os.getenv("PAGES") or "var/bench-pages.txt") do pages[#pages + 1] = line end
math.randomseed(7)
request = function()
  return wrk.format("GET", pages[math.random(1, #pages)], {["Cookie"] = cookie})
end
