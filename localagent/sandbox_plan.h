// The private /dev a container process gets: built in a new mount namespace, so that
// /dev/termination-log is a per-pod file while the host's /dev is left alone; then the
// container's volume mounts, bound over their mount paths in the same namespace.
//
// The plan is computed in the parent (allocations allowed) and executed by the forked child
// with system calls only (async-signal-safe). Pure data; no shared state.
#pragma once

#include <string>
#include <vector>

namespace stepline::localagent {

struct SandboxStep {
  enum class Kind {
    kMountTmpfs,  // mount a fresh tmpfs on target
    kCreateFile,  // create an empty file target (mount point for a bind)
    kMakeDir,     // mkdir target
    kMakeDirs,    // mkdir target and its missing parents (a mount point inside another volume)
    kBind,        // bind-mount source onto target
    kSymlink,     // symlink target -> source
    kMove,        // move the mount at source onto target (MS_MOVE)
    kReadOnly,    // remount the bind mount at target read-only
  };
  Kind kind;
  std::string source;
  std::string target;
};

// A volume mount: the host directory or file source is seen at target (its mount point must
// exist on the host file system: see PrepareMountPoint).
struct BindMount {
  std::string source;
  std::string target;
  bool read_only = false;
};

// The volume mounts are bound parents first (by the depth of their target, as container
// runtimes sort them); a mount point inside another volume (/opt/ml/input under /opt/ml) is
// created in that volume once it is bound, as a runtime creates it.
//
// stage_dir: an empty host directory used as the mount point of the new /dev before it is moved
// over /dev. termination_host_file: the pod's file. termination_path: where the container sees
// it (terminationMessagePath, "/dev/termination-log" by default).
std::vector<SandboxStep> BuildSandboxPlan(const std::string& stage_dir,
                                          const std::string& termination_host_file,
                                          const std::string& termination_path,
                                          const std::vector<BindMount>& mounts = {});

// Creates the mount point of a bind mount on the host, as a container runtime creates it in the
// image: a directory (with its parents) when the source is a directory, else an empty file.
// False when it cannot.
bool PrepareMountPoint(const BindMount& mount);

const char* SandboxStepName(SandboxStep::Kind kind);

}  // namespace stepline::localagent
