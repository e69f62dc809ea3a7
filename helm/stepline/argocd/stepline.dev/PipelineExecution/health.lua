-- Argo CD health of a Stepline PipelineExecution (stepline.dev/v1alpha1).
-- Succeeded -> Healthy; running -> Progressing; waiting for an approval -> Suspended;
-- failed, stopped or invalid -> Degraded. Reads the Succeeded condition, which the controller
-- keeps for the execution's current generation.
local hs = {}
local function condition(kind)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end
local function describe(c)
  if c.message ~= nil and c.message ~= "" then
    return c.reason .. ": " .. c.message
  end
  return c.reason
end

local c = condition("Succeeded")
if c == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Stepline controller"
  return hs
end
local generation = obj.metadata.generation
if generation ~= nil and c.observedGeneration ~= nil and c.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Stepline controller to observe generation " .. generation
  return hs
end
if c.status == "True" then
  hs.status = "Healthy"
elseif c.status == "False" then
  hs.status = "Degraded"
elseif c.reason == "WaitingForApproval" then
  hs.status = "Suspended"
else
  hs.status = "Progressing"
end
hs.message = describe(c)
return hs
