-- wrk script: cycles through the requests listed in the file given after `--`,
-- one "METHOD PATH REPOSITORY" per line, with Basic auth (AUTH), none (AUTH =
-- "none") or a bearer token per repository (the `tokens` table prepended by bench/run).
local reqs = {}
local i = 0
local accept = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, " ..
  "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json"

init = function(args)
  for line in io.lines(args[1]) do
    local m, p, r = line:match("(%S+) (%S+) (%S+)")
    reqs[#reqs + 1] = { m, p, r }
  end
  i = math.random(#reqs)
end

request = function()
  i = i % #reqs + 1
  local r = reqs[i]
  local headers = { ["Accept"] = accept }
  if AUTH == nil then
    headers["Authorization"] = "Bearer " .. tokens[r[3]]
  elseif AUTH ~= "none" then
    headers["Authorization"] = AUTH
  end
  return wrk.format(r[1], r[2], headers)
end
