// JobRecordMemo: the JobRecords of one execution's Jobs, kept between its reconciles.
//
// Reading a Job and its pods is most of what a re-plan costs (a 10,000-child fan-out walks
// 20,000 JSON trees). The informer's objects are immutable, a change replaces the object, so a
// Job whose object, pods and events are the very objects of the last reconcile has the record
// read then. The memo holds those objects while it holds their record, so an address cannot be
// reused by another object meanwhile.
//
// Not thread-safe: one per execution, used by the worker that holds the execution's key.
#pragma once

#include <cstddef>
#include <unordered_map>
#include <vector>

#include "k8sclient/resource.h"
#include "reconcilers/planner.h"

namespace stepline::reconcilers {

class JobRecordMemo {
 public:
  explicit JobRecordMemo(std::chrono::seconds scheduling_timeout)
      : scheduling_timeout_(scheduling_timeout) {}

  // Points o->record at the record of job with its pods and events (o's objects must be
  // job.get() and the .get() of each of related, pods first, then events), read again only if
  // any of them changed. The record stays valid until the next Sweep.
  void Attach(ObservedJob* o, const k8s::ObjectPtr& job, std::vector<k8s::ObjectPtr> related);
  // Forgets the Jobs not attached since the previous Sweep (deleted, or no longer owned).
  void Sweep();
  size_t size() const { return entries_.size(); }
  // How many records Attach read (not found, or changed) since the memo was made.
  size_t reads() const { return reads_; }

 private:
  struct Entry {
    k8s::ObjectPtr job;
    std::vector<k8s::ObjectPtr> related;
    JobRecord record;
    bool attached = false;
  };
  const std::chrono::seconds scheduling_timeout_;
  std::unordered_map<const k8s::Object*, Entry> entries_;
  size_t reads_ = 0;
};

}  // namespace stepline::reconcilers
