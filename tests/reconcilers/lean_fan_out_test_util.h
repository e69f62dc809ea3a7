// A fan-out of many children planned as the reconciler plans it, with its objects kept small (a
// Job's metadata and conditions, a pod's state) so that 100,000 children fit in a unit test and
// in bench/fanin. The run has two steps: `f`, a forEach over the List parameter `items` (given
// by the execution, so kept out of the status's snapshot), and `g` after it, which reads
// {{steps.f.outputs.v}}. The namespace has an artifact repository. The CRD bounds a parameter's
// value at 4096 characters (and a forEach at 65536): the API cannot express 100,000 items
// today, the planner fed directly plans them.
// Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "reconcilers/planner.h"

namespace stepline::reconcilers::testing {

class LeanFanOut {
 public:
  // children: the number of items; step: the fields of `f` beside its name and forEach.
  LeanFanOut(int children, const k8s::Object& step);

  // One plan as the reconciler makes it: its Job creates are kept (each with a pending pod), its
  // status becomes the execution's; the clock moves on 10 s. Returns the result (its actions
  // cleared: they held every created Job whole).
  PlanResult Plan();

  size_t jobs() const { return jobs_.size(); }
  void Run(size_t i);                                  // the pod of Job i runs
  void Succeed(size_t i, const std::string& outputs);  // ... and ends with these outputs
  void Fail(size_t i);                                 // ... and ends with exit code 1
  // Ends the children [from, to): those whose index is 7 modulo 100 fail (1%), the others
  // succeed with these outputs.
  void Finish(size_t from, size_t to, const std::string& outputs);
  const PipelineExecution& execution() const { return execution_; }
  const StepStatus* StepOf(const std::string& name) const;

 private:
  std::string At() const;
  void Keep(const k8s::Object& created);
  void Terminate(size_t i, int code, const std::string& reason, const std::string& message);
  void Condition(size_t i, const std::string& type);

  Pipeline pipeline_;
  PipelineExecution execution_;
  std::vector<k8s::Object> jobs_;
  std::vector<k8s::Object> pods_;  // pods_[i] is the pod of jobs_[i]
  k8s::WallTime now_;
};

}  // namespace stepline::reconcilers::testing
