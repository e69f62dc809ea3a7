#!/usr/bin/env bash
# End-to-end: real SageMaker pipeline definitions from the compatibility corpus of issue #18
# (../shared/external/defs, written by others; read from there, never copied into the project)
# applied as Pipelines (spec.pipelineDefinition, a JSON string as ACK sends it) and run on the
# test API server + local agent + controller. Exits 77 (skipped) when the folder is absent.
#
# What runs, and what is and isn't exercised:
# - airflow-dummy-conditions.json, verbatim: 30 nested Condition steps and nothing else. Ready
#   says it has no step to run; an execution succeeds at once, as in SageMaker.
# - ack-samples-my-pipeline.json, verbatim except its InstanceType and its bucket (the
#   placeholder <YOUR_BUCKET_NAME>, which Stepline refuses naming the field): one Training step
#   of the sagemaker-xgboost image with HyperParameters, two S3 channels and no
#   ContainerEntrypoint. The local agent cannot run images, so the Pipeline's stepDefaults put a
#   stand-in `train` first on the PATH (the image's command, found as a container runtime finds
#   it); it checks that it was started with the argument `train`, the hyperparameters (SM_HP_*,
#   SM_HPS, and /opt/ml/input/config/hyperparameters.json), resourceconfig.json and
#   inputdataconfig.json, and the channels staged from the S3 API server this test starts
#   (s3rver) at /opt/ml/input/data/{train,validation}/, and writes a model file in
#   /opt/ml/model, which is
#   uploaded as model.tar.gz under OutputDataConfig.S3OutputPath and recorded as the step's
#   artifact `model` (what S3ModelArtifacts reads). The warnings (VolumeSizeInGB) are listed in
#   Ready and a DefinitionWarnings Event. InstanceType ml.m4.xlarge asks for 4 CPUs and 16Gi, more than
#   the local machine node has, so the run uses ml.t3.medium (2 CPUs, 4Gi); the verbatim
#   ml.m4.xlarge and a GPU type (ml.p3.2xlarge) are applied too, and their pods' requests and
#   the scheduler's "Insufficient" message are checked, then those runs are stopped. The run's
#   max_depth comes from a parameter (an edit: {"Get": "Parameters.Depth"}) that the execution
#   sets to 6, so the file and the environment show this run's value, not the default 5.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EXT="${STEPLINE_EXTERNAL_DIR:-$E2E_ROOT/../shared/external}"
if [[ ! -d $EXT/defs ]]; then
  echo "SKIP: the corpus folder $EXT is absent (it is not part of the project; see issue #18)"
  exit 77
fi
e2e_init sagemaker
s3_env=$("$E2E_ROOT/testenv/s3-up.sh" --bucket corpus-data) || {
  echo "cannot start the S3 API server (scripts/setup.sh installs it)"
  echo "0 passed, 1 failed"
  exit 1
}
eval "$s3_env"
trap '"$E2E_ROOT/testenv/s3-down.sh" "$STEPLINE_S3_DIR" >/dev/null 2>&1; e2e_cleanup' EXIT
start_controller
for f in train/train.libsvm validation/validation.libsvm; do
  printf '1 1:0.5\n' | s3_request PUT "corpus-data/sagemaker/xgboost/$f" --data-binary @- >/dev/null
done
k create secret generic s3-creds --from-literal=AWS_ACCESS_KEY_ID="$STEPLINE_S3_ACCESS_KEY_ID" \
  --from-literal=AWS_SECRET_ACCESS_KEY="$STEPLINE_S3_SECRET_ACCESS_KEY" >/dev/null
k create configmap stepline-artifact-repository --from-literal=bucket=corpus-data \
  --from-literal=endpoint="$STEPLINE_S3_ENDPOINT" --from-literal=credentialsSecret=s3-creds >/dev/null

STANDIN="$E2E_WORK/image-bin"
mkdir -p "$STANDIN"
cat >"$STANDIN/train" <<'SH'
#!/bin/sh
# Stand-in for the sagemaker-xgboost image's `train` program.
# The pod's args are [train] and it has no command: a container runtime runs the image's
# entrypoint with it; the local agent, which has no image, runs `train` from the PATH.
echo "train: \$0=$0 args=[$*] max_depth=$SM_HP_MAX_DEPTH SM_HPS=$SM_HPS"
[ "$(basename "$0")" = train ] && [ $# -eq 0 ] || { echo "want to be run as train" >&2; exit 2; }
case "$SM_HPS" in *'"num_round":"10"'*) ;; *) echo "SM_HPS lacks num_round" >&2; exit 3 ;; esac
channels=$(cd /opt/ml/input/data && ls */*) || { echo "no channels staged" >&2; exit 4; }
config=/opt/ml/input/config
cat $config/hyperparameters.json $config/resourceconfig.json $config/inputdataconfig.json || exit 5
file_depth=$(sed -n 's/.*"max_depth":"\([^"]*\)".*/\1/p' $config/hyperparameters.json)
host=$(sed -n 's/.*"current_host":"\([^"]*\)".*/\1/p' $config/resourceconfig.json)
train_type=$(sed -n 's/.*"train":{"ContentType":"\([^"]*\)".*/\1/p' $config/inputdataconfig.json)
echo "booster depth=$file_depth" > /opt/ml/model/xgboost-model
printf '{"max_depth": "%s", "file_max_depth": "%s", "host": "%s", "train_type": "%s", "channels": "%s"}' \
  "$SM_HP_MAX_DEPTH" "$file_depth" "$host" "$train_type" "$(echo $channels)" >/dev/termination-log
SH
chmod +x "$STANDIN/train"

definition_pipeline() { # NAME FILE [OLD=>NEW]...: the definition as spec.pipelineDefinition
  local name=$1 file=$2
  shift 2
  python3 - "$name" "$EXT/defs/$file" "$STANDIN" "$@" <<'PY' | k apply -f - >/dev/null
import json, sys
name, path, standin = sys.argv[1:4]
text = open(path).read()
for edit in sys.argv[4:]:
    old, new = edit.split("=>")
    assert old in text, old
    text = text.replace(old, new)
print(json.dumps({
    "apiVersion": "stepline.dev/v1alpha1", "kind": "Pipeline", "metadata": {"name": name},
    "spec": {"pipelineDefinition": text,
             "stepDefaults": {"env": [{"name": "PATH", "value": standin + ":/usr/bin:/bin"}]}}}))
PY
}
execution() { # NAME PIPELINE
  k apply -f - >/dev/null <<YAML
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: $1}
spec: {pipelineName: $2}
YAML
}
ready() { jp "pl/$1" '{.status.conditions[?(@.type=="Ready")].status}'; }
ready_message() { jp "pl/$1" '{.status.conditions[?(@.type=="Ready")].message}'; }
pod_of() { # EXECUTION: the first pod of its Jobs
  k get pods -l "stepline.dev/execution=$1" -o 'jsonpath={.items[0].metadata.name}' 2>/dev/null
}
pod_field() { jp "pod/$(pod_of "$1")" "$2"; }

# ---- only Condition steps ----
definition_pipeline conditions airflow-dummy-conditions.json
check "the Condition-only definition is Ready" wait_for 30 bash -c "[[ \$(kubectl -n $NS get pl conditions -o 'jsonpath={.status.conditions[?(@.type==\"Ready\")].status}') == True ]]"
check_eq "it has no step to run" 0 "$(jp pl/conditions '{.status.stepCount}')"
msg=$(ready_message conditions)
[[ $msg == *"only Condition steps"* ]] && ok "Ready says why: $msg" || fail "Ready message: $msg"
execution conditions-1 conditions
check "its execution succeeds at once" wait_for 30 plx_is conditions-1 Succeeded
check_eq "no Job was created" 0 "$(count_jobs conditions-1)"

# ---- a Training step of the ACK sample, run with a stand-in image ----
bucket='<YOUR_BUCKET_NAME>=>corpus-data'
definition_pipeline abalone ack-samples-my-pipeline.json '"ml.m4.xlarge"=>"ml.t3.medium"' "$bucket" \
  '"max_depth": "5"=>"max_depth": {"Get": "Parameters.Depth"}' \
  '"Version": "2020-12-01",=>"Version": "2020-12-01", "Parameters": [{"Name": "Depth", "Type": "String", "DefaultValue": "5"}],'
check "the ACK sample definition is Ready" wait_for 30 bash -c "[[ \$(kubectl -n $NS get pl abalone -o 'jsonpath={.status.conditions[?(@.type==\"Ready\")].status}') == True ]]"
msg=$(ready_message abalone)
[[ $msg == *"warnings:"*"VolumeSizeInGB"* && $msg != *DataConfig* ]] &&
  ok "Ready lists the warnings (the channels and the model are staged, not warned about): $msg" ||
  fail "Ready message: $msg"
check "a DefinitionWarnings Event says so" wait_for 30 has_event abalone DefinitionWarnings
k apply -f - >/dev/null <<YAML
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: abalone-1}
spec: {pipelineName: abalone, pipelineParameters: [{name: Depth, value: "6"}]}
YAML
check "the training run succeeds" wait_for 120 bash -c "[[ \$(kubectl -n $NS get plx abalone-1 -o 'jsonpath={.status.pipelineExecutionStatus}') =~ ^(Succeeded|Failed)$ ]]"
check_eq "... as Succeeded" Succeeded "$(plx_status abalone-1)"
check_eq "the step runs under its compiled name" "abalone-train" "$(jp plx/abalone-1 '{.status.steps[0].name}')"
model="sagemaker/abalone-1-abalone-train/output/model.tar.gz"
check_eq "the model artifact (S3ModelArtifacts) is recorded" "{\"model\":\"s3://corpus-data/$model\"}" \
  "$(step_field abalone-1 abalone-train artifacts)"
check_eq "/opt/ml/model was uploaded there as model.tar.gz" "booster depth=6" \
  "$(s3_request GET "corpus-data/$model" | tar -xzO xgboost-model)"
check_eq "the run's hyperparameter reached its environment" 6 "$(step_field abalone-1 abalone-train outputs.max_depth)"
check_eq "... and /opt/ml/input/config/hyperparameters.json" 6 \
  "$(step_field abalone-1 abalone-train outputs.file_max_depth)"
check_eq "resourceconfig.json names its one host" algo-1 "$(step_field abalone-1 abalone-train outputs.host)"
check_eq "inputdataconfig.json gives the train channel's ContentType" text/libsvm \
  "$(step_field abalone-1 abalone-train outputs.train_type)"
check_eq "both channels were staged from S3 at /opt/ml/input/data" \
  "train/train.libsvm validation/validation.libsvm" \
  "$(step_field abalone-1 abalone-train outputs.channels)"
check_eq "the pod ran the image with the argument train" '["train"]' \
  "$(pod_field abalone-1 '{.spec.containers[0].args}')"
check_eq "the pod has no command (the image's)" "" "$(pod_field abalone-1 '{.spec.containers[0].command}')"
check_eq "ml.t3.medium: 2 CPUs requested" 2 "$(pod_field abalone-1 '{.spec.containers[0].resources.requests.cpu}')"
check_eq "ml.t3.medium: 4Gi memory limit" 4Gi "$(pod_field abalone-1 '{.spec.containers[0].resources.limits.memory}')"
check_eq "MaxRuntimeInSeconds is the Job's deadline" 86400 \
  "$(jp "job/$(jobs_of abalone-1 | head -1)" '{.spec.activeDeadlineSeconds}')"

# ---- the verbatim instance type, and a GPU type: requests the local node cannot give ----
definition_pipeline big ack-samples-my-pipeline.json "$bucket"
definition_pipeline gpu ack-samples-my-pipeline.json '"ml.m4.xlarge"=>"ml.p3.2xlarge"' "$bucket"
execution big-1 big
execution gpu-1 gpu
check "ml.m4.xlarge: a pod is created" wait_for 60 bash -c "[[ -n \$(kubectl -n $NS get pods -l stepline.dev/execution=big-1 -o name) ]]"
check "ml.p3.2xlarge: a pod is created" wait_for 60 bash -c "[[ -n \$(kubectl -n $NS get pods -l stepline.dev/execution=gpu-1 -o name) ]]"
check_eq "ml.m4.xlarge: 4 CPUs requested" 4 "$(pod_field big-1 '{.spec.containers[0].resources.requests.cpu}')"
check_eq "ml.m4.xlarge: 16Gi requested" 16Gi "$(pod_field big-1 '{.spec.containers[0].resources.requests.memory}')"
check_eq "ml.p3.2xlarge: one nvidia.com/gpu requested" 1 \
  "$(pod_field gpu-1 '{.spec.containers[0].resources.requests.nvidia\.com/gpu}')"
check_eq "ml.p3.2xlarge: one nvidia.com/gpu as the limit" 1 \
  "$(pod_field gpu-1 '{.spec.containers[0].resources.limits.nvidia\.com/gpu}')"
check_eq "ml.p3.2xlarge: 61Gi memory limit" 61Gi "$(pod_field gpu-1 '{.spec.containers[0].resources.limits.memory}')"
check "the GPU step says why it waits (Insufficient nvidia.com/gpu)" wait_for 60 bash -c \
  "kubectl -n $NS get plx gpu-1 -o 'jsonpath={.status.steps[0].message}' | grep -q 'nvidia.com/gpu'"
k patch plx big-1 gpu-1 --type merge -p '{"spec":{"stop":true}}' >/dev/null
check "both are stopped" wait_for 60 bash -c "[[ \$(kubectl -n $NS get plx big-1 -o 'jsonpath={.status.pipelineExecutionStatus}') == Stopped && \$(kubectl -n $NS get plx gpu-1 -o 'jsonpath={.status.pipelineExecutionStatus}') == Stopped ]]"

check "the controller is still running" kill -0 "$CONTROLLER_PID"
e2e_finish
