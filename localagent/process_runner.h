// ProcessRunner: runs a container's command as a local process, the way a container runtime
// would as far as the API can tell: its own session, a private mount namespace whose /dev holds
// the pod's termination-log file and where its volumes are bound at their mount paths, a memory
// cgroup with the container's limit, stdout and stderr appended to a log file, and an exit status
// that tells an OOM kill from other signals.
//
// Thread-safety: Start, Signal and Running may be called from any thread. Exit callbacks run on
// the runner's reaper thread, one at a time; they must not call Start or block for long.
// Fields are constant after construction or GUARDED_BY mu_.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "k8sclient/status.h"
#include "k8sclient/thread_annotations.h"
#include "localagent/memory_cgroup.h"
#include "localagent/sandbox_plan.h"

namespace stepline::localagent {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in the PATH of env when it has no '/'
  std::vector<std::string> env;   // "NAME=value", the whole environment
  std::string working_dir;        // must exist
  std::string log_path;           // stdout and stderr, appended
  // The pod's termination-log file and where the container sees it ("" = none).
  std::string termination_message_host_file;
  std::string termination_message_path;
  std::string sandbox_dir;         // an empty directory for building the private /dev
  std::vector<BindMount> mounts;   // volume mounts (need the private mount namespace)
  int64_t memory_limit_bytes = 0;  // 0 = no limit
  std::string name;                // unique; names the cgroup
};

struct ChildPlan;  // what a forked child does before exec (process_runner.cc)

struct ProcessExit {
  int exit_code = 0;  // the exit status, or 128 + the signal that killed it
  int signal = 0;     // the signal that killed it, or 0
  bool oom_killed = false;
};

class ProcessRunner {
 public:
  using ExitCallback = std::function<void(const ProcessExit&)>;

  // cgroup_root may be null: no memory limits. Without use_mount_namespace the termination-log
  // path is not provided to the process. cgroup_root must outlive the runner.
  ProcessRunner(const MemoryCgroupRoot* cgroup_root, bool use_mount_namespace);
  ~ProcessRunner();
  ProcessRunner(const ProcessRunner&) = delete;
  ProcessRunner& operator=(const ProcessRunner&) = delete;

  // Starts the process; on_exit is called once when it has exited. An error means it never ran:
  // the message reads like a runtime's ("exec: \"x\": executable file not found in $PATH").
  k8s::Result<pid_t> Start(const ProcessSpec& spec, ExitCallback on_exit) EXCLUDES(mu_);
  // Sends sig to the process's session and to everything left in its cgroup.
  void Signal(pid_t pid, int sig) EXCLUDES(mu_);
  bool Running(pid_t pid) const EXCLUDES(mu_);

  // Forks a child that tries to build a private /dev; false (with why_not) when it cannot.
  static bool ProbeMountNamespace(const std::string& scratch_dir, std::string* why_not);

 private:
  struct Entry {
    std::optional<MemoryCgroup> cgroup;
    ExitCallback on_exit;
  };
  k8s::Result<pid_t> Launch(const ChildPlan& plan, Entry entry, const std::string& name)
      EXCLUDES(mu_);
  void ReapLoop() EXCLUDES(mu_);
  void HandleExit(pid_t pid, int wait_status) EXCLUDES(mu_);

  const MemoryCgroupRoot* const cgroup_root_;  // constant after construction
  const bool use_mount_namespace_;             // constant after construction
  mutable k8s::Mutex mu_;
  k8s::CondVar wake_;
  std::map<pid_t, Entry> running_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread reaper_;
};

// The executable for name given the container's PATH ("" = the default search path) and
// working directory; nullopt when not found. A name with a '/' is used as it is.
std::optional<std::string> ResolveExecutable(const std::string& name, const std::string& path_env,
                                             const std::string& working_dir);

}  // namespace stepline::localagent
