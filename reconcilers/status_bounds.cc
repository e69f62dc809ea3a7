#include "reconcilers/status_bounds.h"

#include <algorithm>
#include <vector>

#include "reconcilers/artifact_staging.h"

namespace stepline::reconcilers {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the valid UTF-8 sequence at text[i], or 0 when none starts there.
size_t SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xC2 && c <= 0xDF   ? 2
             : c >= 0xE0 && c <= 0xEF ? 3
             : c >= 0xF0 && c <= 0xF4 ? 4
                                      : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  unsigned char c1 = byte(i + 1);
  if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
  if (c == 0xED && c1 > 0x9F) return 0;  // surrogates
  if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
  if (c == 0xF4 && c1 > 0x8F) return 0;  // past U+10FFFF
  return n;
}

std::string Marker(size_t cut) { return "\u2026 [" + std::to_string(cut) + " more bytes cut]"; }

void Bound(std::string* s, size_t max_bytes) { *s = BoundText(*s, max_bytes); }

void BoundChild(ChildStatus* c) {
  Bound(&c->item, kMaxItemBytes);
  Bound(&c->job_name, kMaxNameBytes);
  Bound(&c->reason, kMaxReasonBytes);
  Bound(&c->message, kMaxMessageBytes);
}

void BoundStrings(PipelineExecutionStatus* s) {
  Bound(&s->failure_reason, kMaxMessageBytes);
  Bound(&s->progress, kMaxReasonBytes);
  for (Condition& c : s->conditions) {
    Bound(&c.reason, kMaxReasonBytes);
    Bound(&c.message, kMaxMessageBytes);
  }
  for (StepStatus& st : s->steps) {
    Bound(&st.name, kMaxNameBytes);
    Bound(&st.job_name, kMaxNameBytes);
    Bound(&st.reason, kMaxReasonBytes);
    Bound(&st.message, kMaxMessageBytes);
    StringMap outputs;
    for (auto& [k, v] : st.outputs) outputs[ValidUtf8(k)] = ValidUtf8(v);
    st.outputs = std::move(outputs);
    for (ChildStatus& c : st.failed_children) BoundChild(&c);
    for (ChildStatus& c : st.running_children) BoundChild(&c);
  }
}

// What BoundStatus may drop from a step's status: an output, or an output artifact's URIs (a
// fan-out step's are lists of one URI per child).
enum class Value { kOutput, kArtifact };

StringMap& ValuesOf(StepStatus* st, Value kind) {
  return kind == Value::kOutput ? st->outputs : st->artifacts;
}

// Drops one value from a step's status, saying so in its message.
void DropValue(StepStatus* st, Value kind, const std::string& name, size_t bytes, const char* why) {
  ValuesOf(st, kind).erase(name);
  std::string note =
      kind == Value::kOutput
          ? NotKeptNote("output \"" + name + "\"", bytes, why,
                        "the values stay in the termination messages of the step's pods")
          : NotKeptNote("the URIs of output artifact \"" + name + "\"", bytes, why,
                        std::string("each attempt's URIs stay on its Job (annotation ") +
                            kAnnotationArtifacts + ")");
  st->message = BoundText(st->message.empty() ? note : st->message + "; " + note, kMaxMessageBytes);
}

bool DropHugeValues(PipelineExecutionStatus* s) {
  bool dropped = false;
  for (StepStatus& st : s->steps) {
    for (Value kind : {Value::kOutput, Value::kArtifact}) {
      std::vector<std::pair<std::string, size_t>> huge;
      for (const auto& [k, v] : ValuesOf(&st, kind)) {
        if (v.size() > kMaxOutputBytes) huge.emplace_back(k, v.size());
      }
      for (const auto& [k, n] : huge) DropValue(&st, kind, k, n, "larger than 64 KiB");
      dropped = dropped || !huge.empty();
    }
  }
  return dropped;
}

// Drops the largest value until the status fits; false if none is left to drop.
bool DropLargestValue(PipelineExecutionStatus* s) {
  StepStatus* where = nullptr;
  Value which = Value::kOutput;
  std::string name;
  size_t largest = 0;
  for (StepStatus& st : s->steps) {
    for (Value kind : {Value::kOutput, Value::kArtifact}) {
      for (const auto& [k, v] : ValuesOf(&st, kind)) {
        if (v.size() + k.size() <= largest) continue;
        largest = v.size() + k.size();
        where = &st;
        which = kind;
        name = k;
      }
    }
  }
  if (where == nullptr) return false;
  DropValue(where, which, name, ValuesOf(where, which)[name].size(),
            "the status would exceed 256 KiB");
  return true;
}

bool DropChildDetails(PipelineExecutionStatus* s) {
  bool any = false;
  for (StepStatus& st : s->steps) {
    if (st.failed_children.empty() && st.running_children.empty()) continue;
    st.failed_children.clear();
    st.running_children.clear();
    st.message = BoundText(st.message + "; children details not kept: the status would exceed " +
                               "256 KiB (kubectl get jobs -l stepline.dev/step=" + st.name + ")",
                           kMaxMessageBytes);
    any = true;
  }
  return any;
}

}  // namespace

std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t n = SequenceLength(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string NotKeptNote(const std::string& what, size_t bytes, const std::string& why,
                        const std::string& where) {
  return what + " (" + std::to_string(bytes) + " bytes) not kept in status: " + why + "; " + where;
}

std::string BoundText(std::string_view text, size_t max_bytes) {
  std::string valid = ValidUtf8(text);
  if (valid.size() <= max_bytes) return valid;
  const size_t marker_reserve = Marker(valid.size()).size();
  size_t keep = max_bytes > marker_reserve ? max_bytes - marker_reserve : max_bytes;
  // Back up to a character boundary: never leave half a sequence.
  while (keep > 0 && (static_cast<unsigned char>(valid[keep]) & 0xC0) == 0x80) --keep;
  std::string out = valid.substr(0, keep);
  if (max_bytes > marker_reserve) out += Marker(valid.size() - keep);
  return out;
}

size_t StatusBytes(const PipelineExecutionStatus& status) { return ToJson(status).dump().size(); }

bool BoundStatus(PipelineExecutionStatus* status) {
  BoundStrings(status);
  bool reduced = DropHugeValues(status);
  if (StatusBytes(*status) <= kMaxStatusBytes) return reduced;  // the common case: one dump
  while (DropLargestValue(status)) {
    if (StatusBytes(*status) <= kMaxStatusBytes) return true;
  }
  DropChildDetails(status);
  return true;
}

PipelineExecutionStatus ReduceRefusedStatus(const PipelineExecutionStatus& status,
                                            const std::string& why, k8s::WallTime now) {
  PipelineExecutionStatus s = status;
  for (StepStatus& st : s.steps) {
    st.outputs.clear();
    st.failed_children.clear();
    st.running_children.clear();
    st.message = BoundText(st.message, 256);
  }
  // A snapshot too large for the status cannot be kept; the run cannot go on without it.
  if (s.pipeline_snapshot.dump().size() > kMaxStatusBytes / 2) s.pipeline_snapshot = nullptr;
  bool finished = IsFinishedPhase(s.pipeline_execution_status);
  std::string message = "the API server refused the execution's status: " + why;
  if (!finished) {
    s.pipeline_execution_status = ExecutionStatus::kFailed;
    s.completion_time = now;
    s.failure_reason = BoundText("StatusTooLarge: " + message, kMaxMessageBytes);
    for (const char* type : {kConditionSucceeded, kConditionReady}) {
      Condition c;
      c.type = type;
      c.status = kConditionFalse;
      c.reason = "StatusTooLarge";
      c.message = BoundText(message, kMaxMessageBytes);
      if (const Condition* old = FindCondition(s.conditions, type)) {
        c.observed_generation = old->observed_generation;
      }
      SetCondition(&s.conditions, c, now);
    }
  }
  s.last_modified_time = now;
  BoundStrings(&s);
  return s;
}

}  // namespace stepline::reconcilers
