#include "localagent/sandbox_plan.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "localagent/file_util.h"

namespace stepline::localagent {

namespace {

using Kind = SandboxStep::Kind;

constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};

bool UnderDev(const std::string& path) { return path.rfind("/dev/", 0) == 0; }

// The number of components of an absolute path ("/a/b/" is 2).
size_t Depth(const std::string& path) {
  size_t depth = 0;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '/' && (i == 0 || path[i - 1] == '/')) ++depth;
  }
  return depth;
}

// path lies strictly below dir.
bool IsUnder(std::string path, std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path.size() > dir.size() + 1 && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

// The mount point of m inside an already bound volume: a directory, or an empty file in its
// (created) directory.
void AddMountPoint(const BindMount& m, std::vector<SandboxStep>* plan) {
  std::error_code ec;
  if (std::filesystem::is_directory(m.source, ec)) {
    plan->push_back({Kind::kMakeDirs, "", m.target});
    return;
  }
  plan->push_back({Kind::kMakeDirs, "", std::filesystem::path(m.target).parent_path().string()});
  plan->push_back({Kind::kCreateFile, "", m.target});
}

}  // namespace

std::vector<SandboxStep> BuildSandboxPlan(const std::string& stage_dir,
                                          const std::string& termination_host_file,
                                          const std::string& termination_path,
                                          const std::vector<BindMount>& mounts) {
  std::vector<SandboxStep> plan;
  plan.push_back({Kind::kMountTmpfs, "", stage_dir});
  for (const char* dev : kDevices) {
    const std::string target = stage_dir + "/" + dev;
    plan.push_back({Kind::kCreateFile, "", target});
    plan.push_back({Kind::kBind, std::string("/dev/") + dev, target});
  }
  plan.push_back({Kind::kMakeDir, "", stage_dir + "/pts"});
  plan.push_back({Kind::kBind, "/dev/pts", stage_dir + "/pts"});
  plan.push_back({Kind::kMakeDir, "", stage_dir + "/shm"});
  plan.push_back({Kind::kMountTmpfs, "", stage_dir + "/shm"});
  plan.push_back({Kind::kSymlink, "/proc/self/fd", stage_dir + "/fd"});
  plan.push_back({Kind::kSymlink, "/proc/self/fd/0", stage_dir + "/stdin"});
  plan.push_back({Kind::kSymlink, "/proc/self/fd/1", stage_dir + "/stdout"});
  plan.push_back({Kind::kSymlink, "/proc/self/fd/2", stage_dir + "/stderr"});
  plan.push_back({Kind::kSymlink, "pts/ptmx", stage_dir + "/ptmx"});
  const bool in_dev = UnderDev(termination_path) &&
                      termination_path.find('/', 5) == std::string::npos &&
                      termination_path.size() > 5;
  if (in_dev && !termination_host_file.empty()) {
    const std::string target = stage_dir + termination_path.substr(4);
    plan.push_back({Kind::kCreateFile, "", target});
    plan.push_back({Kind::kBind, termination_host_file, target});
  }
  plan.push_back({Kind::kMove, stage_dir, "/dev"});
  if (!in_dev && !termination_path.empty() && !termination_host_file.empty()) {
    // Elsewhere than /dev: the mount point must exist on the host file system.
    plan.push_back({Kind::kCreateFile, "", termination_path});
    plan.push_back({Kind::kBind, termination_host_file, termination_path});
  }
  std::vector<BindMount> ordered = mounts;
  std::stable_sort(ordered.begin(), ordered.end(), [](const BindMount& a, const BindMount& b) {
    return Depth(a.target) < Depth(b.target);
  });
  for (size_t i = 0; i < ordered.size(); ++i) {
    const BindMount& m = ordered[i];
    const bool nested = std::any_of(ordered.begin(), ordered.begin() + i, [&](const BindMount& p) {
      return IsUnder(m.target, p.target);
    });
    if (nested) AddMountPoint(m, &plan);
    plan.push_back({Kind::kBind, m.source, m.target});
    if (m.read_only) plan.push_back({Kind::kReadOnly, "", m.target});
  }
  return plan;
}

bool PrepareMountPoint(const BindMount& mount) {
  std::error_code ec;
  if (std::filesystem::is_directory(mount.source, ec)) return MakeDirs(mount.target);
  if (std::filesystem::exists(mount.target, ec)) return true;
  const std::string parent = std::filesystem::path(mount.target).parent_path().string();
  if (!parent.empty() && !MakeDirs(parent)) return false;
  return std::ofstream(mount.target, std::ios::app).good();
}

const char* SandboxStepName(SandboxStep::Kind kind) {
  switch (kind) {
    case Kind::kMountTmpfs:
      return "mount tmpfs";
    case Kind::kCreateFile:
      return "create mount point";
    case Kind::kMakeDir:
      return "mkdir";
    case Kind::kMakeDirs:
      return "mkdir -p";
    case Kind::kBind:
      return "bind mount";
    case Kind::kSymlink:
      return "symlink";
    case Kind::kMove:
      return "move mount";
    case Kind::kReadOnly:
      return "read-only remount";
  }
  return "step";
}

}  // namespace stepline::localagent
