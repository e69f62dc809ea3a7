// SageMaker steps that only exist in AWS and have an honest meaning without a Job: Model,
// RegisterModel and Lineage become Record steps (they run nothing and succeed at once), which
// record what the step describes as its outputs. See sagemaker_definition.h.
#include <string>
#include <string_view>

#include "reconcilers/sagemaker_internal.h"

namespace stepline::reconcilers::sagemaker {
namespace {

using k8s::Status;

// What a Record step records, and the step property (DescribeModel, DescribeModelPackage) that
// reads it.
struct Recorded {
  std::string_view type;
  std::string_view property;
  std::string_view output;
};
constexpr Recorded kRecorded[] = {
    {"Model", "PrimaryContainer.Image", "image"},
    {"Model", "PrimaryContainer.ModelDataUrl", "modelDataUrl"},
    {"Model", "ModelName", "modelName"},  // a name for the record: EXECUTION-STEP
    {"RegisterModel", "ModelPackageGroupName", "modelPackageGroupName"},
    {"RegisterModel", "ModelApprovalStatus", "modelApprovalStatus"},
    {"RegisterModel", "InferenceSpecification.Containers[0].Image", "image"},
    {"RegisterModel", "InferenceSpecification.Containers[0].ModelDataUrl", "modelDataUrl"},
};

// SageMaker's default status of a registered model version.
constexpr const char* kDefaultApprovalStatus = "PendingManualApproval";

// Records value (nullptr: nothing) as the output named output.
Status Record(const StepInput& in, const Json* value, const std::string& path,
              std::string_view output, Step* step) {
  if (value == nullptr) return Status::Ok();
  auto text = RenderValue(*value, in.names, path);
  if (!text.ok()) return text.status();
  step->values[std::string(output)] = *text;
  return Status::Ok();
}

// Records container's Image and ModelDataUrl; a warning for its other fields.
Status RecordContainer(const StepInput& in, const Json& container, const std::string& path,
                       Step* step) {
  if (!container.is_object()) return Error(path, "must be an object");
  Status status = Record(in, Member(container, "Image"), Field(path, "Image"), "image", step);
  if (status.ok()) {
    status = Record(in, Member(container, "ModelDataUrl"), Field(path, "ModelDataUrl"),
                    "modelDataUrl", step);
  }
  if (status.ok() && in.names.served_models.count(in.name) != 0) {
    WarnUnused(in, container, {"Image", "ModelDataUrl", "Environment"}, path);  // a Transform's
  } else if (status.ok()) {
    WarnUnused(in, container, {"Image", "ModelDataUrl"}, path);
  }
  return status;
}

// "outputs image, modelDataUrl" of what step records.
std::string OutputList(const Step& step) {
  std::string out;
  for (const auto& [name, value] : step.values) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "nothing" : "its outputs " + out;
}

Status RecordInferenceSpecification(const StepInput& in, const Json& args, Step* step) {
  const std::string at = Field(in.path, "Arguments");
  auto spec = Object(args, "InferenceSpecification", at);
  if (!spec.ok() || *spec == nullptr) return spec.status();
  const std::string path = Field(at, "InferenceSpecification");
  const Json* containers = Member(**spec, "Containers");
  if (containers != nullptr && !containers->is_array()) {
    return Error(Field(path, "Containers"), "must be a list");
  }
  if (containers != nullptr && !containers->empty()) {
    Status status = RecordContainer(in, (*containers)[0], Item(Field(path, "Containers"), 0), step);
    if (!status.ok()) return status;
    if (containers->size() > 1) {
      in.warnings->push_back(Field(path, "Containers") + ": only the first of " +
                             std::to_string(containers->size()) + " containers is recorded");
    }
  }
  WarnUnused(in, **spec, {"Containers"}, path);
  return Status::Ok();
}

}  // namespace

k8s::Status CompileModel(const StepInput& in, Step* step) {
  step->type = StepType::kRecord;
  auto args = Arguments(in);
  if (!args.ok()) return args.status();
  const std::string at = Field(in.path, "Arguments");
  auto primary = Object(**args, "PrimaryContainer", at);
  if (!primary.ok()) return primary.status();
  if (*primary == nullptr) {
    return Error(Field(at, "PrimaryContainer"),
                 "required: Stepline records one container of a Model step (a model of several "
                 "Containers is not supported: give the one to serve as PrimaryContainer)");
  }
  Status status = RecordContainer(in, **primary, Field(at, "PrimaryContainer"), step);
  if (!status.ok()) return status;
  // SageMaker names the model it creates per execution; the record's name is made the same way,
  // for a later step (a Lambda step deploying it) to tell the runs' models apart.
  step->values["modelName"] = "{{execution.name}}-" + in.names.steps.at(in.name);
  WarnUnused(in, **args, {"PrimaryContainer"});
  in.warnings->push_back(in.path +
                         ": a Model step creates no SageMaker model: Stepline runs no Job for it "
                         "and records the container as " +
                         OutputList(*step) +
                         "; serve the model from them with your serving platform (e.g. KServe)");
  return Status::Ok();
}

k8s::Status CompileRegisterModel(const StepInput& in, Step* step) {
  step->type = StepType::kRecord;
  auto args = Arguments(in);
  if (!args.ok()) return args.status();
  const std::string at = Field(in.path, "Arguments");
  Status status = Record(in, Member(**args, "ModelPackageGroupName"),
                         Field(at, "ModelPackageGroupName"), "modelPackageGroupName", step);
  if (!status.ok()) return status;
  const Json* approval = Member(**args, "ModelApprovalStatus");
  const Json fallback = kDefaultApprovalStatus;
  status = Record(in, approval != nullptr ? approval : &fallback, Field(at, "ModelApprovalStatus"),
                  "modelApprovalStatus", step);
  if (!status.ok()) return status;
  status = RecordInferenceSpecification(in, **args, step);
  if (!status.ok()) return status;
  WarnUnused(in, **args,
             {"ModelPackageGroupName", "ModelApprovalStatus", "InferenceSpecification"});
  in.warnings->push_back(in.path +
                         ": a RegisterModel step registers nothing: Stepline runs no Job for it "
                         "and records " +
                         OutputList(*step) +
                         "; to keep a model registry, run your registry's client (e.g. MLflow) "
                         "in a Processing step");
  return Status::Ok();
}

k8s::Status CompileLineage(const StepInput& in, Step* step) {
  step->type = StepType::kRecord;
  in.warnings->push_back(in.path +
                         ": SageMaker lineage is not tracked: Stepline runs no Job for this step, "
                         "which succeeds at once; its Arguments have no effect");
  return Status::Ok();
}

std::optional<std::string> RecordedProperty(std::string_view type, std::string_view property) {
  for (const Recorded& r : kRecorded) {
    if (r.type == type && r.property == property) return "outputs." + std::string(r.output);
  }
  return std::nullopt;
}

std::string RecordedProperties(std::string_view type) {
  std::string out;
  for (const Recorded& r : kRecorded) {
    if (r.type == type) out += (out.empty() ? "" : ", ") + std::string(r.property);
  }
  return out;
}

}  // namespace stepline::reconcilers::sagemaker
