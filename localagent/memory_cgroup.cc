#include "localagent/memory_cgroup.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "localagent/file_util.h"

namespace stepline::localagent {

namespace {

// The value after "key " on its own line of a flat-keyed cgroup file, or -1.
int64_t KeyedValue(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string name;
  int64_t value = 0;
  while (in >> name >> value) {
    if (name == key) return value;
  }
  return -1;
}

}  // namespace

std::string MemoryCgroupOf(const std::string& proc_cgroup_text) {
  std::istringstream in(proc_cgroup_text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t first = line.find(':');
    const size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::istringstream controllers(line.substr(first + 1, second - first - 1));
    std::string controller;
    while (std::getline(controllers, controller, ',')) {
      if (controller == "memory") return line.substr(second + 1);
    }
  }
  return {};
}

int64_t MemoryCgroup::OomKillCount() const {
  const auto control = ReadWholeFile(path_ + "/memory.oom_control");
  if (control) {
    const int64_t kills = KeyedValue(*control, "oom_kill");
    if (kills >= 0) return kills;
  }
  const auto failcnt = ReadWholeFile(path_ + "/memory.failcnt");
  return failcnt && std::atoll(failcnt->c_str()) > 0 ? 1 : 0;
}

std::vector<pid_t> MemoryCgroup::Processes() const {
  std::vector<pid_t> pids;
  const auto text = ReadWholeFile(ProcsFile());
  if (!text) return pids;
  std::istringstream in(*text);
  pid_t pid = 0;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

void MemoryCgroup::SignalAll(int sig) const {
  for (pid_t pid : Processes()) ::kill(pid, sig);
}

bool MemoryCgroup::Remove() const { return ::rmdir(path_.c_str()) == 0 || errno == ENOENT; }

std::unique_ptr<MemoryCgroupRoot> MemoryCgroupRoot::Create(const std::string& mount_point,
                                                           std::string* why_not) {
  if (::access((mount_point + "/memory.limit_in_bytes").c_str(), R_OK) != 0) {
    *why_not = "no cgroup v1 memory controller at " + mount_point;
    return nullptr;
  }
  const auto self = ReadWholeFile("/proc/self/cgroup");
  std::string own = self ? MemoryCgroupOf(*self) : "";
  if (own == "/") own.clear();
  const std::string path =
      mount_point + own + "/stepline-local-agent-" + std::to_string(::getpid());
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    *why_not = "cannot create " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<MemoryCgroupRoot>(new MemoryCgroupRoot(path));
}

MemoryCgroupRoot::~MemoryCgroupRoot() { ::rmdir(path_.c_str()); }

k8s::Result<MemoryCgroup> MemoryCgroupRoot::CreateChild(const std::string& name,
                                                        int64_t limit_bytes) const {
  MemoryCgroup group(path_ + "/" + name);
  if (::mkdir(group.path().c_str(), 0755) != 0 && errno != EEXIST) {
    return k8s::Status::Internal("cannot create cgroup " + group.path() + ": " +
                                 std::strerror(errno));
  }
  if (limit_bytes > 0) {
    const std::string limit = std::to_string(limit_bytes);
    if (!WriteWholeFile(group.path() + "/memory.limit_in_bytes", limit)) {
      group.Remove();
      return k8s::Status::Internal("cannot set memory.limit_in_bytes=" + limit + " on " +
                                   group.path() + ": " + std::strerror(errno));
    }
    const std::string memsw = group.path() + "/memory.memsw.limit_in_bytes";
    if (::access(memsw.c_str(), W_OK) == 0) WriteWholeFile(memsw, limit);
  }
  return group;
}

}  // namespace stepline::localagent
