#include "artifacts/invoke.h"

#include <string>

#include "artifacts/s3_http.h"

namespace stepline::artifacts {
namespace {

using k8s::Object;
using k8s::Result;
using k8s::Status;

std::string Members(const Object& answer) {
  std::string list;
  for (auto it = answer.begin(); it != answer.end(); ++it) {
    list += (list.empty() ? "" : ", ") + it.key();
  }
  return list.empty() ? "none" : list;
}

}  // namespace

k8s::Result<Object> BuildEvent(const std::vector<EventField>& fields) {
  Object event = Object::object();
  for (const EventField& f : fields) {
    if (f.name.empty()) return Status::InvalidArgument("an event member needs a name");
    if (event.contains(f.name)) {
      return Status::InvalidArgument("event member \"" + f.name + "\" is given twice");
    }
    if (!f.json) {
      event[f.name] = f.text;
      continue;
    }
    Object value = Object::parse(f.text, nullptr, false);
    if (value.is_discarded()) {
      return Status::InvalidArgument("event member \"" + f.name + "\": " + AnswerExcerpt(f.text) +
                                     " is not JSON");
    }
    event[f.name] = std::move(value);
  }
  return event;
}

k8s::Result<Object> InvokeFunction(const InvokeOptions& o) {
  const std::string what = "function \"" + o.function + "\" (POST " + o.url + ")";
  HttpCall call{.method = "POST", .url = o.url};
  call.headers = {"Expect:", "Content-Type: application/json", "Accept: application/json"};
  call.body = o.event.dump();
  HttpSettings settings;
  settings.ca_file = o.ca_file;
  settings.timeout_ms = static_cast<long>(o.timeout_seconds) * 1000;
  auto answer = Perform(call, settings);
  if (!answer.ok()) {
    return Status::InvalidArgument(what + " gave no answer: " + answer.status().message());
  }
  if (answer->http_code < 200 || answer->http_code > 299) {
    return Status::InvalidArgument(what + " failed: HTTP " + std::to_string(answer->http_code) +
                                   ": " + AnswerExcerpt(answer->body));
  }
  Object body = Object::parse(answer->body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return Status::InvalidArgument(what + " answered " + AnswerExcerpt(answer->body) +
                                   ", not a JSON object (the step's OutputParameters are read "
                                   "from its members)");
  }
  Object outputs = Object::object();
  for (const std::string& name : o.outputs) {
    auto it = body.find(name);
    if (it == body.end()) {
      return Status::InvalidArgument(what + " answered without the output \"" + name +
                                     "\" (its members: " + Members(body) + ")");
    }
    outputs[name] = it->is_string() ? it->get<std::string>() : it->dump();
  }
  return outputs;
}

}  // namespace stepline::artifacts
