// The Pod a Job creates from its template, as the Job controller creates it (labels, owner
// reference, tracking finalizer, generated name) and as the API server's defaulting would leave
// it. Pure functions; no shared state.
#pragma once

#include <string>

#include "k8sclient/resource.h"

namespace stepline::localagent {

// "<job>-<suffix>", with the job name cut so that the whole fits 63 characters (the name
// generator's rule for generateName "<job>-").
std::string JobPodName(const std::string& job_name, const std::string& suffix);
// Five characters from the name generator's alphabet, from a random source value.
std::string NameSuffix(uint64_t random);

k8s::Object BuildJobPod(const k8s::Object& job, const std::string& pod_name);

// Fills the fields the API server defaults on a Pod spec (restartPolicy,
// terminationGracePeriodSeconds, dnsPolicy, schedulerName, securityContext, enableServiceLinks,
// and per container terminationMessagePath/Policy, imagePullPolicy, resources).
void DefaultPodSpec(k8s::Object* spec);

}  // namespace stepline::localagent
