#!/usr/bin/env bash
# Step artifacts end to end (issue #18): the controller, the real test API server, the local
# agent running the staging containers (stepline-artifacts from the build, put on the pods' PATH
# by testenv/up.sh) and a real S3 API server (testenv/s3-up.sh: s3rver, SigV4 verified) started
# here on a loopback port. Checked in S3 itself with curl's own SigV4 signing:
#   - step a reads a file, a directory and a file into a directory (path ending in '/') from
#     s3:// URIs and writes a directory as one .tar.gz (archive: tgz), a file and a directory
#     output, uploaded under the namespace's repository; step b reads a's file through `from`
#     and gets `{{steps.a.artifacts.model.uri}}` in its args;
#   - a missing object, bad repository credentials (download) and a missing bucket (upload)
#     fail the step with ArtifactError and the storage's message.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init artifacts-s3
start_s3 arts data
start_controller --artifacts-image=stepline/controller:e2e --artifact-upload-grace=60

put() { printf '%s' "$2" | s3_request PUT "$1" --data-binary @- >/dev/null; }
put data/in/greeting.txt "hello from s3"
put data/set/a.txt "alpha"
put data/set/b/c.txt "gamma"

k create secret generic s3-creds --from-literal=AWS_ACCESS_KEY_ID="$STEPLINE_S3_ACCESS_KEY_ID" \
  --from-literal=AWS_SECRET_ACCESS_KEY="$STEPLINE_S3_SECRET_ACCESS_KEY" >/dev/null
k create secret generic bad-creds --from-literal=AWS_ACCESS_KEY_ID="$STEPLINE_S3_ACCESS_KEY_ID" \
  --from-literal=AWS_SECRET_ACCESS_KEY=not-the-secret >/dev/null
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: stepline-artifact-repository}
data: {bucket: arts, prefix: runs, endpoint: "$STEPLINE_S3_ENDPOINT", credentialsSecret: s3-creds}
YAML
k apply -f - >/dev/null <<'YAML'
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: pass}
spec:
  stepDefaults: {image: busybox}
  steps:
  - name: a
    command: ["sh", "-c"]
    args:
    - |
      set -e
      cmp /in/greeting.txt /code/greeting.txt
      { cat /in/greeting.txt; echo; cat /in/set/a.txt /in/set/b/c.txt; } > /out/model.bin
      mkdir -p /report/sub && echo r1 > /report/one.txt && echo r2 > /report/sub/two.txt
      mkdir -p /bundle/deep && echo b1 > /bundle/deep/b.txt
    inputs:
      artifacts:
      - {name: greeting, path: /in/greeting.txt, s3: "s3://data/in/greeting.txt"}
      - {name: set, path: /in/set/, s3: "s3://data/set"}
      - {name: code, path: /code/, s3: "s3://data/in/greeting.txt"}
    outputs:
      artifacts:
      - {name: model, path: /out/model.bin}
      - {name: report, path: /report/}
      - {name: bundle, path: /bundle/, archive: tgz}
  - name: b
    dependsOn: [a]
    command: ["sh", "-c", "printf '{\"uri\": \"%s\", \"model\": \"%s\"}' \"$0\" \"`tr '\\n' '|' < /in/model.bin`\" > /dev/termination-log"]
    args: ["{{steps.a.artifacts.model.uri}}"]
    inputs:
      artifacts:
      - {name: model, path: /in/model.bin, from: "{{steps.a.artifacts.model}}"}
---
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: missing}
spec:
  steps:
  - name: a
    image: busybox
    command: ["true"]
    inputs: {artifacts: [{name: x, path: /in/x, s3: "s3://data/no/such/key"}]}
---
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: nobucket}
spec:
  steps:
  - name: a
    image: busybox
    command: ["sh", "-c", "echo data > /out/x"]
    outputs: {artifacts: [{name: x, path: /out/x, s3: "s3://no-such-bucket/x"}]}
---
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: run}
spec: {pipelineName: pass}
---
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: miss}
spec: {pipelineName: missing}
---
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: upfail}
spec: {pipelineName: nobucket}
YAML

check "run succeeds" wait_for 180 plx_is run Succeeded
model_uri="s3://arts/runs/$NS/run/a/attempt-1/model"
check_eq "a's artifacts are recorded with their URIs" \
  "{\"bundle\":\"s3://arts/runs/$NS/run/a/attempt-1/bundle\",\"model\":\"$model_uri\",\"report\":\"s3://arts/runs/$NS/run/a/attempt-1/report\"}" \
  "$(step_field run a artifacts)"
check_eq "the model in S3: the downloaded file and directory, as a wrote them" \
  "hello from s3
alphagamma" "$(s3_request GET "arts/runs/$NS/run/a/attempt-1/model")"
check_eq "the directory output: one object per file" "r1 r2" \
  "$(s3_request GET "arts/runs/$NS/run/a/attempt-1/report/one.txt") $(s3_request GET "arts/runs/$NS/run/a/attempt-1/report/sub/two.txt")"
check_eq "archive: tgz: one .tar.gz object with the directory's contents" "deep/ deep/b.txt b1" \
  "$(s3_request GET "arts/runs/$NS/run/a/attempt-1/bundle" | tar -tz | tr '\n' ' ')$(s3_request GET "arts/runs/$NS/run/a/attempt-1/bundle" | tar -xzO deep/b.txt)"
check_eq "b got {{steps.a.artifacts.model.uri}} in its args" "$model_uri" "$(step_field run b outputs.uri)"
check_eq "b read a's model through from" "hello from s3|alphagamma" "$(step_field run b outputs.model)"

check "miss fails" wait_for 120 plx_is miss Failed
check_eq "a missing object is ArtifactError" ArtifactError "$(step_field miss a reason)"
check "with the storage's message" grep -qF \
  "NoSuchKey: no object s3://data/no/such/key and no objects under s3://data/no/such/key/" \
  <<<"$(step_field miss a message)"

check "upfail fails" wait_for 120 plx_is upfail Failed
check_eq "a failed upload is ArtifactError" ArtifactError "$(step_field upfail a reason)"
check "with the storage's message" grep -qF \
  "s3://no-such-bucket/x: NoSuchBucket: The specified bucket does not exist" \
  <<<"$(step_field upfail a message)"

# Bad credentials in the repository's Secret: the storage refuses the signature.
k patch configmap stepline-artifact-repository --type merge \
  -p '{"data": {"credentialsSecret": "bad-creds"}}' >/dev/null
sleep 2  # the controller's informer sees the ConfigMap change
k apply -f - >/dev/null <<'YAML'
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: badcreds}
spec: {pipelineName: pass}
YAML
check "badcreds fails" wait_for 120 plx_is badcreds Failed
check_eq "bad credentials are ArtifactError" ArtifactError "$(step_field badcreds a reason)"
check "with the storage's message" grep -qF "SignatureDoesNotMatch" <<<"$(step_field badcreds a message)"
echo "messages: miss: $(step_field miss a message)"
echo "          upfail: $(step_field upfail a message)"
echo "          badcreds: $(step_field badcreds a message)"
e2e_finish
