#!/usr/bin/env bash
# End-to-end: more definitions of the compatibility corpus of issue #18 (../shared/external/defs,
# written by others; read from there, never copied into the project) run to the outcome SageMaker
# gives, on the test API server + local agent + controller. Exits 77 (skipped) when the folder
# is absent.
#
# - sdk-v2-condition-step.json and sdk-v2-callback-step.json, verbatim: their Training steps have
#   empty Arguments, which SageMaker accepts in the definition and CreateTrainingJob refuses when
#   the step runs; so the runs fail, naming the step and what is missing, and nothing after it runs.
# - examples-selective-execution.json (AWS's example notebook), verbatim but for its literal
#   instance type (ml.c5.xlarge asks for more than the local node has; ml.t3.medium, also given
#   to the two instance-type parameters): Processing (preprocessing.py reads the input data set)
#   -> Training (xgboost, no entrypoint) -> Processing (evaluation.py, a PropertyFile) ->
#   Condition (Std:JsonGet mse <= MseThreshold) -> RegisterModel + Model, else Fail. Its bucket
#   is the local S3 API server's (s3rver), holding the data set and stand-in scripts where the
#   definition reads them (run by python3, the entrypoint); `train` is a stand-in on the PATH.
#   Run twice: MseThreshold 6.0 (the default) succeeds through the If branch; 1.0 takes the Else
#   branch and fails with the definition's ErrorMessage.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EXT="${STEPLINE_EXTERNAL_DIR:-$E2E_ROOT/../shared/external}"
if [[ ! -d $EXT/defs ]]; then
  echo "SKIP: the corpus folder $EXT is absent (it is not part of the project; see issue #18)"
  exit 77
fi
e2e_init corpusruns
BUCKET=sagemaker-us-east-1-681580474417
start_s3 "$BUCKET"
start_controller
mkdir -p "$E2E_WORK/image-bin"

pipeline() { # NAME FILE [STEPDEFAULTS_JSON]: the definition (ml.c5.xlarge -> ml.t3.medium)
  python3 - "$1" "$EXT/defs/$2" "${3:-{\}}" <<'PY' | k apply -f - >/dev/null
import json, sys
name, path, defaults = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
text = open(path).read().replace('"ml.c5.xlarge"', '"ml.t3.medium"')
spec = {"pipelineDefinition": text}
if defaults:
    spec["stepDefaults"] = defaults
print(json.dumps({"apiVersion": "stepline.dev/v1alpha1", "kind": "Pipeline",
                  "metadata": {"name": name}, "spec": spec}))
PY
}
execution() { # NAME PIPELINE PARAMETERS_JSON
  python3 - "$@" <<'PY' | k apply -f - >/dev/null
import json, sys
name, pipeline, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
print(json.dumps({"apiVersion": "stepline.dev/v1alpha1", "kind": "PipelineExecution",
                  "metadata": {"name": name},
                  "spec": {"pipelineName": pipeline,
                           "pipelineParameters": [{"name": k, "value": v} for k, v in params.items()]}}))
PY
}
ready() { [[ $(jp "pl/$1" '{.status.conditions[?(@.type=="Ready")].status}') == True ]]; }
finished() { [[ $(plx_status "$1") =~ ^(Succeeded|Failed)$ ]]; }

# ---- Training steps with empty Arguments fail when they run, as CreateTrainingJob refuses them ----
pipeline condition sdk-v2-condition-step.json
pipeline callback sdk-v2-callback-step.json
check "sdk-v2-condition-step is Ready" wait_for 30 ready condition
check "sdk-v2-callback-step is Ready" wait_for 30 ready callback
execution condition-1 condition '{"MyInt1": "1", "MyInt2": "1", "MyStr": "s"}'
execution callback-1 callback '{"MyStr": "s"}'
check "both runs end" wait_for 90 bash -c "[[ \$(kubectl -n $NS get plx condition-1 -o 'jsonpath={.status.pipelineExecutionStatus}') =~ ^(Succeeded|Failed)$ && \$(kubectl -n $NS get plx callback-1 -o 'jsonpath={.status.pipelineExecutionStatus}') =~ ^(Succeeded|Failed)$ ]]"
check_eq "sdk-v2-condition-step: Failed" Failed "$(plx_status condition-1)"
check_eq "sdk-v2-callback-step: Failed" Failed "$(plx_status callback-1)"
for run in condition-1:my-step0 callback-1:test-step; do
  msg=$(step_field "${run%%:*}" "${run#*:}" message)
  [[ $msg == *"CreateTrainingJob refuses the request"*TrainingImage* ]] &&
    ok "${run%%:*}: ${run#*:} says why: $msg" || fail "${run%%:*}: ${run#*:} message: $msg"
done
check_eq "no Job ran for either" 0 "$(( $(count_jobs condition-1) + $(count_jobs callback-1) ))"
check_eq "the callbacks did not start" "" "$(step_field callback-1 my-callback-step1 startTime)"

# ---- AWS's selective execution example: the If branch, then the Else branch ----
k create secret generic s3-creds --from-literal=AWS_ACCESS_KEY_ID="$STEPLINE_S3_ACCESS_KEY_ID" \
  --from-literal=AWS_SECRET_ACCESS_KEY="$STEPLINE_S3_SECRET_ACCESS_KEY" >/dev/null
k create configmap stepline-artifact-repository --from-literal=bucket="$BUCKET" \
  --from-literal=endpoint="$STEPLINE_S3_ENDPOINT" --from-literal=credentialsSecret=s3-creds >/dev/null
cat >"$E2E_WORK/preprocessing.py" <<'PY'
# Stand-in for the example's preprocessing.py: splits the staged data set as asked.
import sys
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
assert args["--target_col"] == "rings" and args["--train_size"] == "0.7", sys.argv
rows = open("/opt/ml/processing/input/abalone.csv").read().splitlines()[1:]
cut1, cut2 = int(len(rows) * 0.7), int(len(rows) * 0.9)
for name, part in (("train", rows[:cut1]), ("validation", rows[cut1:cut2]), ("test", rows[cut2:])):
    with open(f"/opt/ml/processing/output/{name}/{name}.csv", "w") as f:
        f.write("".join(r + "\n" for r in part))
PY
cat >"$E2E_WORK/evaluation.py" <<'PY'
# Stand-in for the example's evaluation.py: reads the model and the test split, writes the report.
import json, tarfile
with tarfile.open("/opt/ml/processing/model/model.tar.gz") as t:
    model = t.extractfile("xgboost-model").read().decode().strip()
rows = open("/opt/ml/processing/output/test/test.csv").read().splitlines()
report = {"regression_metrics": {"mse": {"value": 4.5}}, "model": model, "test_rows": len(rows)}
json.dump(report, open("/opt/ml/processing/evaluation/evaluation.json", "w"))
import time; time.sleep(1)  # see the stand-in train below
PY
cat >"$E2E_WORK/image-bin/train" <<'SH'
#!/bin/sh
# Stand-in for the xgboost image's train: the channels must be staged; writes the model.
ls /opt/ml/input/data/train/train.csv /opt/ml/input/data/validation/validation.csv || exit 4
# Not at once: a container that ends within milliseconds can end before the artifact-upload
# sidecar has blocked SIGTERM, which then dies of it (exit 143, ArtifactError); the race of the
# staging reported with sagemaker_steps_e2e's stand-in.
sleep 2
echo "booster rounds=$SM_HP_NUM_ROUND depth=$SM_HP_MAX_DEPTH" >/opt/ml/model/xgboost-model
SH
chmod +x "$E2E_WORK/image-bin/train"
python3 -c 'print("sex,length,rings"); [print(f"M,{i / 10},{i}") for i in range(20)]' |
  s3_request PUT "$BUCKET/sample-dataset/abalone/abalone.csv" --data-binary @- >/dev/null
s3_request PUT "$BUCKET/AbalonePipeline-SelectExec/code/5d9f8cf978eb635fdf8359a0de190535/preprocessing.py" \
  --data-binary @"$E2E_WORK/preprocessing.py" >/dev/null
s3_request PUT "$BUCKET/AbalonePipeline-SelectExec/code/af3d0ac9a2a46ba2e53409799b1c4dbe/evaluation.py" \
  --data-binary @"$E2E_WORK/evaluation.py" >/dev/null
pipeline abalone examples-selective-execution.json \
  "{\"env\": [{\"name\": \"PATH\", \"value\": \"$E2E_WORK/image-bin:/usr/bin:/bin\"}]}"
check "the example definition is Ready" wait_for 30 ready abalone
small='"ProcessingInstanceType": "ml.t3.medium", "TrainingInstanceType": "ml.t3.medium"'
execution abalone-pass abalone "{$small}"
check "MseThreshold 6.0: the run ends" wait_for 180 finished abalone-pass
check_eq "... Succeeded" Succeeded "$(plx_status abalone-pass)"
for step in abalone-preprocess abalone-train abalone-evaluate abalone-model-register-register-model abalone-create-model-create-model; do
  check_eq "step $step succeeded" Succeeded "$(step_field abalone-pass "$step" phase)"
done
check_eq "the Fail step did not run" Skipped "$(step_field abalone-pass abalone-fail-notify phase)"
report=$(s3_request GET "$BUCKET/abalone-postproc-2023-07-25-20-12-29-933/output/evaluation/evaluation.json")
check_eq "evaluation.json went to its S3Output, from the trained model and the test split" \
  '4.5 booster rounds=50 depth=5 2' \
  "$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["regression_metrics"]["mse"]["value"], r["model"], r["test_rows"])' "$report")"
check_eq "the registered model records the trained model.tar.gz" \
  "s3://$BUCKET/Abalone/models/abalone-pass-abalone-train/output/model.tar.gz" \
  "$(jp plx/abalone-pass '{.status.steps[?(@.name=="abalone-model-register-register-model")].outputs.modelDataUrl}')"
execution abalone-fail abalone "{$small, \"MseThreshold\": \"1.0\"}"
check "MseThreshold 1.0: the run ends" wait_for 180 finished abalone-fail
check_eq "... Failed" Failed "$(plx_status abalone-fail)"
check_eq "the Else branch's Fail step failed it" Failed "$(step_field abalone-fail abalone-fail-notify phase)"
msg=$(jp plx/abalone-fail '{.status.failureReason}')
[[ $msg == *"Execution failed due to MSE > 1.0"* ]] && ok "with the definition's ErrorMessage: $msg" ||
  fail "failureReason: $msg"
check_eq "the If branch did not run" Skipped "$(step_field abalone-fail abalone-create-model-create-model phase)"
check "the controller is still running" kill -0 "$CONTROLLER_PID"
e2e_finish
