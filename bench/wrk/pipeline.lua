-- pipeline.lua — makes wrk pipeline: each write carries AVANT_PIPELINE requests (default 16) for
-- the URL's path, and wrk counts every answer. `bench/run http` uses it for the pipelined cases.
local depth = tonumber(os.getenv("AVANT_PIPELINE") or "16")

init = function(args)
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format(nil, wrk.path)
  end
  pipelined = table.concat(requests)
end

request = function()
  return pipelined
end
