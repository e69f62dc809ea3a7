#include "reconcilers/watches.h"

#include <initializer_list>
#include <string_view>

#include "controller/handlers.h"
#include "k8sclient/job_state.h"
#include "reconcilers/artifact_repository.h"
#include "reconcilers/cache_trim.h"
#include "reconcilers/instance_types_config.h"
#include "reconcilers/labels.h"
#include "reconcilers/sagemaker_instances.h"

namespace stepline::reconcilers {

namespace {

std::string StringAt(const k8s::Object& obj, const char* a, const char* b) {
  auto outer = obj.find(a);
  if (outer == obj.end() || !outer->is_object()) return {};
  auto inner = outer->find(b);
  return inner != outer->end() && inner->is_string() ? inner->get<std::string>() : std::string();
}

}  // namespace

std::optional<std::string> ExecutionLabelKey(const k8s::Object& pod) {
  auto meta = pod.find("metadata");
  if (meta == pod.end() || !meta->is_object()) return std::nullopt;
  const std::string value = StringAt(*meta, "labels", kLabelExecution);
  if (value.empty()) return std::nullopt;
  return k8s::NamespaceOf(pod) + "/" + value;
}

void IndexByInvolvedObject(k8s::Object& event) {
  auto involved = event.find("involvedObject");
  if (involved == event.end() || !involved->is_object()) return;
  const std::string uid = involved->value("uid", "");
  if (uid.empty()) return;
  event["metadata"]["ownerReferences"] = k8s::Object::array({{
      {"apiVersion", involved->value("apiVersion", "")},
      {"kind", involved->value("kind", "")},
      {"name", involved->value("name", "")},
      {"uid", uid},
  }});
}

std::optional<std::string> JobEventExecutionKey(const k8s::Object& event,
                                                const k8s::CacheReader& jobs) {
  if (StringAt(event, "involvedObject", "kind") != "Job") return std::nullopt;
  const std::string ns = StringAt(event, "involvedObject", "namespace");
  k8s::ObjectPtr job = jobs.Get(ns.empty() ? k8s::NamespaceOf(event) : ns,
                                StringAt(event, "involvedObject", "name"));
  if (!job) return std::nullopt;
  return controller::ControllerOwnerKey(*job, k8s::resources::kPipelineExecutions);
}

std::vector<std::string> ExecutionsReferencing(const k8s::Object& pipeline,
                                               const k8s::CacheReader& executions) {
  const std::string& name = k8s::NameOf(pipeline);
  const std::string alias = StringAt(pipeline, "spec", "pipelineName");
  std::vector<std::string> keys;
  for (const k8s::ObjectPtr& exec : executions.List(k8s::NamespaceOf(pipeline))) {
    const std::string ref = StringAt(*exec, "spec", "pipelineName");
    if (!ref.empty() && (ref == name || ref == alias)) keys.push_back(k8s::KeyOf(*exec));
  }
  return keys;
}

namespace {

const k8s::Object& At(const k8s::Object& o, const char* a, const char* b = nullptr) {
  static const k8s::Object kNone;
  if (!o.is_object()) return kNone;
  auto outer = o.find(a);
  if (outer == o.end()) return kNone;
  if (b == nullptr) return *outer;
  if (!outer->is_object()) return kNone;
  auto inner = outer->find(b);
  return inner == outer->end() ? kNone : *inner;
}

void CopyMetadata(const k8s::Object& obj, k8s::Object* facts) {
  for (const char* field : {"labels", "annotations", "ownerReferences", "deletionTimestamp"}) {
    const k8s::Object& v = At(obj, "metadata", field);
    if (!v.is_null()) (*facts)["metadata"][field] = v;
  }
}

}  // namespace

k8s::Object JobFacts(const k8s::Object& job) {
  k8s::Object facts = k8s::Object::object();
  CopyMetadata(job, &facts);
  if (!At(job, "spec").is_null()) facts["spec"] = At(job, "spec");
  const k8s::Object& done = At(job, "status", "completionTime");
  if (!done.is_null()) facts["completionTime"] = done;
  const k8s::Object& conditions = At(job, "status", "conditions");
  if (!conditions.is_array()) return facts;
  for (const k8s::Object& c : conditions) {
    const std::string type = c.is_object() ? c.value("type", "") : "";
    if (k8s::IsJobOutcomeCondition(type)) {
      facts["conditions"].push_back(c);
    }
  }
  return facts;
}

k8s::Object PodFacts(const k8s::Object& pod) {
  k8s::Object facts = k8s::Object::object();
  CopyMetadata(pod, &facts);
  const k8s::Object& phase = At(pod, "status", "phase");
  if (!phase.is_null() && phase != "Pending") facts["phase"] = phase;
  for (const char* field : {"reason", "message"}) {
    const k8s::Object& v = At(pod, "status", field);
    if (!v.is_null()) facts[field] = v;
  }
  const k8s::Object& conditions = At(pod, "status", "conditions");
  for (const k8s::Object& c : conditions.is_array() ? conditions : k8s::Object::array()) {
    if (!c.is_object()) continue;
    if (c.value("status", "") != "True" || c.value("type", "") == "DisruptionTarget") {
      facts["conditions"].push_back(c);
    }
  }
  const k8s::Object& containers = At(pod, "status", "containerStatuses");
  for (const k8s::Object& c : containers.is_array() ? containers : k8s::Object::array()) {
    facts["containers"].push_back(At(c, "state"));
  }
  return facts;
}

namespace {

// PodFacts without what only says the pod is starting or running: phase Running, running
// containers, containers waiting to be created, and the conditions that are merely not True
// yet (Initialized, ContainersReady, Ready). What remains is what an attempt is judged by.
k8s::Object JudgedPodFacts(k8s::Object facts) {
  auto phase = facts.find("phase");
  if (phase != facts.end() && *phase == "Running") facts.erase(phase);
  auto conditions = facts.find("conditions");
  if (conditions != facts.end()) {
    k8s::Object kept = k8s::Object::array();
    for (const k8s::Object& c : *conditions) {
      const std::string type = c.value("type", "");
      if (type == "PodScheduled" || type == "DisruptionTarget") kept.push_back(c);
    }
    if (kept.empty()) {
      facts.erase(conditions);
    } else {
      *conditions = std::move(kept);
    }
  }
  auto containers = facts.find("containers");
  if (containers != facts.end()) {
    k8s::Object judged = k8s::Object::array();
    for (k8s::Object& state : *containers) {
      if (state.is_object()) {
        state.erase("running");
        auto waiting = state.find("waiting");
        const std::string reason =
            waiting != state.end() && waiting->is_object() ? waiting->value("reason", "") : "";
        if (waiting != state.end() &&
            (reason.empty() || reason == "ContainerCreating" || reason == "PodInitializing")) {
          state.erase(waiting);
        }
      }
      if (!state.is_object() || !state.empty()) judged.push_back(std::move(state));
    }
    if (judged.empty()) {
      facts.erase(containers);
    } else {
      *containers = std::move(judged);
    }
  }
  return facts;
}

}  // namespace

PodChange ClassifyPodChange(const k8s::Object& old_pod, const k8s::Object& new_pod) {
  k8s::Object before = PodFacts(old_pod);
  k8s::Object after = PodFacts(new_pod);
  if (before == after) return PodChange::kNone;
  if (JudgedPodFacts(std::move(before)) != JudgedPodFacts(std::move(after))) {
    return PodChange::kJudged;
  }
  return PodChange::kStarted;
}

bool JobChangeMatters(const k8s::Object& old_job, const k8s::Object& new_job) {
  return JobFacts(old_job) != JobFacts(new_job);
}

bool PodChangeMatters(const k8s::Object& old_pod, const k8s::Object& new_pod) {
  return PodFacts(old_pod) != PodFacts(new_pod);
}

// ---- Informers and watches.

namespace {

using controller::Change;
using controller::Request;
using controller::Watch;

// Keys as requests, each after delay.
std::vector<Request> Requests(std::vector<std::string> keys,
                              std::chrono::milliseconds delay = std::chrono::milliseconds(0)) {
  std::vector<Request> out;
  out.reserve(keys.size());
  for (std::string& k : keys) out.push_back({std::move(k), delay});
  return out;
}

// f(obj) for the new copy and the old one (an object may move between owners or labels).
template <typename F>
std::vector<Request> BothCopies(const Change& c, F f, std::chrono::milliseconds delay = {}) {
  std::vector<std::string> keys;
  for (const k8s::Object* obj : {c.new_obj, c.old_obj}) {
    if (obj == nullptr) continue;
    for (std::string& k : f(*obj)) keys.push_back(std::move(k));
  }
  return Requests(std::move(keys), delay);
}

std::vector<std::string> AsList(std::optional<std::string> key) {
  if (!key) return {};
  return {std::move(*key)};
}

// A pod that succeeded while its Job has not finished yet: the Job's own update follows and
// brings the reconcile (which then reads this pod from the cache).
bool JobWillTellOfPod(const k8s::Object& old_pod, const k8s::Object& new_pod,
                      const k8s::CacheReader& jobs) {
  if (new_pod.value("/status/phase"_json_pointer, "") != "Succeeded") return false;
  if (old_pod.value("/status/phase"_json_pointer, "") == "Succeeded") return false;
  const k8s::Object* owner = k8s::ControllerOf(new_pod);
  if (owner == nullptr || owner->value("kind", "") != "Job") return false;
  k8s::ObjectPtr job = jobs.Get(k8s::NamespaceOf(new_pod), owner->value("name", ""));
  return job && !k8s::OutcomeDecided(k8s::ClassifyJob(*job));
}

Watch ExecutionJobs(const ExecutionWatchDeps& deps) {
  return {k8s::resources::kJobs, [deps](const Change& c) -> std::vector<Request> {
            // A new Job is one this controller created (it remembers it).
            if (c.added()) return {};
            if (!c.deleted() && !JobChangeMatters(*c.old_obj, *c.new_obj)) return {};
            const auto owner =
                controller::ControllerOwnerKey(c.object(), k8s::resources::kPipelineExecutions);
            if (owner && deps.dispatch != nullptr && !c.deleted()) {
              deps.dispatch->OnJobUpdate(*owner, *c.old_obj, *c.new_obj);
            }
            return controller::OwnerRequests(c, k8s::resources::kPipelineExecutions);
          }};
}

Watch ExecutionPods(const ExecutionWatchDeps& deps) {
  return {k8s::resources::kPods, [deps](const Change& c) -> std::vector<Request> {
            if (c.added()) {
              if (auto key = ExecutionLabelKey(*c.new_obj)) deps.quota->PodCreated(*key);
            }
            if (c.deleted()) return Requests(AsList(ExecutionLabelKey(*c.old_obj)));
            // A new pod that is merely Pending tells the planner nothing.
            const k8s::Object bare = {
                {"metadata", c.new_obj->value("metadata", k8s::Object::object())}};
            const k8s::Object& before = c.added() ? bare : *c.old_obj;
            const PodChange change = ClassifyPodChange(before, *c.new_obj);
            if (change == PodChange::kNone) return {};
            if (!c.added() && JobWillTellOfPod(*c.old_obj, *c.new_obj, *deps.jobs)) return {};
            const auto delay = change == PodChange::kStarted ? deps.started_pod_delay
                                                             : std::chrono::milliseconds(0);
            return BothCopies(
                c, [](const k8s::Object& pod) { return AsList(ExecutionLabelKey(pod)); }, delay);
          }};
}

Watch ExecutionJobEvents(const ExecutionWatchDeps& deps) {
  return {k8s::resources::kEvents, [deps](const Change& c) -> std::vector<Request> {
            if (c.added() &&
                c.new_obj->value("message", "").find("exceeded quota") != std::string::npos) {
              if (auto key = JobEventExecutionKey(*c.new_obj, *deps.jobs)) {
                deps.quota->Refused(*key);
              }
            }
            return BothCopies(c, [&deps](const k8s::Object& event) {
              return AsList(JobEventExecutionKey(event, *deps.jobs));
            });
          }};
}

Watch ExecutionPipelines(const ExecutionWatchDeps& deps) {
  return {
      k8s::resources::kPipelines, [deps](const Change& c) -> std::vector<Request> {
        if (!c.added() && !c.deleted() && controller::OnlyStatusChanged(*c.old_obj, *c.new_obj)) {
          return {};
        }
        return BothCopies(c, [&deps](const k8s::Object& pipeline) {
          return ExecutionsReferencing(pipeline, *deps.executions);
        });
      }};
}

// Quota room: a ResourceQuota change hands out grants to the executions waiting for it.
Watch ExecutionQuotas(const ExecutionWatchDeps& deps) {
  return {k8s::resources::kResourceQuotas, [deps](const Change& c) -> std::vector<Request> {
            return Requests(deps.quota->QuotaChanged(
                c.old_obj, c.new_obj, deps.quotas->List(k8s::NamespaceOf(c.object()))));
          }};
}

}  // namespace

void AddInformers(const AddInformer& add, const std::string& controller_namespace) {
  auto spec = [](const k8s::Resource& resource, bool owner = false) {
    controller::InformerSpec s{resource, {}, owner};
    s.options.transform = CacheTrimFor(resource);  // what no reconciler reads goes first
    return s;
  };
  controller::InformerHandle& executions = add(spec(k8s::resources::kPipelineExecutions, true));
  add(spec(k8s::resources::kPipelines, true));
  const auto keep = [cache = &executions](const k8s::Object& obj) {
    return !FinishedWithItsExecution(obj, *cache);
  };
  controller::InformerSpec jobs_spec = spec(k8s::resources::kJobs);
  jobs_spec.options.label_selector = std::string(kLabelManagedBy) + "=" + kManagedByValue;
  jobs_spec.options.keep = keep;
  controller::InformerHandle& jobs = add(std::move(jobs_spec));
  controller::InformerSpec pods_spec = spec(k8s::resources::kPods);
  pods_spec.options.label_selector = kLabelExecution;  // exists
  pods_spec.options.keep = keep;
  controller::InformerHandle& pods = add(std::move(pods_spec));
  controller::InformerSpec events = spec(k8s::resources::kEvents);
  events.options.field_selector = kJobEventsFieldSelector;
  events.options.transform = [trim = events.options.transform](k8s::Object& event) {
    if (trim) trim(event);
    IndexByInvolvedObject(event);
  };
  add(std::move(events));
  add(spec(k8s::resources::kResourceQuotas));
  // Only the artifact repositories (artifact_repository.h), read when a Job is built.
  controller::InformerSpec config = spec(k8s::resources::kConfigMaps);
  config.options.field_selector = std::string("metadata.name=") + kArtifactRepositoryConfigMap;
  add(std::move(config));
  add(spec(k8s::resources::kPipelineSchedules));
  if (!controller_namespace.empty()) {
    controller::InformerSpec types{k8s::resources::kConfigMaps, {}, false};
    types.name = sagemaker::kInstanceTypesConfigMap;
    types.ns = controller_namespace;
    types.options.field_selector =
        std::string("metadata.name=") + sagemaker::kInstanceTypesConfigMap;
    add(std::move(types));
  }
  // The execution just finished: its ended Jobs, and their ended pods, are read no more.
  k8s::EventHandlers forget;
  forget.on_update = [jobs = &jobs, pods = &pods](const k8s::ObjectPtr& old_obj,
                                                  const k8s::ObjectPtr& new_obj) {
    if (IsFinishedExecution(*old_obj) || !IsFinishedExecution(*new_obj)) return;
    std::vector<k8s::ObjectPtr> owned = jobs->ListByOwner(k8s::UidOf(*new_obj));
    for (const k8s::ObjectPtr& job : owned) pods->Recheck(pods->ListByOwner(k8s::UidOf(*job)));
    jobs->Recheck(owned);
  };
  executions.AddEventHandlers(std::move(forget));
}

std::vector<Watch> ExecutionWatches(const ExecutionWatchDeps& deps) {
  return {controller::ForObjects(k8s::resources::kPipelineExecutions),
          ExecutionJobs(deps),
          ExecutionPods(deps),
          ExecutionJobEvents(deps),
          ExecutionPipelines(deps),
          ExecutionQuotas(deps)};
}

std::vector<Watch> PipelineWatches(const k8s::CacheReader& pipelines, EventRecorder& events) {
  // An execution finishing: its Pipeline's history limits and Jobs TTL. The finished copy is
  // trimmed (no spec.pipelineName); the one before is whole.
  Watch finished{k8s::resources::kPipelineExecutions,
                 [&pipelines](const Change& c) -> std::vector<Request> {
                   if (c.added() || c.deleted() || IsFinishedExecution(*c.old_obj) ||
                       !IsFinishedExecution(*c.new_obj)) {
                     return {};
                   }
                   const std::string name = c.old_obj->value("/spec/pipelineName"_json_pointer, "");
                   const std::string& ns = k8s::NamespaceOf(*c.old_obj);
                   if (pipelines.Get(ns, name)) return {{ns + "/" + name}};
                   for (const k8s::ObjectPtr& p : pipelines.List(ns)) {  // named by its alias
                     if (p->value("/spec/pipelineName"_json_pointer, "") == name) {
                       return {{k8s::KeyOf(*p)}};
                     }
                   }
                   return {};
                 }};
  // The instance-types ConfigMap changing (one of another name answers nothing).
  Watch instance_types{
      k8s::resources::kConfigMaps, [&pipelines, &events](const Change& c) -> std::vector<Request> {
        return Requests(OnInstanceTypesChange(c.old_obj, c.new_obj, pipelines, events));
      }};
  return {controller::ForObjects(k8s::resources::kPipelines), std::move(finished),
          std::move(instance_types)};
}

std::vector<Watch> ScheduleWatches() {
  // A run appearing, going or changing phase (status-only changes included).
  Watch runs{k8s::resources::kPipelineExecutions, [](const Change& c) -> std::vector<Request> {
               const auto phase = "/status/pipelineExecutionStatus"_json_pointer;
               if (!c.added() && !c.deleted() &&
                   c.old_obj->value(phase, "") == c.new_obj->value(phase, "")) {
                 return {};
               }
               return controller::OwnerRequests(c, k8s::resources::kPipelineSchedules);
             }};
  return {controller::ForObjects(k8s::resources::kPipelineSchedules), std::move(runs)};
}

}  // namespace stepline::reconcilers
