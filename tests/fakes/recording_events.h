// RecordingEvents: an EventRecorder that keeps every Event it is given, in order, for tests that
// check what a reconciler told the user. Not thread-safe: read it once the code under test has
// returned, from the thread that ran it.
#pragma once

#include <string>
#include <vector>

#include "controller/reconciler.h"
#include "k8sclient/resource.h"

namespace stepline::fakes {

class RecordingEvents : public controller::EventRecorder {
 public:
  struct Event {
    std::string object;  // the regarding object's name
    controller::EventType type;
    std::string reason;
    std::string message;
  };

  void Record(const k8s::Object& regarding, controller::EventType type, const std::string& reason,
              const std::string& message) override {
    events.push_back({k8s::NameOf(regarding), type, reason, message});
  }

  // The reasons of the Events recorded, in order.
  std::vector<std::string> Reasons() const {
    std::vector<std::string> out;
    for (const Event& e : events) out.push_back(e.reason);
    return out;
  }

  std::vector<Event> events;
};

}  // namespace stepline::fakes
