-- Argo CD health of a Stepline PipelineSchedule (stepline.dev/v1alpha1): valid -> Healthy; an
-- invalid schedule, time zone or template -> Degraded (the message names the field); not yet
-- checked -> Progressing.
local hs = {}
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then
      local generation = obj.metadata.generation
      if generation ~= nil and c.observedGeneration ~= nil and c.observedGeneration < generation then
        break
      end
      if c.status == "True" then
        hs.status = "Healthy"
      elseif c.status == "False" then
        hs.status = "Degraded"
      else
        hs.status = "Progressing"
      end
      hs.message = c.message
      return hs
    end
  end
end
hs.status = "Progressing"
hs.message = "Waiting for the Stepline controller"
return hs
