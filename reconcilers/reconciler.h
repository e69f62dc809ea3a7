// The seam between the controller runtime (controller/) and the logic (reconcilers/): the
// runtime's interfaces (controller/reconciler.h) under the names the reconcilers use. The
// direction is one way: reconcilers/ may include controller/'s interface headers, controller/
// includes nothing from reconcilers/ (tests/layering_test.sh).
#pragma once

#include "controller/reconciler.h"

namespace stepline::reconcilers {

using controller::EventRecorder;
using controller::EventType;
using controller::ReconcileOutcome;
using controller::Reconciler;

}  // namespace stepline::reconcilers
