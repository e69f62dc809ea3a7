#include "reconcilers/job_record_memo.h"

#include <algorithm>
#include <utility>

namespace stepline::reconcilers {

namespace {

bool SameObjects(const std::vector<k8s::ObjectPtr>& a, const std::vector<k8s::ObjectPtr>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const k8s::ObjectPtr& x, const k8s::ObjectPtr& y) { return x == y; });
}

}  // namespace

void JobRecordMemo::Attach(ObservedJob* o, const k8s::ObjectPtr& job,
                           std::vector<k8s::ObjectPtr> related) {
  Entry& e = entries_[job.get()];
  if (e.job != job || !SameObjects(e.related, related)) {
    e.job = job;
    e.related = std::move(related);
    e.record = ReadJobRecord(*o, scheduling_timeout_);
    ++reads_;
  }
  e.attached = true;
  o->record = &e.record;
}

void JobRecordMemo::Sweep() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!it->second.attached) {
      it = entries_.erase(it);
      continue;
    }
    it->second.attached = false;
    ++it;
  }
}

}  // namespace stepline::reconcilers
