#!/usr/bin/env bash
# End-to-end: a SageMaker definition with Lambda steps (issue #18), from the compatibility corpus
# (../shared/external/defs/sdk-v2-lambda-step.json, written by others; read from there, never
# copied into the project), run on the test API server + local agent + controller. Exits 77
# (skipped) when the folder is absent.
#
# The definition: TestStep (a Training step with empty Arguments) and two Lambda steps after it
# that call the function sagemaker_test_lambda; MyLambdaStep2's event reads MyLambdaStep1's
# output1. Stepline calls a function over HTTP at the URL that the namespace's ConfigMap
# stepline-functions holds under the function's name; this test plays the function with a small
# HTTP server on a loopback port (the local agent runs pods on this machine), which answers
# {"output1": ARG1 + "-1", "output2": ARG1 + "-2"} and records each event it was sent.
# The Pipeline's stepDefaults give TestStep an image and put a stand-in `train` first on the
# PATH (the agent runs no images). Checked: without the ConfigMap the first Lambda step fails
# saying where to set the URL; with it, both steps run, the events and outputs are SageMaker's.
#
# Then examples-lambda-step.json (AWS's example notebook), verbatim but for its instance types
# (ml.m5.xlarge asks for more than the local node has; ml.t3.medium): Processing (preprocess.py)
# -> Training (xgboost, no entrypoint) -> Processing (evaluate.py, a PropertyFile) -> Condition
# (Std:JsonGet mse <= 6.0) -> a Model step and a Lambda step that deploys the model by name.
# Its bucket is the local S3 API server's (s3rver); preprocess.py and evaluate.py are stand-ins
# uploaded where the definition reads them, run by python3 (the entrypoint), and `train` is a
# stand-in on the PATH. Checked: every step succeeds, the data moves through the local S3, the
# JsonGet reads evaluation.json, and the function gets the event with the run's model name.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EXT="${STEPLINE_EXTERNAL_DIR:-$E2E_ROOT/../shared/external}"
if [[ ! -f $EXT/defs/sdk-v2-lambda-step.json || ! -f $EXT/defs/examples-lambda-step.json ]]; then
  echo "SKIP: the corpus folder $EXT is absent (it is not part of the project; see issue #18)"
  exit 77
fi
e2e_init lambda
BUCKET=sagemaker-us-west-2-000000000000
start_s3 "$BUCKET"
FN_DIR="$E2E_WORK/function"
mkdir -p "$FN_DIR" "$E2E_WORK/image-bin"
FN_PORT=$(free_port)
python3 - "$FN_PORT" "$FN_DIR/events" >"$FN_DIR/log" 2>&1 <<'PY' &
import http.server, json, sys
port, events = int(sys.argv[1]), sys.argv[2]
class Function(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with open(events, "a") as f:
            f.write(json.dumps({"path": self.path, "type": self.headers["Content-Type"],
                                "event": event}) + "\n")
        if "arg1" in event:  # sdk-v2-lambda-step's function
            answer = {"output1": event["arg1"] + "-1", "output2": event["arg1"] + "-2"}
        else:  # examples-lambda-step's: deploys event["model_name"]
            answer = {"statusCode": 200, "body": "deployed " + event["model_name"],
                      "other_key": {"endpoint": event["endpoint_name"]}}
        body = json.dumps(answer)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())
http.server.HTTPServer(("127.0.0.1", port), Function).serve_forever()
PY
E2E_PIDS+=("$!")
printf '#!/bin/sh\necho "stand-in train: $*"\n' >"$E2E_WORK/image-bin/train"
chmod +x "$E2E_WORK/image-bin/train"
start_controller

python3 - "$EXT/defs/sdk-v2-lambda-step.json" "$E2E_WORK/image-bin" <<'PY' | k apply -f - >/dev/null
import json, sys
print(json.dumps({
    "apiVersion": "stepline.dev/v1alpha1", "kind": "Pipeline", "metadata": {"name": "lambdas"},
    "spec": {"pipelineDefinition": open(sys.argv[1]).read(),
             "stepDefaults": {"image": "stand-in:1",
                              "env": [{"name": "PATH", "value": sys.argv[2] + ":/usr/bin:/bin"}]}}}))
PY
execution() { # NAME (MyStr has no default: SageMaker requires it too)
  k apply -f - >/dev/null <<YAML
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: $1}
spec: {pipelineName: lambdas, pipelineParameters: [{name: MyStr, value: s}]}
YAML
}
finished() { [[ $(plx_status "$1") =~ ^(Succeeded|Failed)$ ]]; }
check "the definition is Ready" wait_for 30 bash -c "[[ \$(kubectl -n $NS get pl lambdas -o 'jsonpath={.status.conditions[?(@.type==\"Ready\")].status}') == True ]]"
msg=$(jp pl/lambdas '{.status.conditions[?(@.type=="Ready")].message}')
[[ $msg == *'calls function "sagemaker_test_lambda" over HTTP'*stepline-functions* ]] &&
  ok "Ready's warnings say how the function is called" || fail "Ready message: $msg"

# ---- no URL for the function: the step fails saying where to set it ----
execution nourl-1
check "without the ConfigMap the run ends" wait_for 90 finished nourl-1
check_eq "... Failed" Failed "$(plx_status nourl-1)"
want="function \"sagemaker_test_lambda\" has no URL: set it in the key \"sagemaker_test_lambda\" of ConfigMap stepline-functions in namespace $NS"
got=$(step_field nourl-1 my-lambda-step1 message)
[[ $got == *"$want"* ]] && ok "the step says where to set the URL: $got" || fail "message: $got (want: $want)"
check_eq "the function was not called" "" "$(cat "$FN_DIR/events" 2>/dev/null)"

# ---- with the URL: both Lambda steps run, the second reading the first's output ----
k create configmap stepline-functions \
  --from-literal=sagemaker_test_lambda="http://127.0.0.1:$FN_PORT/2015-03-31/functions/fn/invocations" >/dev/null
execution lambdas-1
check "with the ConfigMap the run ends" wait_for 90 finished lambdas-1
check_eq "... Succeeded" Succeeded "$(plx_status lambdas-1)"
check_eq "MyLambdaStep1's output1 is the function's" '{"output1":"foo-1"}' \
  "$(step_field lambdas-1 my-lambda-step1 outputs)"
check_eq "MyLambdaStep2's output2, from an event that read output1" '{"output2":"foo-1-2"}' \
  "$(step_field lambdas-1 my-lambda-step2 outputs)"
events=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    print(e["path"], e["type"], json.dumps(e["event"], sort_keys=True))' "$FN_DIR/events" | sort)
check_eq "the function got the two events as JSON at its URL" \
  "/2015-03-31/functions/fn/invocations application/json {\"arg1\": \"foo\"}
/2015-03-31/functions/fn/invocations application/json {\"arg1\": \"foo-1\"}" "$events"

# ---- AWS's Lambda step example, Processing -> Training -> Processing -> Condition -> Lambda ----
k create secret generic s3-creds --from-literal=AWS_ACCESS_KEY_ID="$STEPLINE_S3_ACCESS_KEY_ID" \
  --from-literal=AWS_SECRET_ACCESS_KEY="$STEPLINE_S3_SECRET_ACCESS_KEY" >/dev/null
k create configmap stepline-artifact-repository --from-literal=bucket="$BUCKET" \
  --from-literal=endpoint="$STEPLINE_S3_ENDPOINT" --from-literal=credentialsSecret=s3-creds >/dev/null
k patch configmap stepline-functions --type merge -p "{\"data\":{\"sagemaker-lambda-step-endpoint-deploy-07-13-15-58-57\":\"http://127.0.0.1:$FN_PORT/\"}}" >/dev/null
cat >"$E2E_WORK/preprocess.py" <<'PY'
# Stand-in for the example's preprocess.py: splits a made-up data set into its three outputs.
import os, sys
assert sys.argv[1] == "--input-data" and sys.argv[2].startswith("s3://"), sys.argv
for name, rows in (("train", 8), ("validation", 2), ("test", 3)):
    with open(f"/opt/ml/processing/{name}/{name}.csv", "w") as f:
        f.writelines(f"{i},{i / 2}\n" for i in range(rows))
print("preprocessed", sys.argv[2])
PY
cat >"$E2E_WORK/evaluate.py" <<'PY'
# Stand-in for the example's evaluate.py: reads the model and the test split, writes the report.
import json, tarfile
with tarfile.open("/opt/ml/processing/model/model.tar.gz") as t:
    model = t.extractfile("xgboost-model").read().decode().strip()
rows = open("/opt/ml/processing/test/test.csv").read().splitlines()
report = {"regression_metrics": {"mse": {"value": 2.5, "standard_deviation": 0.25}},
          "model": model, "test_rows": len(rows)}
json.dump(report, open("/opt/ml/processing/evaluation/evaluation.json", "w"))
PY
cat >"$E2E_WORK/image-bin/train" <<'SH'
#!/bin/sh
# Stand-in for the xgboost image's train: the channels must be staged; writes the model.
ls /opt/ml/input/data/train/train.csv /opt/ml/input/data/validation/validation.csv || exit 4
# Not at once: a container that ends within milliseconds can end before the artifact-upload
# sidecar has blocked SIGTERM, which then dies of it (exit 143, ArtifactError); the race of the
# staging reported with sagemaker_steps_e2e's stand-in.
sleep 2
echo "booster rounds=$SM_HP_NUM_ROUND" >/opt/ml/model/xgboost-model
SH
s3_request PUT "$BUCKET/lambda-step-example/sklearn-abalone-pre-2022-07-13-15-58-56-005/input/code/preprocess.py" \
  --data-binary @"$E2E_WORK/preprocess.py" >/dev/null
s3_request PUT "$BUCKET/lambda-step-pipeline/lambda-step-exampl-2022-07-13-15-58-56-545/input/code/evaluate.py" \
  --data-binary @"$E2E_WORK/evaluate.py" >/dev/null
python3 - "$EXT/defs/examples-lambda-step.json" "$E2E_WORK/image-bin" <<'PY' | k apply -f - >/dev/null
import json, sys
text = open(sys.argv[1]).read().replace('"ml.m5.xlarge"', '"ml.t3.medium"')
print(json.dumps({
    "apiVersion": "stepline.dev/v1alpha1", "kind": "Pipeline", "metadata": {"name": "abalone"},
    "spec": {"pipelineDefinition": text,
             "stepDefaults": {"env": [{"name": "PATH", "value": sys.argv[2] + ":/usr/bin:/bin"}]}}}))
PY
check "the example definition is Ready" wait_for 30 bash -c "[[ \$(kubectl -n $NS get pl abalone -o 'jsonpath={.status.conditions[?(@.type==\"Ready\")].status}') == True ]]"
k apply -f - >/dev/null <<YAML
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: abalone-1}
spec: {pipelineName: abalone}
YAML
check "the example's run ends" wait_for 180 finished abalone-1
check_eq "... Succeeded" Succeeded "$(plx_status abalone-1)"
for step in preprocess-abalone-data train-abalone-model evaluate-abalone-model create-model-create-model lambda-step; do
  check_eq "step $step succeeded" Succeeded "$(step_field abalone-1 "$step" phase)"
done
report=$(s3_request GET "$BUCKET/lambda-step-pipeline/evaluation_report/evaluation.json")
check_eq "evaluation.json went to its S3Output, with the trained model in it" \
  '2.5 booster rounds=50 3' "$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["regression_metrics"]["mse"]["value"], r["model"], r["test_rows"])' "$report")"
check_eq "the Lambda step's outputs are the function's answer" \
  "{\"body\":\"deployed abalone-1-create-model-create-model\",\"other_key\":\"{\\\"endpoint\\\":\\\"demo-lambda-deploy-endpoint-07-13-15-58-57\\\"}\",\"statusCode\":\"200\"}" \
  "$(step_field abalone-1 lambda-step outputs)"
event=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)["event"]
    if "model_name" in e: print(json.dumps(e, sort_keys=True))' "$FN_DIR/events")
check_eq "the function got the model's name and the endpoint names" \
  '{"endpoint_config_name": "demo-lambda-deploy-endpoint-config-07-13-15-58-57", "endpoint_name": "demo-lambda-deploy-endpoint-07-13-15-58-57", "model_name": "abalone-1-create-model-create-model"}' \
  "$event"
check "the controller is still running" kill -0 "$CONTROLLER_PID"
e2e_finish
