#!/usr/bin/env bash
# Notebook steps end to end (issue #21): the controller, the real test API server, the local
# agent running stepline-notebook (papermill and a real ipykernel; scripts/setup.sh installs
# them) and the upload sidecar against a real S3 API server (testenv/s3-up.sh) started here.
#   - run: `prepare` gets a String, an Integer and a List parameter and a literal float, checked
#     in its executed copy fetched from S3 (valid nbformat 4, the injected-parameters cell right
#     after the parameters cell, the types the kernel saw); `train` is fanned out over three
#     horizons, each executed copy fetched and checked; `deploy` runs and `alert` is skipped on
#     prepare's output `mape`, published with stepline.output;
#   - broken: a cell raises ZeroDivisionError: the step fails with class Error, its message names
#     the exception and the uploaded executed copy, which holds the traceback.
#   - norepo: without the namespace's repository the step succeeds and its message says the
#     executed notebook was not kept and where the cell outputs are.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init notebook
PY=/usr/bin/python3  # Debian's, with nbformat (a python3 earlier on the PATH may lack it)
if ! $PY -c 'import nbformat' 2>/dev/null; then
  echo "python3-nbformat is missing (scripts/setup.sh installs it)"
  echo "0 passed, 1 failed"
  exit 1
fi
start_s3 arts
start_controller --artifacts-image=stepline/controller:e2e --artifact-upload-grace=60

# The notebooks, written with nbformat: a parameters cell, then code that uses the parameters.
$PY - "$E2E_WORK" <<'PYTHON'
import sys
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

def notebook(path, params, *cells):
    nb = new_notebook()
    p = new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [new_markdown_cell("# " + path), p] + [new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, f"{sys.argv[1]}/{path}")

notebook("prepare.ipynb", "horizon = '1d'\nepochs = 1\ncountries = []\nrate = 0.0",
         "print(horizon, type(epochs).__name__, type(countries).__name__, type(rate).__name__)",
         "import stepline\nstepline.output('rows', len(countries) * epochs)\n"
         "stepline.output('mape', 0.12)")
notebook("train.ipynb", "horizon = 'none'\nrows = 0",
         "import stepline\nprint('training', horizon, 'on', rows, 'rows')\n"
         "stepline.output('score', {'1d': 0.9, '1w': 0.8, '1m': 0.7}[horizon])")
notebook("broken.ipynb", "divisor = 1", "x = 10", "x / divisor")
PYTHON

k create secret generic s3-creds --from-literal=AWS_ACCESS_KEY_ID="$STEPLINE_S3_ACCESS_KEY_ID" \
  --from-literal=AWS_SECRET_ACCESS_KEY="$STEPLINE_S3_SECRET_ACCESS_KEY" >/dev/null
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: stepline-artifact-repository}
data: {bucket: arts, prefix: runs, endpoint: "$STEPLINE_S3_ENDPOINT", credentialsSecret: s3-creds}
---
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: forecast}
spec:
  parameters:
  - {name: horizon, type: String, default: "1d"}
  - {name: epochs, type: Integer, default: "3"}
  - {name: countries, type: List, default: '["fr", "de"]'}
  stepDefaults:
    image: jupyter
    notebook: {kernel: python3}
  steps:
  - name: prepare
    type: Notebook
    notebook:
      path: $E2E_WORK/prepare.ipynb
      parameters:
        horizon: "{{parameters.horizon}}"
        epochs: "{{parameters.epochs}}"
        countries: "{{parameters.countries}}"
        rate: 0.05
  - name: train
    type: Notebook
    dependsOn: [prepare]
    forEach: '["1d", "1w", "1m"]'
    notebook:
      path: $E2E_WORK/train.ipynb
      parameters: {horizon: "{{item}}", rows: "{{steps.prepare.outputs.rows}}"}
  - name: deploy
    dependsOn: [prepare]
    when: "{{steps.prepare.outputs.mape}} < 0.2"
    command: [sh, -c, 'printf "{\"deployed\": \"%s\"}" "\$0" > /dev/termination-log', "{{steps.prepare.artifacts.notebook.uri}}"]
  - name: alert
    dependsOn: [prepare]
    when: "{{steps.prepare.outputs.mape}} >= 0.2"
    command: ["true"]
---
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: broken}
spec:
  steps:
  - name: fail
    type: Notebook
    image: jupyter
    notebook: {path: $E2E_WORK/broken.ipynb, parameters: {divisor: 0}}
---
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: run}
spec:
  pipelineName: forecast
  pipelineParameters: [{name: horizon, value: "1w"}]
---
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: bad}
spec: {pipelineName: broken}
YAML

# fetch_notebook URI FILE: the object behind an s3:// URI of the repository, into FILE.
fetch_notebook() { s3_request GET "${1#s3://}" -o "$2"; }
# nb_check FILE PYTHON: validates FILE as nbformat 4 and runs PYTHON with `nb` and `cells` bound;
# prints what PYTHON prints.
nb_check() {
  $PY - "$1" "$2" <<'PYTHON'
import sys
import nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
nbformat.validate(nb)
assert nb.nbformat == 4
cells = nb.cells
exec(sys.argv[2])
PYTHON
}
# Prints, for an executed copy: the tags of the cells, the injected cell's source, all stdout.
SUMMARY='
print("tags:", [c.metadata.get("tags", []) for c in cells if c.cell_type == "code"][:2])
print("injected:", [c.source for c in cells if "injected-parameters" in c.metadata.get("tags", [])])
print("stdout:", "".join(o.get("text", "") for c in cells if c.cell_type == "code"
                        for o in c.outputs if o.output_type == "stream").strip())'

check "run succeeds" wait_for 300 plx_is run Succeeded
prepare_uri="s3://arts/runs/$NS/run/prepare/attempt-1/notebook"
check_eq "prepare's executed notebook is its artifact" "{\"notebook\":\"$prepare_uri\"}" \
  "$(step_field run prepare artifacts)"
fetch_notebook "$prepare_uri" "$E2E_WORK/prepare.out.ipynb"
got=$(nb_check "$E2E_WORK/prepare.out.ipynb" "$SUMMARY" 2>&1)
check_eq "prepare's executed copy: nbformat 4, parameters injected typed after the parameters cell" \
  "tags: [['parameters'], ['injected-parameters']]
injected: ['# Parameters\\ncountries = [\"fr\", \"de\"]\\nepochs = 3\\nhorizon = \"1w\"\\nrate = 0.05\\n']
stdout: 1w int list float" "$got"
check_eq "prepare's outputs, published with stepline.output" '{"mape":"0.12","rows":"6"}' \
  "$(step_field run prepare outputs)"
check_eq "train fanned out: 3 of 3 succeeded" "3/3" \
  "$(step_field run train children.succeeded)/$(step_field run train children.total)"
check_eq "train's outputs in item order" '{"score":"[\"0.9\",\"0.8\",\"0.7\"]"}' \
  "$(step_field run train outputs)"
train_uris=$(step_field run train artifacts.notebook)
i=0
for horizon in 1d 1w 1m; do
  uri="s3://arts/runs/$NS/run/train/$i/attempt-1/notebook"
  check "train[$i]'s notebook URI is in the status" grep -qF "\"$uri\"" <<<"$train_uris"
  fetch_notebook "$uri" "$E2E_WORK/train-$i.ipynb"
  got=$(nb_check "$E2E_WORK/train-$i.ipynb" "$SUMMARY" 2>&1)
  check_eq "train[$i]'s executed copy got its item and prepare's output" \
    "tags: [['parameters'], ['injected-parameters']]
injected: ['# Parameters\\nhorizon = \"$horizon\"\\nrows = 6\\n']
stdout: training $horizon on 6 rows" "$got"
  i=$((i + 1))
done
check_eq "deploy ran on prepare's mape, with its notebook's URI" "$prepare_uri" \
  "$(step_field run deploy outputs.deployed)"
check_eq "alert was skipped on prepare's mape" Skipped "$(step_field run alert phase)"

check "bad fails" wait_for 180 plx_is bad Failed
check_eq "a raising cell fails the attempt with class Error" Error "$(step_field bad fail reason)"
bad_uri="s3://arts/runs/$NS/bad/fail/attempt-1/notebook"
message=$(step_field bad fail message)
check "the message names the exception and the cell" grep -qF \
  "exit code 1: ZeroDivisionError: division by zero in cell 5 (In [4])" <<<"$message"
check "the message names the executed notebook" grep -qF "executed notebook: $bad_uri" <<<"$message"
fetch_notebook "$bad_uri" "$E2E_WORK/bad.ipynb"
got=$(nb_check "$E2E_WORK/bad.ipynb" '
errors = [o for c in cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
print([(e.ename, e.evalue, bool(e.traceback)) for e in errors])' 2>&1)
check_eq "the failed run's executed copy holds the traceback" \
  "[('ZeroDivisionError', 'division by zero', True)]" "$got"

# Without a repository: the notebook runs, and the step says where the notebook went.
k delete configmap stepline-artifact-repository >/dev/null
k patch pipeline broken --type json \
  -p '[{"op": "replace", "path": "/spec/steps/0/notebook/parameters/divisor", "value": 2}]' >/dev/null
sleep 2  # the controller's informers see both changes
k apply -f - >/dev/null <<'YAML'
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: norepo}
spec: {pipelineName: broken}
YAML
check "norepo succeeds" wait_for 180 plx_is norepo Succeeded
check_eq "without a repository the message says where the notebook went" \
  "executed notebook not kept: the namespace has no ConfigMap stepline-artifact-repository to upload it to; the cell outputs are in the log: kubectl logs job/$(step_field norepo fail jobName)" \
  "$(step_field norepo fail message)"
check_eq "and records no artifact" "" "$(step_field norepo fail artifacts)"
echo "messages: bad: $message"
e2e_finish
