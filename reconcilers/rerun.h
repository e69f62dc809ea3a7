// Re-runs (issue #19): a new execution that runs again some steps of a finished one (its
// source) and reuses the recorded results of the others.
//
// Two spellings of the request:
//   spec.selectiveExecutionConfig: {sourcePipelineExecutionName | ...ARN, selectedSteps}  (ACK)
//   spec.rerunOf: {execution, steps, allowPipelineChange}  (Stepline; no steps: the steps that
//                                                             did not succeed)
// The re-run runs the source's snapshot (pipeline and parameters). It runs the selected steps,
// every step downstream of one, and every step whose recorded result cannot be reused; the
// others are copied from the source's status as they ended (Succeeded, Skipped because their
// `when` was false, or Failed with onFailure: Continue) with `reusedFrom` naming the execution
// whose Job produced them, and create no Job.
//
// Pure; plain values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "k8sclient/status.h"
#include "reconcilers/api_types.h"

namespace stepline::reconcilers {

// The status field of a reused step: the execution whose Job produced its result.
inline constexpr const char* kReusedFromField = "reusedFrom";

struct RerunRequest {
  std::string source;              // the source execution's name
  std::vector<std::string> steps;  // selected; empty: every step that did not succeed
  bool allow_pipeline_change = false;
  std::string source_field;  // the field that names the source, for messages
  std::string steps_field;   // the field that lists the steps ("" when none can)
};

// The request of spec; nullopt when spec asks for no re-run. Invalid when both forms are given.
k8s::Result<std::optional<RerunRequest>> RerunRequestOf(const PipelineExecutionSpec& spec);

struct RerunStart {
  Json snapshot;                    // the source's status.pipelineSnapshot
  int64_t pipeline_generation = 0;  // the source's
  std::vector<StepStatus> reused;   // with reusedFrom set
  std::vector<std::string> run;     // the steps that run again, in declaration order
};

// What the re-run starts with, or why it cannot (Invalid, the message naming the field):
// the source is missing (source null) or has not finished, never started, ran another
// Pipeline, or its Pipeline changed since (pipeline: the current one, null when deleted)
// unless allowed; a selected step the snapshot does not have; parameters other than the
// source's; nothing to re-run.
k8s::Result<RerunStart> StartRerun(const RerunRequest& request, const PipelineExecution& execution,
                                   const PipelineExecution* source, const Pipeline* pipeline);

}  // namespace stepline::reconcilers
