// The kubelet's read-only HTTP endpoint for container logs, as the API server's pods/log proxy
// reaches it: GET /containerLogs/NS/POD/CONTAINER?follow=true&tailLines=N&previous=true&
// limitBytes=B, on a loopback port published in the agent's Node objects (PublishNodeObjects).
// It reads the files the kubelet part writes (<work-dir>/logs/...); `follow` streams the file
// until the container has terminated (from the pod informer's cache) and the file is drained.
// Containers never restart here, so `previous` answers 400 as a kubelet does for a container
// without a previous instance; `timestamps` is not supported (the logs carry none) and ignored.
// No authentication: it listens on 127.0.0.1 only (a real kubelet authenticates the API server).
//
// Thread-safety: Start/Stop from the owning thread; requests are served on their own threads and
// only read the (thread-safe) pod cache and files.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "k8sclient/cache.h"
#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/loopback_server.h"
#include "localagent/node_spec.h"

namespace stepline::localagent {

class KubeletLogServer {
 public:
  // pods must outlive the server.
  KubeletLogServer(const k8s::CacheReader& pods, std::string work_dir);
  ~KubeletLogServer();
  k8s::Status Start();  // on 127.0.0.1, a free port
  void Stop();
  int port() const { return server_.port(); }

 private:
  void Serve(const k8s::ServerRequest& req, k8s::ServerResponse& resp);
  void Follow(const std::string& path, size_t offset, int64_t limit, const std::string& ns,
              const std::string& pod, const std::string& container, k8s::ServerResponse& resp);

  const k8s::CacheReader& pods_;
  const std::string work_dir_;
  k8s::LoopbackServer server_;
};

// Creates or refreshes a Node object per node (with the kubelet endpoint 127.0.0.1:port) and
// deletes the agent's Node objects (label stepline.dev/local-agent) of nodes no longer there.
// Failures are logged (a server without the Node stand-in CRD only loses pods/log).
void PublishNodeObjects(k8s::Client& client, const k8s::Clock& clock,
                        const std::vector<NodeSpec>& nodes, int kubelet_port);

}  // namespace stepline::localagent
