-- wrk script: the party list page (first page and filtered pages), signed in with a session cookie.
local cookie = os.getenv("COOKIE") or ""
local pages = {"/parties/", "/parties/?ordering=-updated", "/parties/?stage=use", "/parties/?ordering=-created"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", pages[(i % #pages) + 1], {["Cookie"] = cookie})
end
