// SageMaker instance types (ml.m5.xlarge, ml.p3.2xlarge, ...) as Kubernetes resources: what a
// Processing or Training step's InstanceType gives the step's pod. The built-in figures are
// AWS's published instance specifications (see sagemaker_instances.cc); facts, not policy.
//
// A step gets requests of cpu = the vCPUs and memory = the instance's memory, a memory limit of
// the same (SageMaker's container cannot use more than the instance has), no cpu limit (no
// throttling below what the instance would give), and nvidia.com/gpu requests and limits of the
// GPUs when the instance has any. A node must have that much allocatable: a cluster whose nodes
// are the same machines as the instance types needs a step to ask for a smaller type, or its
// pods stay Pending with the scheduler's message.
//
// A cluster changes the table with the ConfigMap kInstanceTypesConfigMap in the controller's
// namespace: one data key per instance type, each value "cpu=8,memory=61Gi,gpu=1" (see
// ParseInstanceTypes). An entry replaces the built-in figures of that type (a key it leaves out
// keeps the built-in figure) or adds a type the built-in table lacks. The controller installs
// the table it reads with SetClusterInstanceTypes; everything that compiles a definition
// (validation, the Pipeline's status, an execution's snapshot) looks types up in it.
//
// Thread-safety: the built-in table is immutable; the cluster table is swapped whole under a
// mutex, so FindInstanceType and SetClusterInstanceTypes may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reconcilers/api_types.h"

namespace stepline::reconcilers::sagemaker {

// The ConfigMap, in the controller's namespace, that overrides the table for the cluster.
inline constexpr const char* kInstanceTypesConfigMap = "stepline-instance-types";

struct InstanceType {
  std::string name;    // "ml.m5.xlarge"
  std::string cpu;     // a Kubernetes quantity: "4", "3500m"
  std::string memory;  // a Kubernetes quantity: "16Gi", "7680Mi"
  int64_t gpus = 0;    // NVIDIA GPUs
};

// The built-in table with a cluster's entries over it. Immutable once built.
class InstanceTypeTable {
 public:
  InstanceTypeTable() = default;  // the built-in table only
  // The built-in table with these entries over it (by name; each entry whole).
  explicit InstanceTypeTable(std::map<std::string, InstanceType, std::less<>> entries)
      : entries_(std::move(entries)) {}

  // The type (an entry of the cluster's, else the built-in one), or nullopt when neither knows it.
  std::optional<InstanceType> Find(std::string_view name) const;
  // "ml.c4, ml.c5, ml.g4dn, ...": the families of the known types, for messages.
  std::string KnownFamilies() const;

 private:
  std::map<std::string, InstanceType, std::less<>> entries_;  // the cluster's, by name
};

// What a ConfigMap's data gives: the table, and one line per entry that was not used.
struct ParsedInstanceTypes {
  InstanceTypeTable table;
  // "key \"ml.m5.xlarge\": memory \"lots\" is not a Kubernetes quantity; the built-in value is used
  // (4 CPUs, 16Gi memory, no GPU)"
  std::vector<std::string> problems;
};

// The data of the ConfigMap: each key an instance type name ("ml." then the family and size),
// each value a comma-separated list of cpu=QUANTITY, memory=QUANTITY and gpu=COUNT (spaces
// around the items allowed). For a type of the built-in table any of the three may be given,
// the others keep their built-in figures; a new type needs cpu and memory (gpu defaults to 0).
// An entry with a problem (an unknown item, a repeated item, a quantity that does not parse or
// is not positive, a gpu count that is no whole number >= 0, a key that is not an ml.* name) is
// left out whole, and a problem line says why and what is used instead.
ParsedInstanceTypes ParseInstanceTypes(const std::map<std::string, std::string>& data);

// The table of the cluster: the built-in one until SetClusterInstanceTypes installs another.
std::shared_ptr<const InstanceTypeTable> ClusterInstanceTypes();
// null: back to the built-in table.
void SetClusterInstanceTypes(std::shared_ptr<const InstanceTypeTable> table);

// ClusterInstanceTypes()->Find(name).
std::optional<InstanceType> FindInstanceType(std::string_view name);

// The resources a pod of that instance type gets (see above).
ResourceRequirements InstanceResources(const InstanceType& type);

// ClusterInstanceTypes()->KnownFamilies().
std::string KnownInstanceFamilies();

// Sets the step's resources to those of the type (requests and limits key by key; keys the type
// does not give stay as they are).
void SetInstanceResources(const InstanceType& type, Step* step);

}  // namespace stepline::reconcilers::sagemaker
