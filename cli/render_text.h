// Text views of runs for the terminal: the list table and the run tree (`get`, `watch`).
// Pure functions: `now` is passed in; colour is asked for, never detected here.
#pragma once

#include <string>
#include <vector>

#include "cli/run_view.h"
#include "k8sclient/clock.h"

namespace stepline::cli {

// 45s, 3m12s, 2h5m, 3d4h (kubectl's style, two units at most).
std::string FormatDuration(int64_t seconds);
// Seconds from `from` to `to` (RFC 3339; to "" = now); -1 when from is not a time.
int64_t SecondsBetween(const std::string& from, const std::string& to, k8s::WallTime now);
// One symbol per phase (and run status): ✓ Succeeded, ✗ Failed, ● Running/Executing, ↻ Retrying,
// ‖ Waiting, ◔ WaitingForQuota, ○ Pending, ⊘ Skipped, ■ Stopped/Stopping; ? for anything else.
const char* PhaseSymbol(const std::string& phase);
// "17/20 ✓, 1 failed [ch: OOMKilled], 2 running" for a fan-out step.
std::string ChildrenSummary(const StepView& step);
// What a user needs to know next to a step: its waits, its last failure, a fan-out's summary.
std::string StepDetails(const StepView& step, const RunView& run);
// The `list` table: [NAMESPACE] NAME PIPELINE STATUS PROGRESS DURATION AGE.
std::string ListTable(const std::vector<RunView>& runs, bool all_namespaces, k8s::WallTime now);
// The `get`/`watch` view: a header, then the steps as a tree in DAG order with phase, attempts,
// duration and details, and the outputs under each step.
std::string RunTree(const RunView& run, k8s::WallTime now, bool color);
// An object as block YAML (`-o yaml`); strings that would read back as other types are quoted.
std::string ObjectYaml(const k8s::Object& obj);

}  // namespace stepline::cli
