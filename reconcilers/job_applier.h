// JobApplier: carries out a plan's Job actions (planner.h) against the API server, idempotently.
//   - Deletes (background propagation: the pods go with the Job) and patches (suspend, resume),
//     in the plan's order; NotFound is done (the Job is gone already).
//   - Then the creates, in slow-start batches of at most max_in_flight (slow_start.h), so that a
//     fan-out's last child does not wait for every other's round trip, and a failing server
//     gets few creates before the reconcile stops and retries. AlreadyExists is done (names are
//     deterministic: created before a restart) unless a foreign Job holds the name; a create a
//     ResourceQuota refused is reported, not an error (the step waits for quota).
// Each Job created is remembered in the Jobs' ReadYourWritesCache, so that the next reconcile
// sees it before the informer does.
//
// A create that finds its name taken is remembered by the owner's key: the owner's next plan
// then looks for foreign Jobs (NameTaken: listing a namespace's Jobs costs, so only then), and
// the Job holding the name is read from the server when a reader is given (the Jobs cache
// lists only labelled Jobs; an unlabelled one is found this way) and handed over once
// (TakeForeignHolders).
//
// Ownership: the writer, the Jobs cache and the reader are held by pointer or reference and must
// outlive the applier.
// Thread-safety: Apply may run for different keys on several threads at once, never for the
// same key; the creates of one Apply run on threads of their own, so the writer and the hooks
// must be safe for that. The memory of taken names is GUARDED_BY mu_.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "k8sclient/client.h"
#include "k8sclient/thread_annotations.h"
#include "reconcilers/planner.h"
#include "reconcilers/read_your_writes.h"

namespace stepline::reconcilers {

struct JobApplierOptions {
  std::string field_manager = "stepline-controller";
  size_t max_in_flight = 16;  // Job creates of one Apply in flight at once
  // Reads the Job holding a name a create found taken; null: only labelled holders are found
  // (through the cache, by the plan).
  k8s::ObjectReader* reader = nullptr;
};

// Called on the creating thread around each Job create request; either may be empty.
struct CreateHooks {
  std::function<void()> sending;  // just before the request is handed to the writer
  std::function<void()> created;  // as soon as the create succeeded
};

// What one Apply did.
struct JobApplyReport {
  k8s::Status error;        // the first failure; later creates may not have been made (retry)
  int created = 0;          // Jobs created
  bool name_taken = false;  // a create answered AlreadyExists: look again soon
  // Creates a ResourceQuota refused: the index of the action, the server's message.
  std::vector<std::pair<size_t, std::string>> quota_refusals;
};

class JobApplier {
 public:
  JobApplier(k8s::ObjectWriter& writer, ReadYourWritesCache& jobs, JobApplierOptions options);

  // Applies the kDeleteJob, kPatchJob and kCreateJob actions of `actions` (others are left to
  // the caller) for `owner` (the Jobs are in its namespace; its key, k8s::KeyOf, is what the
  // memory of taken names is kept by), calling hooks around each create.
  JobApplyReport Apply(const k8s::Object& owner, const std::vector<Action>& actions,
                       const CreateHooks& hooks = {});

  // True once a create for the owner with this key found its name taken (until Forget).
  bool NameTaken(const std::string& key) const EXCLUDES(mu_);
  // The holders of taken names read from the server for key since the last call: Job name ->
  // who controls it ("its controller is Kind name with uid ...", or "it has no controller").
  std::map<std::string, std::string> TakeForeignHolders(const std::string& key) EXCLUDES(mu_);
  // The owner is gone: forgets key.
  void Forget(const std::string& key) EXCLUDES(mu_);

 private:
  struct CreateOutcome {  // one Job create's answer
    k8s::Status status;   // not ok: it failed (AlreadyExists is done, not a failure)
    bool created = false;
    bool name_taken = false;
    std::optional<std::string> quota_refusal;  // a ResourceQuota refused it: the message
  };

  k8s::Status PatchOrDelete(const std::string& ns, const Action& action);
  CreateOutcome Create(const std::string& key, const Action& action, const CreateHooks& hooks)
      EXCLUDES(mu_);
  void CreateAll(const std::string& key, const std::vector<Action>& actions,
                 const CreateHooks& hooks, JobApplyReport* report);
  // After a create of `wanted` answered AlreadyExists: reads the Job holding the name and, if
  // wanted's controller does not control it, keeps who does for TakeForeignHolders.
  void NoteForeignHolder(const std::string& key, const k8s::Object& wanted) EXCLUDES(mu_);

  // Constant after construction.
  k8s::ObjectWriter& writer_;
  ReadYourWritesCache& jobs_;
  const JobApplierOptions options_;

  mutable k8s::Mutex mu_;
  std::set<std::string> name_taken_ GUARDED_BY(mu_);  // owner keys
  // owner key -> Job name -> who controls it
  std::map<std::string, std::map<std::string, std::string>> foreign_holders_ GUARDED_BY(mu_);
};

// True when the controller ownerReference of job names uid (Jobs are adopted by owner UID only).
bool ControlledBy(const k8s::Object& job, const std::string& uid);
// Who controls a Job that is not the wanted owner's, for the JobNameTaken message.
std::string WhoControls(const k8s::Object& job);

}  // namespace stepline::reconcilers
