// The planner's part of step caching (step_cache.h): a cached step that has no Job yet is
// decided from the namespace's index; one whose Job succeeds is recorded for the index.
#include "reconcilers/artifact_repository.h"
#include "reconcilers/planner_internal.h"
#include "reconcilers/step_cache.h"

namespace stepline::reconcilers::planner_internal {
namespace {

// What an input artifact's from names, "" when the upstream has none (yet): the URI of an
// artifact, or for a value, the value kept in the status, or the ConfigMaps storing it (named
// after the execution: a stored fan-in never matches another run's).
std::string UpstreamSource(const std::string& from, const PlanContext& ctx) {
  k8s::Result<ArtifactSource> source = ParseArtifactFrom(from);
  if (!source.ok()) return "";
  const StepValues* v = ctx.Step(source->step);
  if (v == nullptr) return "";
  const bool output = source->kind == ArtifactSource::Kind::kOutputValue;
  const auto& values = output ? v->outputs : v->artifacts;
  auto it = values.find(source->name);
  if (!source->IsValue()) return it == values.end() ? "" : it->second;
  if (it != values.end()) return "value " + it->second;
  const auto& stored = output ? v->stored_outputs : v->stored_artifacts;
  auto at = stored.find(source->name);
  if (at == stored.end()) return "";
  std::string out = "stored " + std::to_string(at->second.items);
  for (const std::string& cm : at->second.config_maps) out += " " + cm;
  return out;
}

// The step's key in this execution; nullopt when its templates cannot be rendered (it then
// fails as TemplateError when its Job would be built).
std::optional<std::string> CacheKeyOf(const Step& step, const PlanContext& ctx) {
  k8s::Result<Step> rendered = RenderStep(step, ctx);
  if (!rendered.ok()) return std::nullopt;
  StepCacheKeyInput in;
  in.pipeline = ctx.snapshot().pipeline;
  in.step = &*rendered;
  for (const auto& param : ctx.snapshot().parameters)
    in.parameters.emplace_back(param.name, param.value);
  for (const auto& dep : step.depends_on) {
    if (const StepValues* v = ctx.Step(dep); v != nullptr) in.dependencies[dep] = *v;
  }
  for (const Artifact& a : rendered->input_artifacts) {
    in.input_uris[a.name] = a.from.empty() ? a.s3 : UpstreamSource(a.from, ctx);
  }
  return StepCacheKey(in);
}

std::optional<std::chrono::seconds> MaxAge(const Step& step) {
  if (!step.cache || step.cache->expire_after.empty()) return std::nullopt;
  k8s::Result<std::chrono::seconds> d = ParseIsoDuration(step.cache->expire_after);
  if (!d.ok()) return std::nullopt;  // validation refuses it; unreadable: no expiry
  return *d;
}

void UseEntry(StepPlan& sp, const StepCacheEntry& e, k8s::WallTime now) {
  sp.gated = true;
  StepStatus& s = sp.status;
  s.phase = StepPhase::kSucceeded;
  s.reason.clear();
  s.message = "cached: the result of execution \"" + e.execution + "\" (step \"" + e.step +
              "\", attempt " + std::to_string(e.attempt) + ", finished " +
              k8s::FormatRfc3339(e.finished) + ")";
  s.outputs = e.outputs;
  s.artifacts = e.artifacts;
  s.completion_time = now;
  s.extra[kCachedFromField] = {
      {"execution", e.execution}, {"step", e.step}, {"attempt", e.attempt}, {"key", e.key}};
}

}  // namespace

bool DecideFromStepCache(StepPlan& sp, const StepJobs& jobs, const PlanContext& ctx,
                         const PlanInputs& in) {
  if (!StepCached(*sp.step) || jobs.count(-1) != 0) return false;
  std::optional<std::string> key = CacheKeyOf(*sp.step, ctx);
  if (!key) return false;
  if (in.step_cache == nullptr) {
    sp.decided.step_cache_needed = true;
    sp.gated = true;
    sp.status.phase = StepPhase::kPending;
    sp.status.message = "looking up the step cache";
    return true;
  }
  const StepCacheEntry* e = FindUsableEntry(*in.step_cache, *key, in.now, MaxAge(*sp.step));
  if (e == nullptr) return false;
  UseEntry(sp, *e, in.now);
  return true;
}

std::optional<StepCacheEntry> StepCacheWrite(const StepPlan& sp, const PlanContext& ctx,
                                             const PlanInputs& in) {
  if (!StepCached(*sp.step) || sp.gated || sp.units.size() != 1) return std::nullopt;
  if (sp.status.phase != StepPhase::kSucceeded || sp.units.front().attempts == 0) {
    return std::nullopt;
  }
  // Written by the plan that saw it succeed.
  if (sp.old != nullptr && sp.old->phase == StepPhase::kSucceeded) return std::nullopt;
  std::optional<std::string> key = CacheKeyOf(*sp.step, ctx);
  if (!key) return std::nullopt;
  StepCacheEntry e;
  e.key = *key;
  e.pipeline = ctx.snapshot().pipeline;
  e.execution = in.execution->metadata.name;
  e.step = sp.step->name;
  e.attempt = sp.units.front().attempts;
  e.finished = sp.status.completion_time.value_or(in.now);
  if (std::optional<std::chrono::seconds> age = MaxAge(*sp.step)) e.expires = e.finished + *age;
  e.outputs = sp.status.outputs;
  e.artifacts = sp.status.artifacts;
  return e;
}

}  // namespace stepline::reconcilers::planner_internal
