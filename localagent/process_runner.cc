#include "localagent/process_runner.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <sstream>

#include "localagent/file_util.h"
#include "localagent/sandbox_plan.h"

namespace stepline::localagent {

// Everything the child needs, prepared before fork so that the child only makes system calls.
struct ChildPlan {
  std::vector<SandboxStep> sandbox;
  bool new_mount_namespace = false;
  std::string cgroup_procs;
  std::string working_dir;
  std::string log_path;
  std::string executable;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// What the child reports through the error pipe when it cannot exec.
struct ChildError {
  int stage = 0;  // <0: a ChildStage; >=0: index of the failed sandbox step
  int err = 0;
};

enum ChildStage {
  kStageNamespace = -1,
  kStageCgroup = -2,
  kStageDir = -3,
  kStageLog = -4,
  kStageExec = -5
};

[[noreturn]] void FailChild(int fd, int stage, int err) {
  ChildError e{stage, err};
  ssize_t ignored = ::write(fd, &e, sizeof(e));
  (void)ignored;
  ::_exit(127);
}

// mkdir -p with system calls only (it runs in the forked child): each missing component of path,
// an absolute path shorter than PATH_MAX. 0, or -1 with errno.
int MakeDirsInChild(const char* path) {
  char buffer[PATH_MAX];
  const size_t length = std::strlen(path);
  if (length == 0 || length >= sizeof(buffer)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(buffer, path, length + 1);
  for (size_t i = 1; i <= length; ++i) {
    if (buffer[i] != '/' && buffer[i] != '\0') continue;
    const char saved = buffer[i];
    buffer[i] = '\0';
    if (::mkdir(buffer, 0755) != 0 && errno != EEXIST) return -1;
    buffer[i] = saved;
  }
  return 0;
}

int RunSandboxStep(const SandboxStep& s) {
  using Kind = SandboxStep::Kind;
  const char* t = s.target.c_str();
  switch (s.kind) {
    case Kind::kMountTmpfs:
      return ::mount("tmpfs", t, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k");
    case Kind::kCreateFile: {
      int fd = ::open(t, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      return fd < 0 ? -1 : ::close(fd);
    }
    case Kind::kMakeDir:
      return ::mkdir(t, 0755);
    case Kind::kMakeDirs:
      return MakeDirsInChild(t);
    case Kind::kBind:
      return ::mount(s.source.c_str(), t, nullptr, MS_BIND | MS_REC, nullptr);
    case Kind::kSymlink:
      return ::symlink(s.source.c_str(), t);
    case Kind::kMove:
      return ::mount(s.source.c_str(), t, nullptr, MS_MOVE, nullptr);
    case Kind::kReadOnly:
      return ::mount(nullptr, t, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr);
  }
  return -1;
}

void EnterSandbox(const ChildPlan& plan, int err_fd) {
  if (::unshare(CLONE_NEWNS) != 0) FailChild(err_fd, kStageNamespace, errno);
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    FailChild(err_fd, kStageNamespace, errno);
  }
  for (size_t i = 0; i < plan.sandbox.size(); ++i) {
    if (RunSandboxStep(plan.sandbox[i]) != 0) FailChild(err_fd, static_cast<int>(i), errno);
  }
}

void RedirectOutput(const ChildPlan& plan, int err_fd) {
  int devnull = ::open("/dev/null", O_RDONLY);
  int log = ::open(plan.log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (log < 0 || devnull < 0) FailChild(err_fd, kStageLog, errno);
  ::dup2(devnull, 0);
  ::dup2(log, 1);
  ::dup2(log, 2);
  if (devnull > 2) ::close(devnull);
  if (log > 2) ::close(log);
}

[[noreturn]] void RunChild(const ChildPlan& plan, int err_fd) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
  ::setsid();
  if (!plan.cgroup_procs.empty()) {
    int fd = ::open(plan.cgroup_procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "0", 1) != 1) FailChild(err_fd, kStageCgroup, errno);
    ::close(fd);
  }
  if (plan.new_mount_namespace) EnterSandbox(plan, err_fd);
  if (::chdir(plan.working_dir.c_str()) != 0) FailChild(err_fd, kStageDir, errno);
  RedirectOutput(plan, err_fd);
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execve(plan.executable.c_str(), plan.argv.data(), plan.envp.data());
  FailChild(err_fd, kStageExec, errno);
}

std::string EnvValue(const std::vector<std::string>& env, const std::string& name) {
  std::string value;
  bool found = false;
  for (const auto& entry : env) {
    if (entry.rfind(name + "=", 0) == 0) {
      value = entry.substr(name.size() + 1);
      found = true;
    }
  }
  return found ? value : std::string(kDefaultPath);
}

std::string DescribeChildError(const ChildPlan& plan, const ChildError& e,
                               const std::string& name) {
  const std::string reason = std::strerror(e.err);
  if (e.stage >= 0 && static_cast<size_t>(e.stage) < plan.sandbox.size()) {
    const SandboxStep& step = plan.sandbox[static_cast<size_t>(e.stage)];
    return "container sandbox: " + std::string(SandboxStepName(step.kind)) + " " + step.target +
           ": " + reason;
  }
  switch (e.stage) {
    case kStageNamespace:
      return "container sandbox: new mount namespace: " + reason;
    case kStageCgroup:
      return "joining memory cgroup: " + reason;
    case kStageDir:
      return "chdir to " + plan.working_dir + ": " + reason;
    case kStageLog:
      return "opening log " + plan.log_path + ": " + reason;
    default:
      return "exec: \"" + name + "\": " + reason;
  }
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::optional<std::string> ResolveExecutable(const std::string& name, const std::string& path_env,
                                             const std::string& working_dir) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    const std::string full = name[0] == '/' ? name : working_dir + "/" + name;
    return ::access(full.c_str(), X_OK) == 0 ? std::optional<std::string>(name) : std::nullopt;
  }
  std::istringstream dirs(path_env.empty() ? kDefaultPath : path_env);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

ProcessRunner::ProcessRunner(const MemoryCgroupRoot* cgroup_root, bool use_mount_namespace)
    : cgroup_root_(cgroup_root), use_mount_namespace_(use_mount_namespace) {
  reaper_ = std::thread([this] { ReapLoop(); });
}

ProcessRunner::~ProcessRunner() {
  {
    k8s::MutexLock lock(mu_);
    stopping_ = true;
    wake_.SignalAll();
  }
  reaper_.join();
}

k8s::Result<pid_t> ProcessRunner::Start(const ProcessSpec& spec, ExitCallback on_exit) {
  if (spec.argv.empty()) return k8s::Status::InvalidArgument("no command given");
  auto executable = ResolveExecutable(spec.argv[0], EnvValue(spec.env, "PATH"), spec.working_dir);
  if (!executable) {
    const bool path_lookup = spec.argv[0].find('/') == std::string::npos;
    return k8s::Status::InvalidArgument(
        "exec: \"" + spec.argv[0] + "\": " +
        (path_lookup ? "executable file not found in $PATH" : "no such file or directory"));
  }
  ChildPlan plan;
  plan.executable = *executable;
  plan.working_dir = spec.working_dir;
  plan.log_path = spec.log_path;
  plan.new_mount_namespace = use_mount_namespace_;
  if (!spec.mounts.empty() && !use_mount_namespace_) {
    return k8s::Status::InvalidArgument(
        "volume mounts need a private mount namespace, which this machine does not allow");
  }
  if (use_mount_namespace_) {
    MakeDirs(spec.sandbox_dir);
    for (const BindMount& m : spec.mounts) {
      if (!PrepareMountPoint(m)) {
        return k8s::Status::Internal("cannot create the mount point " + m.target);
      }
    }
    plan.sandbox = BuildSandboxPlan(spec.sandbox_dir, spec.termination_message_host_file,
                                    spec.termination_message_path, spec.mounts);
  }
  Entry entry;
  entry.on_exit = std::move(on_exit);
  if (cgroup_root_ != nullptr) {
    auto group = cgroup_root_->CreateChild(spec.name, spec.memory_limit_bytes);
    if (!group.ok()) return group.status();
    plan.cgroup_procs = group->ProcsFile();
    entry.cgroup = *group;
  }
  plan.argv = CStrings(spec.argv);
  plan.envp = CStrings(spec.env);
  return Launch(plan, std::move(entry), spec.argv[0]);
}

// Forks the child and waits until it has exec'd (or reported why it could not).
k8s::Result<pid_t> ProcessRunner::Launch(const ChildPlan& plan, Entry entry,
                                         const std::string& name) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    if (entry.cgroup) entry.cgroup->Remove();
    return k8s::Status::Internal(std::string("pipe: ") + std::strerror(errno));
  }
  pid_t pid = 0;
  int fork_errno = 0;
  {
    // Held across the fork, so that the reaper cannot see the child exit before it is known.
    k8s::MutexLock lock(mu_);
    pid = ::fork();
    if (pid == 0) RunChild(plan, pipe_fds[1]);
    if (pid < 0) {
      fork_errno = errno;
      if (entry.cgroup) entry.cgroup->Remove();
    } else {
      running_.emplace(pid, std::move(entry));
      wake_.SignalAll();
    }
  }
  if (pid < 0) {
    ::close(pipe_fds[1]);
    ::close(pipe_fds[0]);
    return k8s::Status::Internal(std::string("fork: ") + std::strerror(fork_errno));
  }
  ::close(pipe_fds[1]);
  ChildError error;
  ssize_t n;
  do {
    n = ::read(pipe_fds[0], &error, sizeof(error));
  } while (n < 0 && errno == EINTR);
  ::close(pipe_fds[0]);
  if (n == static_cast<ssize_t>(sizeof(error))) {
    k8s::MutexLock relock(mu_);
    auto it = running_.find(pid);
    if (it != running_.end()) it->second.on_exit = nullptr;  // never started: no exit to report
    return k8s::Status::InvalidArgument(DescribeChildError(plan, error, name));
  }
  return pid;
}

void ProcessRunner::Signal(pid_t pid, int sig) {
  std::optional<MemoryCgroup> group;
  {
    k8s::MutexLock lock(mu_);
    auto it = running_.find(pid);
    if (it == running_.end()) return;
    group = it->second.cgroup;
  }
  ::kill(-pid, sig);
  ::kill(pid, sig);
  if (group) group->SignalAll(sig);
}

bool ProcessRunner::Running(pid_t pid) const {
  k8s::MutexLock lock(mu_);
  return running_.count(pid) > 0;
}

void ProcessRunner::ReapLoop() {
  while (true) {
    // Peek first: the exited child stays a zombie, so its pid (and process group id) cannot be
    // reused while what is left of its session is killed.
    siginfo_t info{};
    const int rc = ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT);
    if (rc == 0 && info.si_pid > 0) {
      const pid_t pid = info.si_pid;
      ::kill(-pid, SIGKILL);
      int status = 0;
      ::waitpid(pid, &status, 0);
      HandleExit(pid, status);
      continue;
    }
    const bool no_children = rc < 0 && errno == ECHILD;
    k8s::MutexLock lock(mu_);
    if (stopping_ && (running_.empty() || no_children)) return;
    wake_.WaitFor(mu_, std::chrono::milliseconds(50));
  }
}

void ProcessRunner::HandleExit(pid_t pid, int wait_status) {
  Entry entry;
  {
    k8s::MutexLock lock(mu_);
    auto it = running_.find(pid);
    if (it == running_.end()) return;  // not ours (an orphan we inherited)
    entry = std::move(it->second);
    running_.erase(it);
  }
  ProcessExit exit;
  if (WIFEXITED(wait_status)) {
    exit.exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    exit.signal = WTERMSIG(wait_status);
    exit.exit_code = 128 + exit.signal;
  }
  if (entry.cgroup) {
    exit.oom_killed = entry.cgroup->OomKillCount() > 0;
    entry.cgroup->SignalAll(SIGKILL);
    for (int i = 0; i < 100 && !entry.cgroup->Remove(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (entry.on_exit) entry.on_exit(exit);
}

bool ProcessRunner::ProbeMountNamespace(const std::string& scratch_dir, std::string* why_not) {
  const std::string stage = scratch_dir + "/probe-" + std::to_string(::getpid());
  if (!MakeDirs(stage)) {
    *why_not = "cannot create " + stage;
    return false;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0) ::_exit(1);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(2);
    if (::mount("tmpfs", stage.c_str(), "tmpfs", 0, "size=64k") != 0) ::_exit(3);
    ::_exit(0);
  }
  int status = 0;
  while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::rmdir(stage.c_str());
  const bool ok = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!ok) *why_not = "no private mount namespace (unshare/mount not permitted)";
  return ok;
}

}  // namespace stepline::localagent
