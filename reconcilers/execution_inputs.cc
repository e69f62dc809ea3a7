// ExecutionReconciler: reading the plan's inputs from the caches (execution_reconciler.h).
#include <algorithm>

#include "k8sclient/object_fields.h"
#include "reconcilers/cache_trim.h"
#include "reconcilers/execution_reconciler.h"
#include "reconcilers/job_builder.h"
#include "reconcilers/rerun.h"

namespace stepline::reconcilers {

using k8s::Child;
using k8s::Object;
using k8s::ObjectPtr;
using k8s::StringField;

std::vector<ObjectPtr> ExecutionReconciler::OwnedJobs(const PipelineExecution& ex) const {
  std::vector<ObjectPtr> jobs = jobs_.ListByOwner(ex.metadata.uid);
  std::erase_if(jobs, [&](const ObjectPtr& j) { return !ControlledBy(*j, ex.metadata.uid); });
  return jobs;
}

void ExecutionReconciler::Inputs(const std::string& key, const PipelineExecution& ex,
                                 JobRecordMemo* memo, Planned* planned) {
  PlanInputs& in = planned->inputs;
  in.execution = &ex;
  in.now = clock_.Now();
  in.options = options_.plan;
  ReadArtifactRepository(ex.metadata.namespace_, &in);
  if (!ex.status.pipeline_snapshot.is_object()) {
    in.rerun_source = FindRerunSource(ex, planned);
    in.pipeline = FindPipeline(ex, &planned->pipeline, &in.pipeline_lookup_problem);
    if (in.pipeline != nullptr && options_.validate) {
      in.pipeline_invalid_message = options_.validate(*in.pipeline);
    }
  }
  FindForeignJobs(key, ex, &in);
  for (const ObjectPtr& j : planned->jobs) {
    ObservedJob o;
    o.job = j.get();
    std::vector<ObjectPtr> related = caches_.pods->ListByOwner(k8s::UidOf(*j));
    for (const ObjectPtr& pod : related) o.pods.push_back(pod.get());
    if (caches_.job_events != nullptr) {
      for (ObjectPtr& e : caches_.job_events->ListByOwner(k8s::UidOf(*j))) {
        o.events.push_back(e.get());
        related.push_back(std::move(e));
      }
    }
    in.jobs.push_back(std::move(o));
    // The memo keeps the pods and events alive for the Plan, as it keeps their record.
    memo->Attach(&in.jobs.back(), j, std::move(related));
  }
}

void ExecutionReconciler::FindForeignJobs(const std::string& key, const PipelineExecution& ex,
                                          PlanInputs* in) {
  // Only after a create answered AlreadyExists: listing the namespace's Jobs costs.
  if (applier_.NameTaken(key)) {
    for (const ObjectPtr& j : caches_.jobs->List(ex.metadata.namespace_)) {
      if (ControlledBy(*j, ex.metadata.uid)) continue;
      if (StringField(Child(Child(*j, "metadata"), "labels"), kLabelExecution) !=
          ex.metadata.name) {
        continue;
      }
      in->foreign_jobs[k8s::NameOf(*j)] = WhoControls(*j);
    }
  }
  std::map<std::string, std::string> unlisted = applier_.TakeForeignHolders(key);
  in->foreign_jobs.insert(unlisted.begin(), unlisted.end());
}

const Pipeline* ExecutionReconciler::FindPipeline(const PipelineExecution& ex, Pipeline* storage,
                                                  std::string* problem) const {
  const std::string& ns = ex.metadata.namespace_;
  const std::string& want = ex.spec.pipeline_name;
  ObjectPtr found = caches_.pipelines->Get(ns, want);
  if (!found) {  // spec.pipelineName is also an alias (ACK); it must name one Pipeline only
    std::vector<std::string> named;
    for (const ObjectPtr& p : caches_.pipelines->List(ns)) {
      if (StringField(Child(*p, "spec"), "pipelineName") != want) continue;
      found = p;
      named.push_back(k8s::NameOf(*p));
    }
    if (named.size() > 1) {
      std::sort(named.begin(), named.end());
      std::string list;
      for (const auto& n : named) list += (list.empty() ? "" : ", ") + n;
      *problem = "pipelineName \"" + want + "\" is the spec.pipelineName of " +
                 std::to_string(named.size()) + " Pipelines (" + list +
                 "); name one of them by metadata.name";
      return nullptr;
    }
  }
  if (!found) return nullptr;
  k8s::Result<Pipeline> parsed = ParsePipeline(*found);
  if (!parsed.ok()) return nullptr;
  *storage = std::move(parsed).value();
  return storage;
}

const PipelineExecution* ExecutionReconciler::FindRerunSource(const PipelineExecution& ex,
                                                              Planned* storage) const {
  k8s::Result<std::optional<RerunRequest>> request = RerunRequestOf(ex.spec);
  if (!request.ok() || !*request) return nullptr;
  const std::string& ns = ex.metadata.namespace_;
  ObjectPtr found = caches_.executions->Get(ns, (*request)->source);
  if (!found) return nullptr;
  if (IsFinishedExecution(*found) && options_.reader != nullptr) {  // trimmed in the cache
    k8s::Result<Object> whole =
        options_.reader->Get(k8s::resources::kPipelineExecutions, ns, (*request)->source);
    if (!whole.ok()) {
      if (!whole.status().IsNotFound()) storage->error = whole.status();
      return nullptr;
    }
    found = std::make_shared<const Object>(std::move(whole).value());
  }
  k8s::Result<PipelineExecution> parsed = ParsePipelineExecution(*found);
  if (!parsed.ok()) return nullptr;
  storage->rerun_source = std::move(parsed).value();
  return &storage->rerun_source;
}

void ExecutionReconciler::ReadArtifactRepository(const std::string& ns, PlanInputs* in) const {
  if (caches_.artifact_repositories == nullptr) return;
  ObjectPtr found = caches_.artifact_repositories->Get(ns, kArtifactRepositoryConfigMap);
  if (!found) return;
  k8s::Result<ArtifactRepository> repo = ParseArtifactRepository(*found);
  if (repo.ok()) {
    in->artifact_repository = std::move(repo).value();
  } else {
    in->artifact_repository_problem = repo.status().message();
  }
}

}  // namespace stepline::reconcilers
