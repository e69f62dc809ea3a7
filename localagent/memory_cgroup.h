// Memory cgroups (cgroup v1) for containers: one cgroup per container, created under a parent
// cgroup that the agent owns, with memory.limit_in_bytes set from the container's memory limit.
//
// MemoryCgroupRoot finds the memory hierarchy and the agent's own cgroup and makes
// <own cgroup>/stepline-local-agent-<pid> beside it; it removes that directory when destroyed.
// A MemoryCgroup is one container's cgroup.
//
// Thread-safety: both classes are immutable after construction; their methods only read or
// write cgroup files and may be called from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "k8sclient/status.h"

namespace stepline::localagent {

class MemoryCgroup {
 public:
  explicit MemoryCgroup(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  // The file a process writes "0" into to join this cgroup (cgroup v1 cgroup.procs).
  std::string ProcsFile() const { return path_ + "/cgroup.procs"; }
  // How many times the kernel's OOM killer killed a process of this cgroup (the oom_kill line of
  // memory.oom_control). Falls back to "1 if memory.failcnt > 0" on kernels without that line.
  int64_t OomKillCount() const;
  std::vector<pid_t> Processes() const;
  // Sends sig to every process still in the cgroup.
  void SignalAll(int sig) const;
  // rmdir; false while processes remain.
  bool Remove() const;

 private:
  std::string path_;
};

class MemoryCgroupRoot {
 public:
  // nullptr, with *why_not set, when the memory controller is not mounted or not writable.
  static std::unique_ptr<MemoryCgroupRoot> Create(const std::string& mount_point,
                                                  std::string* why_not);
  ~MemoryCgroupRoot();
  MemoryCgroupRoot(const MemoryCgroupRoot&) = delete;
  MemoryCgroupRoot& operator=(const MemoryCgroupRoot&) = delete;

  const std::string& path() const { return path_; }
  // Creates <root>/<name> with the limit (0 = no limit). Swap is limited to the same amount
  // where memory.memsw.limit_in_bytes exists, so a container cannot swap past its limit.
  k8s::Result<MemoryCgroup> CreateChild(const std::string& name, int64_t limit_bytes) const;

 private:
  explicit MemoryCgroupRoot(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// The memory cgroup path of a process from the text of /proc/<pid>/cgroup ("4:memory:/a/b"),
// or "" when there is no memory line. Pure, for tests.
std::string MemoryCgroupOf(const std::string& proc_cgroup_text);

}  // namespace stepline::localagent
