#!/usr/bin/env bash
# End-to-end: a SageMaker definition with a Model step and a Transform step (batch transform,
# issue #18) on the test API server + local agent + controller, data in a real S3 API server
# (s3rver, started here on a loopback port).
#
# The Transform step's pod runs the Model's image with `serve` as a native sidecar and
# `stepline-artifacts transform` as its main container. The local agent has no images: the
# Pipeline's stepDefaults put tests/e2e/transform/ first on the PATH, where a stand-in `serve`
# (python3's http.server) follows SageMaker's inference contract: it reads the model unpacked
# from model.tar.gz in /opt/ml/model, answers GET /ping and POST /invocations (CSV lines times
# the model's multiplier). The agent's pods share the host's network, so the Model's
# Environment sets SAGEMAKER_BIND_TO_PORT to a free port (a pod of its own would use 8080).
#
# Checked: the input prefix's objects (two files, one in a sub-directory) come back as
# S3OutputPath/<name>.out with one answer line per input line (AssembleWith Line), batched
# per MaxPayloadInMB; the pod's shape; the step's recorded output URI; a failing invocation
# (HTTP 500) fails the step as Error with the server's answer in the message; both corpus files
# with Transform steps (when ../shared/external is there) are Ready.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init transform
start_s3 transform-data
start_controller
k create secret generic s3-creds --from-literal=AWS_ACCESS_KEY_ID="$STEPLINE_S3_ACCESS_KEY_ID" \
  --from-literal=AWS_SECRET_ACCESS_KEY="$STEPLINE_S3_SECRET_ACCESS_KEY" >/dev/null
k create configmap stepline-artifact-repository --from-literal=bucket=transform-data \
  --from-literal=endpoint="$STEPLINE_S3_ENDPOINT" --from-literal=credentialsSecret=s3-creds >/dev/null

mkdir -p "$E2E_WORK/model"
echo 3 >"$E2E_WORK/model/multiplier"
tar -czf "$E2E_WORK/model.tar.gz" -C "$E2E_WORK/model" multiplier
s3_request PUT transform-data/models/model.tar.gz --data-binary "@$E2E_WORK/model.tar.gz" >/dev/null
printf '1,a\n2,b\n3,c\n' | s3_request PUT transform-data/batch/a.csv --data-binary @- >/dev/null
printf '10,q\n' | s3_request PUT transform-data/batch/sub/b.csv --data-binary @- >/dev/null
printf '1,a\nboom\n' | s3_request PUT transform-data/bad/x.csv --data-binary @- >/dev/null

PORT=$(free_port)
SERVE_LOG="$E2E_WORK/serve.log"
python3 - "$PORT" "$E2E_ROOT/tests/e2e/transform" "$SERVE_LOG" <<'PY' | k apply -f - >/dev/null
import json, sys
port, standin, log = sys.argv[1:4]
definition = {
    "Version": "2020-12-01",
    "Parameters": [{"Name": "BatchData", "Type": "String",
                    "DefaultValue": "s3://transform-data/batch"}],
    "Steps": [
        {"Name": "ScorerModel-CreateModel", "Type": "Model", "Arguments": {
            "ExecutionRoleArn": "arn:aws:iam::000000000000:role/Example",
            "PrimaryContainer": {
                "Image": "registry.example/scorer:1",
                "Environment": {"SAGEMAKER_BIND_TO_PORT": port, "SERVE_LOG": log},
                "ModelDataUrl": "s3://transform-data/models/model.tar.gz"}}},
        {"Name": "Score", "Type": "Transform", "Arguments": {
            "ModelName": {"Get": "Steps.ScorerModel-CreateModel.ModelName"},
            "TransformInput": {
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                "S3Uri": {"Get": "Parameters.BatchData"}}},
                "ContentType": "text/csv", "SplitType": "Line"},
            "TransformOutput": {
                "S3OutputPath": {"Std:Join": {"On": "/", "Values": [
                    "s3://transform-data/scores", {"Get": "Execution.PipelineExecutionId"}]}},
                "Accept": "text/csv", "AssembleWith": "Line"},
            "BatchStrategy": "MultiRecord", "MaxPayloadInMB": 1,
            "ModelClientConfig": {"InvocationsMaxRetries": 0},
            "TransformResources": {"InstanceCount": 1, "InstanceType": "ml.t3.medium"}}},
    ],
}
print(json.dumps({
    "apiVersion": "stepline.dev/v1alpha1", "kind": "Pipeline", "metadata": {"name": "scoring"},
    "spec": {"pipelineDefinition": json.dumps(definition),
             "stepDefaults": {"env": [{"name": "PATH", "value": standin + ":/usr/bin:/bin"}]}}}))
PY
check "the Model -> Transform definition is Ready" wait_for 30 bash -c "[[ \$(kubectl -n $NS get pl scoring -o 'jsonpath={.status.conditions[?(@.type==\"Ready\")].status}') == True ]]"

k apply -f - >/dev/null <<YAML
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: scoring-1}
spec: {pipelineName: scoring}
YAML
check "the batch transform run ends" wait_for 120 bash -c "[[ \$(kubectl -n $NS get plx scoring-1 -o 'jsonpath={.status.pipelineExecutionStatus}') =~ ^(Succeeded|Failed)$ ]]"
check_eq "... as Succeeded" Succeeded "$(plx_status scoring-1)"
check_eq "a.csv came back as a.csv.out, one answer line per input line" "3 6 9" \
  "$(s3_request GET transform-data/scores/scoring-1/a.csv.out | tr '\n' ' ' | sed 's/ $//')"
check_eq "... ending in a newline (AssembleWith Line)" 6 \
  "$(s3_request GET transform-data/scores/scoring-1/a.csv.out | wc -c)"
check_eq "sub/b.csv as sub/b.csv.out" 30 "$(s3_request GET transform-data/scores/scoring-1/sub/b.csv.out)"
check_eq "the output prefix is the step's recorded artifact" \
  '{"output":"s3://transform-data/scores/scoring-1"}' "$(step_field scoring-1 score artifacts)"
check_eq "one request per file (MultiRecord within 1 MB), text/csv both ways" \
  "text/csv accept=text/csv lines=3|text/csv accept=text/csv lines=1" \
  "$(paste -sd'|' "$SERVE_LOG")"
pod=$(k get pods -l stepline.dev/execution=scoring-1 -o 'jsonpath={.items[0].metadata.name}')
check_eq "the model server is a native sidecar after the staging containers" \
  "artifact-in-0 artifact-in-1 artifact-out-0 model-server" \
  "$(jp "pod/$pod" '{.spec.initContainers[*].name}')"
check_eq "... running the image with the argument serve" '["serve"]' \
  "$(jp "pod/$pod" '{.spec.initContainers[?(@.name=="model-server")].args}')"
check_eq "... restartPolicy Always" Always \
  "$(jp "pod/$pod" '{.spec.initContainers[?(@.name=="model-server")].restartPolicy}')"
check_eq "... with ml.t3.medium's 2 CPUs" 2 \
  "$(jp "pod/$pod" '{.spec.initContainers[?(@.name=="model-server")].resources.requests.cpu}')"
check_eq "the main container is stepline-artifacts transform" "stepline-artifacts transform" \
  "$(jp "pod/$pod" '{.spec.containers[0].command[0]} {.spec.containers[0].command[1]}')"
check_eq "the model was unpacked from model.tar.gz (download --tar-gz)" "--tar-gz" \
  "$(jp "pod/$pod" '{.spec.initContainers[0].command[4]}')"

# ---- an invocation that fails ----
k apply -f - >/dev/null <<YAML
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: scoring-bad}
spec: {pipelineName: scoring, pipelineParameters: [{name: BatchData, value: "s3://transform-data/bad"}]}
YAML
check "a failing invocation fails the run" wait_for 120 plx_is scoring-bad Failed
check_eq "... the step as Error" Error "$(step_field scoring-bad score reason)"
msg=$(step_field scoring-bad score message)
[[ $msg == *"failed for x.csv (records 1-2)"*"HTTP 500: cannot score the line boom"* ]] &&
  ok "the message names the file, the records and the server's answer: $msg" ||
  fail "step message: $msg"
check "no output object for the failed run" \
  bash -c "! curl -sf -o /dev/null --aws-sigv4 aws:amz:us-east-1:s3 -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' --user '$STEPLINE_S3_ACCESS_KEY_ID:$STEPLINE_S3_SECRET_ACCESS_KEY' '$STEPLINE_S3_ENDPOINT/transform-data/scores/scoring-bad/x.csv.out'"

# ---- the corpus files with Transform steps compile ----
EXT="${STEPLINE_EXTERNAL_DIR:-$E2E_ROOT/../shared/external}"
if [[ -d $EXT/defs ]]; then
  for f in examples-abalone-batch-transform dynamic-framework-falcon-calhousing; do
    python3 - "$f" "$EXT/defs/$f.json" <<'PY' | k apply -f - >/dev/null
import json, sys
print(json.dumps({"apiVersion": "stepline.dev/v1alpha1", "kind": "Pipeline",
                  "metadata": {"name": sys.argv[1]},
                  "spec": {"pipelineDefinition": open(sys.argv[2]).read()}}))
PY
    check "corpus $f.json is Ready" wait_for 30 bash -c "[[ \$(kubectl -n $NS get pl $f -o 'jsonpath={.status.conditions[?(@.type==\"Ready\")].status}') == True ]]"
  done
else
  echo "SKIP: the corpus folder $EXT is absent: its Transform definitions are not applied"
fi

check "the controller is still running" kill -0 "$CONTROLLER_PID"
e2e_finish
