#include "reconcilers/job_applier.h"

#include "reconcilers/log.h"
#include "reconcilers/slow_start.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;

bool IsQuotaRefusal(const k8s::Status& s) {
  return s.IsForbidden() && s.message().find("exceeded quota") != std::string::npos;
}

}  // namespace

bool ControlledBy(const Object& job, const std::string& uid) {
  const Object* owner = k8s::ControllerOf(job);
  return owner != nullptr && owner->value("uid", "") == uid;
}

std::string WhoControls(const Object& job) {
  const Object* owner = k8s::ControllerOf(job);
  return owner == nullptr ? "it has no controller"
                          : "its controller is " + owner->value("kind", std::string()) + " " +
                                owner->value("name", std::string()) + " with uid " +
                                owner->value("uid", std::string());
}

JobApplier::JobApplier(k8s::ObjectWriter& writer, ReadYourWritesCache& jobs,
                       JobApplierOptions options)
    : writer_(writer), jobs_(jobs), options_(std::move(options)) {}

// Deletes and patches in the plan's order, then the creates.
JobApplyReport JobApplier::Apply(const Object& owner, const std::vector<Action>& actions,
                                 const CreateHooks& hooks) {
  const std::string key = k8s::KeyOf(owner);
  JobApplyReport report;
  for (const Action& a : actions) {
    if (a.kind != Action::Kind::kDeleteJob && a.kind != Action::Kind::kPatchJob) continue;
    k8s::Status s = PatchOrDelete(k8s::NamespaceOf(owner), a);
    if (s.ok()) continue;
    Log()->warn("action failed key={} job={} error={}", key, a.job_name, s.ToString());
    if (report.error.ok()) report.error = s;
  }
  CreateAll(key, actions, hooks, &report);
  return report;
}

k8s::Status JobApplier::PatchOrDelete(const std::string& ns, const Action& a) {
  k8s::Status s;
  if (a.kind == Action::Kind::kDeleteJob) {
    k8s::DeleteOptions opts;
    opts.propagation_policy = "Background";
    s = writer_.Delete(k8s::resources::kJobs, ns, a.job_name, opts);
  } else {
    s = writer_.Patch(k8s::resources::kJobs, ns, a.job_name, k8s::PatchType::kMerge, a.patch.dump())
            .status();
  }
  return s.IsNotFound() ? k8s::Status::Ok() : s;  // gone already
}

// A batch with a failed create ends them; the rest are created by the retry.
void JobApplier::CreateAll(const std::string& key, const std::vector<Action>& actions,
                           const CreateHooks& hooks, JobApplyReport* report) {
  std::vector<size_t> creates;
  for (size_t i = 0; i < actions.size(); ++i) {
    if (actions[i].kind == Action::Kind::kCreateJob) creates.push_back(i);
  }
  std::vector<CreateOutcome> outcomes(creates.size());
  CallInSlowStartBatches(creates.size(), options_.max_in_flight, [&](size_t i) {
    outcomes[i] = Create(key, actions[creates[i]], hooks);
    return outcomes[i].status.ok();
  });
  for (size_t i = 0; i < creates.size(); ++i) {
    CreateOutcome& o = outcomes[i];
    if (o.created) ++report->created;
    report->name_taken = report->name_taken || o.name_taken;
    if (o.quota_refusal) report->quota_refusals.emplace_back(creates[i], *o.quota_refusal);
    if (o.status.ok()) continue;
    Log()->warn("action failed key={} job={} error={}", key, k8s::NameOf(actions[creates[i]].job),
                o.status.ToString());
    if (report->error.ok()) report->error = o.status;
  }
}

JobApplier::CreateOutcome JobApplier::Create(const std::string& key, const Action& action,
                                             const CreateHooks& hooks) {
  k8s::WriteOptions opts;
  opts.field_manager = options_.field_manager;
  if (hooks.sending) hooks.sending();
  k8s::Result<Object> created =
      writer_.Create(k8s::resources::kJobs, k8s::NamespaceOf(action.job), action.job, opts);
  CreateOutcome out;
  if (created.ok()) {
    jobs_.Created(std::make_shared<const Object>(std::move(created).value()));
    out.created = true;
    if (hooks.created) hooks.created();
  } else if (created.status().IsAlreadyExists()) {  // done before a restart, or a foreign Job
    NoteForeignHolder(key, action.job);
    k8s::MutexLock lock(mu_);
    name_taken_.insert(key);
    out.name_taken = true;
  } else if (IsQuotaRefusal(created.status())) {
    out.quota_refusal = created.status().message();
  } else {
    out.status = created.status();
  }
  return out;
}

void JobApplier::NoteForeignHolder(const std::string& key, const Object& wanted) {
  const Object* ours = k8s::ControllerOf(wanted);
  if (options_.reader == nullptr || ours == nullptr) return;
  k8s::Result<Object> holder =
      options_.reader->Get(k8s::resources::kJobs, k8s::NamespaceOf(wanted), k8s::NameOf(wanted));
  if (!holder.ok()) return;  // gone again, or unreadable: the next create tells
  if (ControlledBy(*holder, ours->value("uid", std::string()))) return;
  k8s::MutexLock lock(mu_);
  foreign_holders_[key][k8s::NameOf(wanted)] = WhoControls(*holder);
}

bool JobApplier::NameTaken(const std::string& key) const {
  k8s::MutexLock lock(mu_);
  return name_taken_.count(key) > 0;
}

std::map<std::string, std::string> JobApplier::TakeForeignHolders(const std::string& key) {
  k8s::MutexLock lock(mu_);
  auto found = foreign_holders_.find(key);
  if (found == foreign_holders_.end()) return {};
  std::map<std::string, std::string> holders = std::move(found->second);
  foreign_holders_.erase(found);
  return holders;
}

void JobApplier::Forget(const std::string& key) {
  k8s::MutexLock lock(mu_);
  name_taken_.erase(key);
  foreign_holders_.erase(key);
}

}  // namespace stepline::reconcilers
