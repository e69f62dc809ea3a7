// The table of SageMaker instance types. Source: AWS's published specifications of the ml.*
// instance types, which are those of the EC2 types of the same name:
//   https://aws.amazon.com/sagemaker/ai/pricing/ (the instance details: vCPU, memory, GPUs)
//   https://aws.amazon.com/ec2/instance-types/ (the same figures per EC2 family)
// Memory is in GiB as AWS states it. A type missing here is an error naming the step and field;
// add a line to support it, or give it in the cluster's ConfigMap (sagemaker_instances.h).
#include "reconcilers/sagemaker_instances.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <set>
#include <string>

#include "k8sclient/quantity.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::reconcilers::sagemaker {
namespace {

struct BuiltInType {
  std::string_view name;  // "ml.m5.xlarge"
  int vcpus;
  double memory_gib;
  int gpus;  // NVIDIA GPUs
};

constexpr std::array<BuiltInType, 74> kInstanceTypes{{
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

std::optional<InstanceType> FindBuiltIn(std::string_view name) {
  for (const BuiltInType& type : kInstanceTypes) {
    if (type.name == name) {
      return InstanceType{std::string(type.name), std::to_string(type.vcpus),
                          MemoryQuantity(type.memory_gib), type.gpus};
    }
  }
  return std::nullopt;
}

std::string Trim(std::string_view text) {
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return std::string(text);
}

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// "ml." then a family and a size of lower-case letters and digits: "ml.m5.xlarge".
bool IsInstanceTypeName(std::string_view name) {
  if (!name.starts_with("ml.") || name.size() > 63) return false;
  const std::string_view rest = name.substr(3);
  const size_t dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == rest.size()) return false;
  return std::all_of(rest.begin(), rest.end(), [](char c) {
    return c == '.' || std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c));
  });
}

// "" after setting the item (cpu=, memory=, gpu=) on type; else what is wrong with it.
std::string SetItem(const std::string& key, const std::string& value, InstanceType* type) {
  if (key == "gpu") {
    if (value.empty() || value.size() > 4 || !std::all_of(value.begin(), value.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        })) {
      return "gpu " + Quoted(value) + " is not a whole number of GPUs (0 to 9999)";
    }
    type->gpus = std::stoll(value);
    return "";
  }
  if (key != "cpu" && key != "memory") {
    return Quoted(key) + " is not one of cpu, memory, gpu";
  }
  k8s::Result<k8s::Quantity> quantity = k8s::Quantity::Parse(value);
  if (!quantity.ok()) return key + " " + Quoted(value) + " is not a Kubernetes quantity";
  if (quantity->Sign() <= 0) return key + " " + Quoted(value) + " is not positive";
  (key == "cpu" ? type->cpu : type->memory) = value;
  return "";
}

// "" after reading value ("cpu=8, memory=61Gi, gpu=1") over type; else what is wrong with it.
std::string ParseEntry(const std::string& value, InstanceType* type) {
  std::set<std::string> seen;
  size_t begin = 0;
  while (begin <= value.size()) {
    size_t end = value.find(',', begin);
    if (end == std::string::npos) end = value.size();
    const std::string item = Trim(std::string_view(value).substr(begin, end - begin));
    begin = end + 1;
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      return Quoted(item) + " is not NAME=VALUE (want e.g. cpu=8,memory=61Gi,gpu=1)";
    }
    const std::string key = Trim(std::string_view(item).substr(0, eq));
    if (!seen.insert(key).second) return key + " is given twice";
    std::string problem = SetItem(key, Trim(std::string_view(item).substr(eq + 1)), type);
    if (!problem.empty()) return problem;
  }
  if (type->cpu.empty() || type->memory.empty()) {
    return "cpu and memory are required for a type the built-in table does not have";
  }
  return "";
}

// "4 CPUs, 16Gi memory, no GPU": for messages.
std::string Summary(const InstanceType& type) {
  return type.cpu + " CPUs, " + type.memory + " memory, " +
         (type.gpus == 0   ? std::string("no GPU")
          : type.gpus == 1 ? std::string("1 GPU")
                           : std::to_string(type.gpus) + " GPUs");
}

k8s::Mutex cluster_mu;
std::shared_ptr<const InstanceTypeTable> cluster_table GUARDED_BY(cluster_mu);  // null: built-in

}  // namespace

std::optional<InstanceType> InstanceTypeTable::Find(std::string_view name) const {
  auto it = entries_.find(name);
  if (it != entries_.end()) return it->second;
  return FindBuiltIn(name);
}

std::string InstanceTypeTable::KnownFamilies() const {
  std::set<std::string> families;  // "ml.m5"
  const auto add = [&families](std::string_view name) {
    families.insert(std::string(name.substr(0, name.rfind('.'))));
  };
  for (const BuiltInType& type : kInstanceTypes) add(type.name);
  for (const auto& [name, type] : entries_) add(name);
  std::string out;
  for (const std::string& family : families) out += (out.empty() ? "" : ", ") + family;
  return out;
}

ParsedInstanceTypes ParseInstanceTypes(const std::map<std::string, std::string>& data) {
  ParsedInstanceTypes out;
  std::map<std::string, InstanceType, std::less<>> entries;
  for (const auto& [key, value] : data) {
    const std::optional<InstanceType> built_in = FindBuiltIn(key);
    InstanceType type = built_in.value_or(InstanceType{key, "", "", 0});
    std::string problem = IsInstanceTypeName(key)
                              ? ParseEntry(value, &type)
                              : "is not an instance type name (ml.FAMILY.SIZE, e.g. ml.m5.xlarge)";
    if (problem.empty()) {
      entries[key] = std::move(type);
      continue;
    }
    out.problems.push_back("key " + Quoted(key) + ": " + problem + "; " +
                           (built_in ? "the built-in value is used (" + Summary(*built_in) + ")"
                                     : std::string("the type stays unknown (the built-in table "
                                                   "does not have it)")));
  }
  out.table = InstanceTypeTable(std::move(entries));
  return out;
}

std::shared_ptr<const InstanceTypeTable> ClusterInstanceTypes() {
  static const auto kBuiltIn = std::make_shared<const InstanceTypeTable>();
  k8s::MutexLock lock(cluster_mu);
  return cluster_table ? cluster_table : kBuiltIn;
}

void SetClusterInstanceTypes(std::shared_ptr<const InstanceTypeTable> table) {
  k8s::MutexLock lock(cluster_mu);
  cluster_table = std::move(table);
}

std::optional<InstanceType> FindInstanceType(std::string_view name) {
  return ClusterInstanceTypes()->Find(name);
}

ResourceRequirements InstanceResources(const InstanceType& type) {
  ResourceRequirements out;
  out.requests["cpu"] = type.cpu;
  out.requests["memory"] = type.memory;
  out.limits["memory"] = type.memory;
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

std::string KnownInstanceFamilies() { return ClusterInstanceTypes()->KnownFamilies(); }

}  // namespace stepline::reconcilers::sagemaker
