// The table of SageMaker instance types. Source: AWS's published specifications of the ml.*
// instance types, which are those of the EC2 types of the same name:
//   https://aws.amazon.com/sagemaker/ai/pricing/ (the instance details: vCPU, memory, GPUs)
//   https://aws.amazon.com/ec2/instance-types/ (the same figures per EC2 family)
// Memory is in GiB as AWS states it. A type missing here is an error naming the step and field;
// add a line to support it.
#include "reconcilers/sagemaker_instances.h"

#include <array>
#include <cmath>
#include <set>
#include <string>

namespace stepline::reconcilers::sagemaker {
namespace {

constexpr std::array<InstanceType, 74> kInstanceTypes{{
    // general purpose, burstable
    {"ml.t2.medium", 2, 4, 0},
    {"ml.t2.large", 2, 8, 0},
    {"ml.t2.xlarge", 4, 16, 0},
    {"ml.t2.2xlarge", 8, 32, 0},
    {"ml.t3.medium", 2, 4, 0},
    {"ml.t3.large", 2, 8, 0},
    {"ml.t3.xlarge", 4, 16, 0},
    {"ml.t3.2xlarge", 8, 32, 0},
    // general purpose
    {"ml.m4.xlarge", 4, 16, 0},
    {"ml.m4.2xlarge", 8, 32, 0},
    {"ml.m4.4xlarge", 16, 64, 0},
    {"ml.m4.10xlarge", 40, 160, 0},
    {"ml.m4.16xlarge", 64, 256, 0},
    {"ml.m5.large", 2, 8, 0},
    {"ml.m5.xlarge", 4, 16, 0},
    {"ml.m5.2xlarge", 8, 32, 0},
    {"ml.m5.4xlarge", 16, 64, 0},
    {"ml.m5.12xlarge", 48, 192, 0},
    {"ml.m5.24xlarge", 96, 384, 0},
    {"ml.m6i.large", 2, 8, 0},
    {"ml.m6i.xlarge", 4, 16, 0},
    {"ml.m6i.2xlarge", 8, 32, 0},
    {"ml.m6i.4xlarge", 16, 64, 0},
    {"ml.m6i.8xlarge", 32, 128, 0},
    {"ml.m6i.12xlarge", 48, 192, 0},
    {"ml.m6i.16xlarge", 64, 256, 0},
    {"ml.m6i.24xlarge", 96, 384, 0},
    {"ml.m6i.32xlarge", 128, 512, 0},
    // compute optimized
    {"ml.c4.xlarge", 4, 7.5, 0},
    {"ml.c4.2xlarge", 8, 15, 0},
    {"ml.c4.4xlarge", 16, 30, 0},
    {"ml.c4.8xlarge", 36, 60, 0},
    {"ml.c5.large", 2, 4, 0},
    {"ml.c5.xlarge", 4, 8, 0},
    {"ml.c5.2xlarge", 8, 16, 0},
    {"ml.c5.4xlarge", 16, 32, 0},
    {"ml.c5.9xlarge", 36, 72, 0},
    {"ml.c5.18xlarge", 72, 144, 0},
    // memory optimized
    {"ml.r5.large", 2, 16, 0},
    {"ml.r5.xlarge", 4, 32, 0},
    {"ml.r5.2xlarge", 8, 64, 0},
    {"ml.r5.4xlarge", 16, 128, 0},
    {"ml.r5.12xlarge", 48, 384, 0},
    {"ml.r5.24xlarge", 96, 768, 0},
    // accelerated: NVIDIA K80 (p2), V100 (p3), A100 (p4d), T4 (g4dn), A10G (g5)
    {"ml.p2.xlarge", 4, 61, 1},
    {"ml.p2.8xlarge", 32, 488, 8},
    {"ml.p2.16xlarge", 64, 732, 16},
    {"ml.p3.2xlarge", 8, 61, 1},
    {"ml.p3.8xlarge", 32, 244, 4},
    {"ml.p3.16xlarge", 64, 488, 8},
    {"ml.p3dn.24xlarge", 96, 768, 8},
    {"ml.p4d.24xlarge", 96, 1152, 8},
    {"ml.g4dn.xlarge", 4, 16, 1},
    {"ml.g4dn.2xlarge", 8, 32, 1},
    {"ml.g4dn.4xlarge", 16, 64, 1},
    {"ml.g4dn.8xlarge", 32, 128, 1},
    {"ml.g4dn.12xlarge", 48, 192, 4},
    {"ml.g4dn.16xlarge", 64, 256, 1},
    {"ml.g5.xlarge", 4, 16, 1},
    {"ml.g5.2xlarge", 8, 32, 1},
    {"ml.g5.4xlarge", 16, 64, 1},
    {"ml.g5.8xlarge", 32, 128, 1},
    {"ml.g5.12xlarge", 48, 192, 4},
    {"ml.g5.16xlarge", 64, 256, 1},
    {"ml.g5.24xlarge", 96, 384, 4},
    {"ml.g5.48xlarge", 192, 768, 8},
    // storage optimized / older general purpose still offered for processing
    {"ml.m5d.large", 2, 8, 0},
    {"ml.m5d.xlarge", 4, 16, 0},
    {"ml.m5d.2xlarge", 8, 32, 0},
    {"ml.m5d.4xlarge", 16, 64, 0},
    {"ml.m5d.12xlarge", 48, 192, 0},
    {"ml.m5d.24xlarge", 96, 384, 0},
    {"ml.c5d.xlarge", 4, 8, 0},
    {"ml.c5d.2xlarge", 8, 16, 0},
}};

// "16Gi", or "7680Mi" for a memory that is no whole number of GiB.
std::string MemoryQuantity(double gib) {
  if (gib == std::floor(gib)) return std::to_string(static_cast<int64_t>(gib)) + "Gi";
  return std::to_string(static_cast<int64_t>(gib * 1024)) + "Mi";
}

}  // namespace

const InstanceType* FindInstanceType(std::string_view name) {
  for (const InstanceType& type : kInstanceTypes) {
    if (type.name == name) return &type;
  }
  return nullptr;
}

ResourceRequirements InstanceResources(const InstanceType& type) {
  ResourceRequirements out;
  out.requests["cpu"] = std::to_string(type.vcpus);
  out.requests["memory"] = MemoryQuantity(type.memory_gib);
  out.limits["memory"] = out.requests["memory"];
  if (type.gpus > 0) {
    out.requests["nvidia.com/gpu"] = std::to_string(type.gpus);
    out.limits["nvidia.com/gpu"] = out.requests["nvidia.com/gpu"];
  }
  return out;
}

void SetInstanceResources(const InstanceType& type, Step* step) {
  ResourceRequirements resources = InstanceResources(type);
  if (!step->resources) step->resources = ResourceRequirements{};
  for (const auto& [key, value] : resources.requests) step->resources->requests[key] = value;
  for (const auto& [key, value] : resources.limits) step->resources->limits[key] = value;
}

std::string KnownInstanceFamilies() {
  std::set<std::string> families;  // "ml.m5"
  for (const InstanceType& type : kInstanceTypes) {
    families.insert(std::string(type.name.substr(0, type.name.rfind('.'))));
  }
  std::string out;
  for (const std::string& family : families) out += (out.empty() ? "" : ", ") + family;
  return out;
}

}  // namespace stepline::reconcilers::sagemaker
