#!/usr/bin/env bash
# End-to-end (issue #18), on the test API server + local agent + controller + an S3 API server
# (s3rver) this test starts, with SageMaker definitions written for this test:
# - the cluster's instance-type table: a Pipeline whose Training step asks for a type the built-in
#   table lacks is refused until the ConfigMap stepline-instance-types (in the controller's
#   namespace) adds it, and then becomes Ready without being touched; the ConfigMap's override of
#   ml.m5.xlarge is what the step's pod requests; a bad entry gives a Warning Event
#   InvalidInstanceType on the ConfigMap naming it, the key and the problem.
# - Training -> Model -> RegisterModel run to the end: the model trained by a stand-in `train`
#   is uploaded as model.tar.gz, and the Model and RegisterModel steps (Record steps: no Job)
#   record its URI, the image and the registration's values in the execution's status.
# - a Training step with "Arguments": {} (as in the SageMaker SDK's own tests): the Pipeline is
#   Ready with a warning, and the step fails when its turn comes, naming the missing field, as
#   SageMaker's CreateTrainingJob would end it; the step after it does not run.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init smsteps
start_s3 sm-data
k create secret generic s3-creds --from-literal=AWS_ACCESS_KEY_ID="$STEPLINE_S3_ACCESS_KEY_ID" \
  --from-literal=AWS_SECRET_ACCESS_KEY="$STEPLINE_S3_SECRET_ACCESS_KEY" >/dev/null
k create configmap stepline-artifact-repository --from-literal=bucket=sm-data \
  --from-literal=endpoint="$STEPLINE_S3_ENDPOINT" --from-literal=credentialsSecret=s3-creds >/dev/null
start_controller  # --namespace $NS: its own namespace is $NS too

STANDIN="$E2E_WORK/image-bin"
mkdir -p "$STANDIN"
cat >"$STANDIN/train" <<'SH'
#!/bin/sh
# Stand-in for a training image's `train`: writes a model. It takes 3 s, as a real training
# does: a container that ends at once can end before the artifact-upload sidecar has set up its
# SIGTERM handling, which then dies of the signal (exit code 143, ArtifactError) though nothing
# failed; seen in 2 of 4 runs on a loaded machine (a race of the artifact staging, reported).
sleep 3
echo "weights v1" > /opt/ml/model/weights.txt
SH
chmod +x "$STANDIN/train"

# definition_pipeline NAME STEPS_JSON: a Pipeline of that SageMaker definition (a JSON string, as
# ACK sends it), the stand-in first on the PATH.
definition_pipeline() {
  python3 - "$1" "$2" "$STANDIN" <<'PY' | k apply -f - >/dev/null
import json, sys
name, steps, standin = sys.argv[1:4]
definition = {"Version": "2020-12-01", "Parameters": [], "Steps": json.loads(steps)}
print(json.dumps({
    "apiVersion": "stepline.dev/v1alpha1", "kind": "Pipeline", "metadata": {"name": name},
    "spec": {"pipelineDefinition": json.dumps(definition),
             "stepDefaults": {"env": [{"name": "PATH", "value": standin + ":/usr/bin:/bin"}]}}}))
PY
}
training() { # NAME INSTANCE_TYPE [DEPENDS_ON] [nomodel: no OutputDataConfig]
  local model='"OutputDataConfig": {"S3OutputPath": "s3://sm-data/models"},'
  [[ ${4:-} == nomodel ]] && model=""
  cat <<JSON
{"Name": "$1", "Type": "Training", ${3:+\"DependsOn\": [\"$3\"],}
 "Arguments": {"AlgorithmSpecification": {"TrainingImage": "registry.example/trainer:1", "TrainingInputMode": "File"},
               $model
               "ResourceConfig": {"InstanceType": "$2", "InstanceCount": 1, "VolumeSizeInGB": 30},
               "StoppingCondition": {"MaxRuntimeInSeconds": 600}, "RoleArn": "arn:aws:iam::123456789012:role/x"}}
JSON
}
execution() { # NAME PIPELINE
  k create -f - >/dev/null <<<"{\"apiVersion\": \"stepline.dev/v1alpha1\", \"kind\": \"PipelineExecution\",
    \"metadata\": {\"name\": \"$1\"}, \"spec\": {\"pipelineName\": \"$2\"}}"
}
ready_field() { jp "pl/$1" "{.status.conditions[?(@.type==\"Ready\")].$2}"; }  # PIPELINE FIELD
ready_message() { ready_field "$1" message; }
ready_is() { [[ $(ready_field "$1" status) == "$2" ]]; }
finished() { [[ $(plx_status "$1") =~ ^(Succeeded|Failed)$ ]]; }
pod_field() { # EXECUTION STEP JSONPATH: a field of the step's pod
  jp "pod/$(k get pods -l "stepline.dev/execution=$1,stepline.dev/step=$2" -o 'jsonpath={.items[0].metadata.name}')" "$3"
}
event_message() { # OBJECT REASON: the messages of its Events with that reason
  kubectl get events -n "$NS" -o json | python3 -c '
import json, sys
name, reason = sys.argv[1], sys.argv[2]
for e in json.load(sys.stdin)["items"]:
    if e.get("reason") == reason and e["involvedObject"].get("name") == name:
        print(e["message"])' "$1" "$2"
}

# ---- an instance type only the cluster's table has ----
definition_pipeline trainium "[$(training Train ml.trn1.2xlarge)]"
check "a type the built-in table lacks: not Ready" wait_for 30 ready_is trainium False
msg=$(ready_message trainium)
[[ $msg == *'(Train).Arguments.ResourceConfig.InstanceType: "ml.trn1.2xlarge" is not an instance type Stepline knows'* ]] &&
  ok "Ready names the step and field: $msg" || fail "Ready message: $msg"

k create configmap stepline-instance-types \
  --from-literal=ml.m5.xlarge='cpu=1, memory=1Gi' \
  --from-literal=ml.trn1.2xlarge='cpu=1,memory=512Mi' \
  --from-literal=ml.c5.xlarge='cpu=2,memory=lots' >/dev/null
check "the ConfigMap adds it: the Pipeline becomes Ready, untouched" wait_for 30 ready_is trainium True
check "a bad entry: a Warning Event InvalidInstanceType on the ConfigMap" \
  wait_for 30 has_event stepline-instance-types InvalidInstanceType
check_eq "... naming the ConfigMap, the key, the problem and what is used" \
  "ConfigMap $NS/stepline-instance-types: key \"ml.c5.xlarge\": memory \"lots\" is not a Kubernetes quantity; the built-in value is used (4 CPUs, 8Gi memory, no GPU)" \
  "$(event_message stepline-instance-types InvalidInstanceType)"
check_eq "the event is a Warning" Warning \
  "$(kubectl get events -n "$NS" --field-selector reason=InvalidInstanceType -o 'jsonpath={.items[0].type}')"

# ---- Training -> Model -> RegisterModel, run to the end; ml.m5.xlarge from the ConfigMap ----
definition_pipeline register "[$(training Train ml.m5.xlarge),
 {\"Name\": \"CreateModel\", \"Type\": \"Model\",
  \"Arguments\": {\"ExecutionRoleArn\": \"arn:aws:iam::123456789012:role/x\",
    \"PrimaryContainer\": {\"Image\": \"registry.example/server:2\",
      \"ModelDataUrl\": {\"Get\": \"Steps.Train.ModelArtifacts.S3ModelArtifacts\"}}}},
 {\"Name\": \"Register\", \"Type\": \"RegisterModel\",
  \"Arguments\": {\"ModelPackageGroupName\": \"churn\",
    \"InferenceSpecification\": {\"Containers\": [{\"Image\": {\"Get\": \"Steps.CreateModel.PrimaryContainer.Image\"},
      \"ModelDataUrl\": {\"Get\": \"Steps.Train.ModelArtifacts.S3ModelArtifacts\"}}],
      \"SupportedContentTypes\": [\"text/csv\"], \"SupportedResponseMIMETypes\": [\"text/csv\"]}}}]"
check "the Training/Model/RegisterModel definition is Ready" wait_for 30 ready_is register True
msg=$(ready_message register)
[[ $msg == *"warnings:"*"a Model step creates no SageMaker model"* ]] && ok "Ready lists what has no effect: $msg" ||
  fail "Ready message: $msg"
execution register-1 register
check "the run ends" wait_for 120 finished register-1
check_eq "... Succeeded" Succeeded "$(plx_status register-1)"
check_eq "ml.m5.xlarge from the ConfigMap: 1 CPU requested (built-in: 4)" 1 \
  "$(pod_field register-1 train '{.spec.containers[0].resources.requests.cpu}')"
check_eq "... 1Gi memory requested (built-in: 16Gi)" 1Gi \
  "$(pod_field register-1 train '{.spec.containers[0].resources.requests.memory}')"
check_eq "... and 1Gi as the memory limit" 1Gi \
  "$(pod_field register-1 train '{.spec.containers[0].resources.limits.memory}')"
model="s3://sm-data/models/register-1-train/output/model.tar.gz"
check_eq "the model was uploaded as model.tar.gz" "weights v1" \
  "$(s3_request GET "${model#s3://}" | tar -xzO weights.txt)"
check_eq "Model: its image recorded" "registry.example/server:2" \
  "$(step_field register-1 create-model outputs.image)"
check_eq "Model: the model's URI (S3ModelArtifacts) recorded" "$model" \
  "$(step_field register-1 create-model outputs.modelDataUrl)"
check_eq "RegisterModel: the group" churn "$(step_field register-1 register outputs.modelPackageGroupName)"
check_eq "RegisterModel: SageMaker's default approval status" PendingManualApproval \
  "$(step_field register-1 register outputs.modelApprovalStatus)"
check_eq "RegisterModel: the image, read from the Model step" "registry.example/server:2" \
  "$(step_field register-1 register outputs.image)"
check_eq "RegisterModel: the model's URI" "$model" "$(step_field register-1 register outputs.modelDataUrl)"
check_eq "Model and RegisterModel ran no Job" 0 \
  "$(( $(count_jobs register-1 create-model) + $(count_jobs register-1 register) ))"
check_eq "both Succeeded" "Succeeded Succeeded" \
  "$(step_field register-1 create-model phase) $(step_field register-1 register phase)"

# ---- a Training step with empty Arguments: accepted, fails when it runs ----
definition_pipeline empty "[$(training Prep ml.t3.medium '' nomodel),
 {\"Name\": \"TestStep\", \"Type\": \"Training\", \"DependsOn\": [\"Prep\"], \"Arguments\": {}},
 $(training After ml.t3.medium TestStep nomodel)]"
check "empty Arguments: the Pipeline is Ready" wait_for 30 ready_is empty True
msg=$(ready_message empty)
[[ $msg == *'(TestStep).Arguments.AlgorithmSpecification.TrainingImage: missing: the step fails when it runs'* ]] &&
  ok "Ready warns, naming the step and field: $msg" || fail "Ready message: $msg"
check "a DefinitionWarnings Event says so" wait_for 30 has_event empty DefinitionWarnings
execution empty-1 empty
check "the run ends" wait_for 120 finished empty-1
check_eq "... Failed, as in SageMaker" Failed "$(plx_status empty-1)"
check_eq "the step before it succeeded" Succeeded "$(step_field empty-1 prep phase)"
check_eq "the step itself Failed" Failed "$(step_field empty-1 test-step phase)"
msg=$(step_field empty-1 test-step message)
[[ $msg == *"CreateTrainingJob refuses the request (ValidationException): Arguments.AlgorithmSpecification.TrainingImage is missing"* ]] &&
  ok "its message names the missing field: $msg" || fail "step message: $msg"
reason=$(jp plx/empty-1 '{.status.failureReason}')
[[ $reason == *"test-step"*"TrainingImage is missing"* ]] && ok "failureReason: $reason" ||
  fail "failureReason: $reason"
check_eq "it ran no Job" 0 "$(count_jobs empty-1 test-step)"
check_eq "the step after it did not run" Skipped "$(step_field empty-1 after phase)"

check "the controller is still running" kill -0 "$CONTROLLER_PID"
e2e_finish
