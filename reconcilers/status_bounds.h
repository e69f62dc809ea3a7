// The one rule for what the controller writes into a PipelineExecution's status (docs/api.md,
// "Status size"):
//   - every string is valid UTF-8 (invalid bytes become U+FFFD) and at most its field's bound;
//     a cut string ends in a marker that says how much was cut: "… [1234 more bytes cut]";
//   - the whole status stays below kMaxStatusBytes: outputs (and output artifacts' URI lists of
//     fan-out steps) larger than kMaxOutputBytes are not kept (the step's message names them and
//     where the data stays; the planner drops a fan-in this large itself, planner_steps.cc), then
//     the largest remaining ones, then the children details, until it fits;
//   - when the server still refuses a status write (422, 413, "request is too large"),
//     ReduceRefusedStatus gives the smallest status that still records the run's state and why.
//
// Pure functions over plain values; safe to call from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "reconcilers/api_types.h"

namespace stepline::reconcilers {

inline constexpr size_t kMaxStatusBytes = size_t{256} * 1024;  // the whole status, as JSON
inline constexpr size_t kMaxMessageBytes = 2048;               // messages and failureReason
inline constexpr size_t kMaxReasonBytes = 64;                  // a step's or child's reason
inline constexpr size_t kMaxItemBytes = 256;                   // a fan-out child's item
inline constexpr size_t kMaxOutputBytes = size_t{64} * 1024;   // one output value
inline constexpr size_t kMaxNameBytes = 256;                   // step names, Job names are shorter

// text as valid UTF-8: each byte that does not start or continue a valid sequence becomes
// U+FFFD (overlong forms, surrogates and code points past U+10FFFF included).
std::string ValidUtf8(std::string_view text);

// text as valid UTF-8 of at most max_bytes bytes: when longer, cut at a character boundary and
// ended by "… [N more bytes cut]" (N counts the bytes of the valid text that were dropped).
// max_bytes below the marker's size gives a plain cut.
std::string BoundText(std::string_view text, size_t max_bytes);

// The note a step's message gets for a value not kept in its status: `WHAT (N bytes) not kept
// in status: WHY; WHERE` (what: `output "x"`; where: where the values are instead).
std::string NotKeptNote(const std::string& what, size_t bytes, const std::string& why,
                        const std::string& where);

// Applies the rule to a status about to be written. Returns true when something was cut or
// dropped beyond the per-string bounds (outputs, children details); the steps concerned say so
// in their messages.
bool BoundStatus(PipelineExecutionStatus* status);

// The status's size as the server stores it (compact JSON).
size_t StatusBytes(const PipelineExecutionStatus& status);

// The status to write after the server refused `status` (why: the server's message): the run's
// phase, progress and conditions are kept; outputs, children details and step messages are
// dropped; a run that is not finished is failed with reason StatusTooLarge, since its status
// cannot record its progress. The result's failureReason and conditions say why.
PipelineExecutionStatus ReduceRefusedStatus(const PipelineExecutionStatus& status,
                                            const std::string& why, k8s::WallTime now);

}  // namespace stepline::reconcilers
