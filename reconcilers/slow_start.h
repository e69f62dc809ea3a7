// Slow start: many calls to the API server, made a batch at a time with the batch doubling, as
// the Job controller creates a Job's pods. A healthy server gets many calls in flight at once;
// a failing one (quota of the API server, an admission webhook refusing everything) gets few
// before the caller stops and retries later.
//
// Thread-safety: the calls of one batch run at the same time on different threads; call must
// be safe for that (each call writing only its own slot of a result vector is).
#pragma once

#include <cstddef>
#include <functional>

namespace stepline::reconcilers {

// Calls call(i) for i = 0, 1, ... n-1 in batches of 1, 2, 4, ... at most max_batch calls: the
// calls of a batch run concurrently (the caller's thread makes one of them), and the next
// batch starts once the whole batch has returned. call returns false when it failed; after a
// batch with a failure no further batch starts. Returns how many calls were made.
size_t CallInSlowStartBatches(size_t n, size_t max_batch, const std::function<bool(size_t)>& call);

}  // namespace stepline::reconcilers
