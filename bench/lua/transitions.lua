-- transitions: each connection drives a ticket of its own through the action
-- table's cycle (start, resolve by the technician; reopen, assign by the
-- supervisor), or, with LB_CONTENDED=1, every connection acts on the same few
-- tickets (409 answers expected there).
-- env: LB_TICKETS (comma list of ticket ids, all `assigned` to the technician
-- at the start), LB_TECH_TOKEN, LB_SUP_TOKEN, LB_TECH_ID, LB_CONTENDED.
-- Loads the kit's common.lua (LB_LUA_DIR) for the counting and the result line.
METHOD = "POST"
PATH = "/api/tickets/0/start/"
HEADERS = {}
BODY = nil
dofile(os.getenv("LB_LUA_DIR") .. "/common.lua")

local NEXT = {assigned = "start", in_progress = "resolve", resolved = "reopen"}
-- reopen brings the ticket back to `assigned` (same technician); the cycle then
-- assigns it again before starting, so every action of the table's main path runs.
local BODIES = {
  start = nil,
  resolve = '{"resolution": "Replaced the part and tested."}',
  reopen = '{"reason": "It failed again."}',
}

function thread_setup(thread, k)
  local ids, mine, n = {}, {}, 0
  for id in string.gmatch(os.getenv("LB_TICKETS"), "%d+") do table.insert(ids, id) end
  local threads = tonumber(os.getenv("LB_WRK_THREADS"))
  for i, id in ipairs(ids) do
    if os.getenv("LB_CONTENDED") == "1" or (i - 1) % threads == k - 1 then
      n = n + 1
      mine[n] = id
    end
  end
  thread:set("ticket_list", table.concat(mine, ","))
end

function thread_init()
  idle, state, reassign = {}, {}, {}
  contended = os.getenv("LB_CONTENDED") == "1"
  for id in string.gmatch(ticket_list, "%d+") do
    table.insert(idle, id)
    state[id] = "assigned"
  end
  tech = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("LB_TECH_TOKEN")}
  sup = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("LB_SUP_TOKEN")}
  assign_body = '{"assignee_id": ' .. os.getenv("LB_TECH_ID") .. '}'
  cursor = 0
end

local CYCLE = {"start", "resolve", "reopen", "assign"}

function next_request()
  local id, action
  if contended then
    -- the same few tickets for every connection, the actions in turn: whoever
    -- comes second to a status gets 409
    cursor = cursor + 1
    id = idle[cursor % #idle + 1]
    action = CYCLE[cursor % #CYCLE + 1]
  else
    -- (a ticket whose answer was an error is lost to the run: its connection
    -- takes over the first ticket, and may meet a 409 there)
    id = table.remove(idle, 1) or string.match(ticket_list, "%d+")
    action = reassign[id] and "assign" or NEXT[state[id]] or "start"
  end
  local headers = (action == "start" or action == "resolve") and tech or sup
  local body = action == "assign" and assign_body or BODIES[action]
  return wrk.format("POST", "/api/tickets/" .. id .. "/" .. action .. "/", headers, body)
end

function on_response(status, body)
  -- The ticket's own id sits just before "kind" in the answer (keys sorted).
  local id = string.match(body or "", '"id":(%d+),"kind"')
  local new_status = string.match(body or "", '"status":"([%a_]+)"')
  if not contended and id and new_status and state[id] then
    reassign[id] = (new_status == "assigned" and state[id] == "resolved")
    state[id] = new_status
    table.insert(idle, id)
  end
end
