// A function call over HTTP: what a SageMaker Lambda step does, on Kubernetes. The event (a JSON
// object built from the step's Arguments) is POSTed to the function's URL (a Knative Service, an
// OpenFaaS function, any HTTP endpoint that answers JSON); the answer must be a JSON object, and
// each of the step's OutputParameters is read from it by name. `stepline-artifacts invoke` runs
// it as the main container of a Lambda step's pod and writes the outputs as the step's
// termination message (docs/api.md, "SageMaker pipeline definitions", Lambda).
//
// One request, no retries (the step's retry policy retries the attempt). Synchronous.
#pragma once

#include <string>
#include <vector>

#include "k8sclient/resource.h"
#include "k8sclient/status.h"

namespace stepline::artifacts {

// A member of the event: text is the value itself (a string) or, when json, its JSON text.
struct EventField {
  std::string name;
  std::string text;
  bool json = false;
};

// The event as a JSON object, members in the given order. InvalidArgument naming the member
// when a JSON text does not parse or a name repeats.
k8s::Result<k8s::Object> BuildEvent(const std::vector<EventField>& fields);

struct InvokeOptions {
  std::string function;  // the function's name, for messages
  std::string url;
  k8s::Object event = k8s::Object::object();
  std::vector<std::string> outputs;  // names read from the answer
  int timeout_seconds = 600;         // the whole exchange
  std::string ca_file;               // for https URLs; "": the system's
};

// POSTs the event (Content-Type: application/json) and returns {output: value} for every name in
// options.outputs: a string as it is, any other JSON value as its JSON text. InvalidArgument
// naming the function and URL when there is no answer, the answer is not 2xx (with its start), is
// not a JSON object, or lacks an output (with the members it has).
k8s::Result<k8s::Object> InvokeFunction(const InvokeOptions& options);

}  // namespace stepline::artifacts
