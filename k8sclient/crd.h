// Registering CustomResourceDefinitions and waiting until they are served (tests, benchmarks,
// local tooling).
//
// Stateless functions; thread-safe as far as the client and sleeper they are given are.
#pragma once

#include <chrono>
#include <string>

#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/rate_limiter.h"

namespace stepline::k8s {

// True when the CRD object has condition Established=True.
bool IsCrdEstablished(const Object& crd);

// Creates the CRD (AlreadyExists is fine: the existing one is kept) and waits until it is
// Established, polling every 100 ms on clock (through sleeper) for at most timeout.
Status EnsureCrdEstablished(Client& client, const Object& crd, const Clock& clock, Sleeper& sleeper,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace stepline::k8s
