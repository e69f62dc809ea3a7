#include "localagent/agent_log_server.h"

#include <fstream>
#include <thread>

#include "k8sclient/object_fields.h"
#include "localagent/agent_log.h"
#include "localagent/container_logs.h"

namespace stepline::localagent {

using k8s::ArrayField;
using k8s::ObjectField;
using k8s::StringField;

namespace {

constexpr auto kFollowPoll = std::chrono::milliseconds(200);
// core/v1 nodes: the agent is their only user (it publishes them; nothing reads them back).
const k8s::Resource kNodes{"", "v1", "nodes", "Node", false};

// Bytes of the file from offset on ("" when none or missing).
std::string ReadFrom(const std::string& path, size_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const auto size = static_cast<size_t>(std::max<std::streamoff>(in.tellg(), 0));
  if (size <= offset) return {};
  in.seekg(static_cast<std::streamoff>(offset));
  std::string out(size - offset, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

// The container's status in the pod, or an empty object.
const k8s::Object& ContainerStatus(const k8s::Object& pod, const std::string& container) {
  for (const auto& cs : ArrayField(ObjectField(pod, "status"), "containerStatuses")) {
    if (StringField(cs, "name") == container) return cs;
  }
  static const k8s::Object kEmpty = k8s::Object::object();
  return kEmpty;
}

bool Terminated(const k8s::Object* pod, const std::string& container) {
  if (pod == nullptr) return true;  // deleted: nothing will be written any more
  const std::string phase = StringField(ObjectField(*pod, "status"), "phase");
  if (phase == "Succeeded" || phase == "Failed") return true;
  return ObjectField(ContainerStatus(*pod, container), "state").contains("terminated");
}

}  // namespace

KubeletLogServer::KubeletLogServer(const k8s::CacheReader& pods, std::string work_dir)
    : pods_(pods),
      work_dir_(std::move(work_dir)),
      server_("127.0.0.1", 0, [this](const k8s::ServerRequest& req, k8s::ServerResponse& resp) {
        Serve(req, resp);
      }) {}

KubeletLogServer::~KubeletLogServer() { Stop(); }

k8s::Status KubeletLogServer::Start() { return server_.Start(); }

void KubeletLogServer::Stop() { server_.Stop(); }

void KubeletLogServer::Serve(const k8s::ServerRequest& req, k8s::ServerResponse& resp) {
  ContainerLogTarget t;
  if (!ParseContainerLogsPath(req.path, &t)) {
    resp.Send(404, "text/plain", "404 page not found\n");
    return;
  }
  k8s::ObjectPtr pod = pods_.Get(t.ns, t.pod);
  if (!pod) {
    resp.Send(404, "text/plain", "pod \"" + t.pod + "\" not found");
    return;
  }
  const std::string ref = "container \"" + t.container + "\" in pod \"" + t.pod + "\"";
  if (req.Query("previous") == "true") {
    resp.Send(400, "text/plain", "previous terminated " + ref + " not found");
    return;
  }
  const std::string path = ContainerLogPath(work_dir_, t.ns, t.pod, k8s::UidOf(*pod), t.container);
  if (!std::ifstream(path)) {
    const k8s::Object& waiting =
        ObjectField(ObjectField(ContainerStatus(*pod, t.container), "state"), "waiting");
    const std::string reason = StringField(waiting, "reason");
    resp.Send(400, "text/plain",
              ref + " is waiting to start: " + (reason.empty() ? "ContainerCreating" : reason));
    return;
  }
  std::string text = ReadFrom(path, 0);
  size_t offset = 0;
  if (std::string tail = req.Query("tailLines"); !tail.empty()) {
    offset = TailOffset(text, std::strtoll(tail.c_str(), nullptr, 10));
  }
  const int64_t limit = std::strtoll(req.Query("limitBytes", "0").c_str(), nullptr, 10);
  if (req.Query("follow") == "true") {
    Follow(path, offset, limit, t.ns, t.pod, t.container, resp);
    return;
  }
  text = text.substr(offset);
  if (limit > 0 && text.size() > static_cast<size_t>(limit)) text.resize(limit);
  resp.Send(200, "text/plain", text);
}

// Streams the file from offset as it grows, until the container is terminated and the file is
// drained, the client goes away, or limitBytes are sent.
void KubeletLogServer::Follow(const std::string& path, size_t offset, int64_t limit,
                              const std::string& ns, const std::string& pod,
                              const std::string& container, k8s::ServerResponse& resp) {
  if (!resp.Begin(200, "text/plain")) return;
  int64_t sent = 0;
  while (resp.Alive()) {
    const bool done = Terminated(pods_.Get(ns, pod).get(), container);  // before the read
    std::string chunk = ReadFrom(path, offset);
    offset += chunk.size();
    if (limit > 0 && sent + static_cast<int64_t>(chunk.size()) >= limit) {
      resp.Write(std::string_view(chunk).substr(0, static_cast<size_t>(limit - sent)));
      return;
    }
    sent += static_cast<int64_t>(chunk.size());
    if (!chunk.empty() && !resp.Write(chunk)) return;
    if (done) return;
    std::this_thread::sleep_for(kFollowPoll);
  }
}

void PublishNodeObjects(k8s::Client& client, const k8s::Clock& clock,
                        const std::vector<NodeSpec>& nodes, int kubelet_port) {
  auto log = AgentLogger("kubelet");
  const auto& res = kNodes;
  for (const NodeSpec& node : nodes) {
    k8s::Object want = NodeObject(node, "127.0.0.1", kubelet_port, clock.Now());
    auto current = client.Get(res, "", node.name);
    if (!current.ok() && current.status().IsNotFound()) current = client.Create(res, "", want);
    if (current.ok()) {
      want["metadata"]["resourceVersion"] = k8s::ResourceVersionOf(*current);
      current = client.Update(res, "", want);  // labels
      if (current.ok()) {
        want["metadata"]["resourceVersion"] = k8s::ResourceVersionOf(*current);
        current = client.UpdateStatus(res, "", want);
      }
    }
    if (!current.ok()) {
      log->warn("node={} not published (pods/log will not reach it): {}", node.name,
                current.status().ToString());
    }
  }
  auto listed = client.List(res, "", {.label_selector = kAgentNodeLabel});
  if (!listed.ok()) return;
  for (const auto& obj : listed->items) {
    bool known = false;
    for (const NodeSpec& node : nodes) known = known || node.name == k8s::NameOf(obj);
    if (known) continue;
    k8s::Status s = client.Delete(res, "", k8s::NameOf(obj));
    if (!s.ok() && !s.IsNotFound()) {
      log->warn("node={} of an earlier run not deleted: {}", k8s::NameOf(obj), s.ToString());
    }
  }
}

}  // namespace stepline::localagent
