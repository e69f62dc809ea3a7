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
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EXT="${STEPLINE_EXTERNAL_DIR:-$E2E_ROOT/../shared/external}"
if [[ ! -f $EXT/defs/sdk-v2-lambda-step.json ]]; then
  echo "SKIP: the corpus folder $EXT is absent (it is not part of the project; see issue #18)"
  exit 77
fi
e2e_init lambda
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
        body = json.dumps({"output1": event["arg1"] + "-1", "output2": event["arg1"] + "-2"})
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
check "the controller is still running" kill -0 "$CONTROLLER_PID"
e2e_finish
