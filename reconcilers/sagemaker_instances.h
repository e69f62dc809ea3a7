// SageMaker instance types (ml.m5.xlarge, ml.p3.2xlarge, ...) as Kubernetes resources: what a
// Processing or Training step's InstanceType gives the step's pod. The figures are AWS's
// published instance specifications (see sagemaker_instances.cc); facts, not policy.
//
// A step gets requests of cpu = the vCPUs and memory = the instance's memory, a memory limit of
// the same (SageMaker's container cannot use more than the instance has), no cpu limit (no
// throttling below what the instance would give), and nvidia.com/gpu requests and limits of the
// GPUs when the instance has any. A node must have that much allocatable: a cluster whose nodes
// are the same machines as the instance types needs a step to ask for a smaller type, or its
// pods stay Pending with the scheduler's message.
//
// Pure, immutable data: safe to call from several threads at once.
#pragma once

#include <string>
#include <string_view>

#include "reconcilers/api_types.h"

namespace stepline::reconcilers::sagemaker {

struct InstanceType {
  std::string_view name;  // "ml.m5.xlarge"
  int vcpus;
  double memory_gib;
  int gpus;  // NVIDIA GPUs
};

// The type, or nullptr when the table does not know it.
const InstanceType* FindInstanceType(std::string_view name);

// The resources a pod of that instance type gets (see above).
ResourceRequirements InstanceResources(const InstanceType& type);

// "ml.c4, ml.c5, ml.g4dn, ...": the families of the known types, for messages.
std::string KnownInstanceFamilies();

// Sets the step's resources to those of the type (requests and limits key by key; keys the type
// does not give stay as they are).
void SetInstanceResources(const InstanceType& type, Step* step);

}  // namespace stepline::reconcilers::sagemaker
