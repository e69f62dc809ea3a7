// A pod's volumes as the kubelet sets them up, for one machine: each volume becomes a host
// directory (emptyDir: an empty one under the pod's directory; secret and configMap: their keys
// written as files with defaultMode / items[].mode; hostPath: the path itself), and each
// container's volumeMounts become bind mounts of those directories (subPath: a path inside the
// volume, created as a directory when missing; readOnly) that the process runner makes inside
// the container's private mount namespace.
//
// Stateless functions; PreparePodVolumes writes files under the directory it is given.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "k8sclient/resource.h"
#include "k8sclient/status.h"
#include "localagent/container_env.h"
#include "localagent/sandbox_plan.h"

namespace stepline::localagent {

// Volume name -> the host path that backs it.
using PodVolumes = std::map<std::string, std::string>;

// Sets up every volume of the pod under volumes_dir/<name>. Errors read like the kubelet's:
// Unavailable for what may appear later (`MountVolume.SetUp failed for volume "v" : secret "s"
// not found`: the kubelet waits and tries again), InvalidArgument for what never will (a volume
// type the agent does not provide, a missing key in items).
k8s::Result<PodVolumes> PreparePodVolumes(const k8s::Object& pod, const std::string& volumes_dir,
                                          const EnvSources& sources);

// The bind mounts of one container, sorted so that a mount inside another comes after it.
// Creates a missing subPath directory inside its volume. InvalidArgument names the mount: an
// unknown volume, an absolute subPath or one with "..".
k8s::Result<std::vector<BindMount>> ContainerMounts(const k8s::Object& container,
                                                    const PodVolumes& volumes);

}  // namespace stepline::localagent
