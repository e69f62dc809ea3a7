"""The cases of tests/e2e/hostile_test.py (issue #16), as tables.

admission_cases(): objects admission must refuse (the error must name the field) or accept.
pipeline_cases(): Pipelines and the Ready condition they must get.
execution_cases(): a Pipeline and an execution each, with what the execution must end as.
dynamic_actions(): what the suite does to the cluster while the runs go (out-of-band deletes,
an admin's status patch, a planted Job).
"""
import base64
import json

NS = ""  # set by the suite
API = "stepline.dev/v1alpha1"
INT64_MAX = 9223372036854775807
TERM = "/dev/termination-log"


def pipeline(name, steps_or_spec, **extra):
    spec = steps_or_spec if isinstance(steps_or_spec, dict) else {"steps": steps_or_spec}
    spec = dict(spec)
    spec.setdefault("stepDefaults", {"image": "busybox"})
    spec.update(extra)
    return {"apiVersion": API, "kind": "Pipeline", "metadata": {"name": name}, "spec": spec}


def step(name, *command, **more):
    s = {"name": name, "command": list(command) or ["true"]}
    s.update(more)
    return s


def sh(name, script, **more):
    return step(name, "sh", "-c", script, **more)


def execution(name, **spec):
    spec.setdefault("pipelineName", "canary")
    return {"apiVersion": API, "kind": "PipelineExecution", "metadata": {"name": name},
            "spec": spec}


# ---- admission ----

NUMERIC_FIELDS = [  # (path in a step, maximum)
    (("timeoutSeconds",), 31536000),
    (("retryPolicy", "maxAttempts"), 1000),
    (("retryPolicy", "intervalSeconds"), 2592000),
    (("retryPolicy", "maxIntervalSeconds"), 2592000),
    (("retryPolicy", "expireAfterMinutes"), 525600),
    (("retryPolicy", "backoffRate"), 1000),
]


def with_field(path, value):
    s = step("a")
    node = s
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    if path[-1] == "maxIntervalSeconds":
        node["intervalSeconds"] = 0
    return s


def admission_cases():
    out = []
    for path, maximum in NUMERIC_FIELDS:
        field = "spec.steps[0]." + ".".join(path)
        for value in (INT64_MAX, maximum + 1, 4294967297):
            out.append({"name": "%s = %d" % (field, value),
                        "object": pipeline("adm", [with_field(path, value)]),
                        "error": [field, "less than or equal to %d" % maximum]})
        out.append({"name": "%s = %d (the bound)" % (field, maximum), "accepted": True,
                    "object": pipeline("adm-ok", [with_field(path, maximum)])})
        defaults = dict(with_field(path, maximum + 1))
        del defaults["name"], defaults["command"]
        out.append({"name": "spec.stepDefaults.%s past the bound" % ".".join(path),
                    "object": pipeline("adm", [step("a")], stepDefaults=dict(defaults, image="b")),
                    "error": ["spec.stepDefaults." + ".".join(path), "less than or equal to"]})
    for value in (-1, 0):
        out.append({"name": "timeoutSeconds = %d" % value,
                    "object": pipeline("adm", [step("a", timeoutSeconds=value)]),
                    "error": ["spec.steps[0].timeoutSeconds", "greater than or equal to 1"]})
        out.append({"name": "maxAttempts = %d" % value,
                    "object": pipeline("adm", [step("a", retryPolicy={"maxAttempts": value})]),
                    "error": ["spec.steps[0].retryPolicy.maxAttempts", "greater than or equal to 1"]})
    for field, value in (("maxParallel", 10001), ("maxParallel", INT64_MAX)):
        out.append({"name": "%s = %d" % (field, value),
                    "object": pipeline("adm", [step("a", forEach="[1]", **{field: value})]),
                    "error": ["spec.steps[0]." + field, "less than or equal to 10000"]})
    out.append({"name": "spec.parallelismConfiguration.maxParallelExecutionSteps = 2^63-1",
                "object": pipeline("adm", [step("a")],
                                   parallelismConfiguration={"maxParallelExecutionSteps": INT64_MAX}),
                "error": ["maxParallelExecutionSteps", "less than or equal to 10000"]})
    for value in (INT64_MAX, 31536001):
        out.append({"name": "execution timeoutSeconds = %d" % value,
                    "object": execution("adm-x", timeoutSeconds=value),
                    "error": ["spec.timeoutSeconds", "less than or equal to 31536000"]})
    out.append({"name": "execution maxParallelExecutionSteps = 2^63-1",
                "object": execution("adm-x", parallelismConfiguration={
                    "maxParallelExecutionSteps": INT64_MAX}),
                "error": ["maxParallelExecutionSteps", "less than or equal to 10000"]})
    out.append({"name": "stepDefaults.onFailure (not a stepDefaults field, as documented)",
                "object": pipeline("adm", [step("a")],
                                   stepDefaults={"image": "b", "onFailure": "Continue"}),
                "error": ["onFailure"]})
    out.append({"name": "a step name of 41 characters",
                "object": pipeline("adm", [step("a" * 41)]),
                "error": ["spec.steps[0].name", "40"]})
    out.append({"name": "a step name of 40 characters (the limit)", "accepted": True,
                "object": pipeline("adm-ok", [step("a" * 40)])})
    for bad in ("ü", "a\tb", "-a", "a-", "_a", "a b", "a.b"):
        out.append({"name": "step name %r" % bad, "object": pipeline("adm", [step(bad)]),
                    "error": ["spec.steps[0].name"]})
    # SageMaker-style names are step names too (issue #18): upper case and '_' inside.
    for good in ("Upper", "a_b", "AbaloneTrain"):
        out.append({"name": "step name %r (SageMaker style)" % good, "accepted": True,
                    "object": pipeline("adm-ok", [step(good)])})
    out.append({"name": "an execution name of 64 characters",
                "object": execution("x" * 64), "error": ["metadata.name"]})
    out.append({"name": "501 steps", "object": pipeline("adm", [step("s%d" % i) for i in range(501)]),
                "error": ["spec.steps", "must have at most 500 items"]})
    out.append({"name": "a 4097-character signal message",
                "object": execution("adm-x", signals=[{"step": "a", "outcome": "Succeeded",
                                                       "message": "m" * 4097}]),
                "error": ["spec.signals[0].message", "4096"]})
    return out


# ---- Pipelines (the controller's validation, into Ready) ----

def pipeline_cases():
    many = [step("a", timeoutSeconds=1), step("b", dependsOn=["nope"]),
            step("c", "echo", "{{parameters.missing}}")]
    return [
        {"name": "pl-valid", "spec": [step("a")], "ready": ("True",)},
        {"name": "pl-env-collision",
         "spec": {"parameters": [{"name": "my-p", "default": "1"}, {"name": "my_p", "default": "2"}],
                  "steps": [step("a")]},
         "ready": ("False", 'parameters "my-p" and "my_p" would both be the environment variable '
                   "STEPLINE_PARAM_MY_P")},
        {"name": "pl-many-problems", "spec": many,
         "ready": ("False", 'spec.steps[1] (b).dependsOn: unknown step "nope"; ',
                   'unknown parameter "missing"')},
        {"name": "pl-secret-name",
         "spec": [step("a", env=[{"name": "P", "valueFrom": {
             "secretKeyRef": {"name": "Not_A_Name", "key": "k"}}}])],
         "ready": ("False", 'secretKeyRef.name: "Not_A_Name" is not a valid object name')},
        {"name": "pl-nan-default",
         "spec": {"parameters": [{"name": "f", "type": "Float", "default": "NaN"}],
                  "steps": [step("a")]},
         "ready": ("False", "must be a finite number")},
        {"name": "pl-cycle", "spec": [step("a", dependsOn=["b"]), step("b", dependsOn=["a"])],
         "ready": ("False", "dependency cycle")},
        {"name": "pl-template-in-when", "spec": [step("a", when="{{parameters.nope}} == 1")],
         "ready": ("False", 'unknown parameter "nope"')},
        {"name": "pl-service-account", "spec": {"serviceAccountName": "admin-sa",
                                                "steps": [step("a")]},
         "ready": ("False", 'spec.serviceAccountName: "admin-sa" is not allowed in namespace')},
        {"name": "pl-tolerate-all",
         "spec": [step("a", tolerations=[{"operator": "Exists"}])],
         "ready": ("False", "tolerating every taint is not allowed")},
        {"name": "pl-control-plane",
         "spec": [step("a", nodeSelector={"node-role.kubernetes.io/control-plane": ""},
                       tolerations=[{"key": "node-role.kubernetes.io/control-plane",
                                     "operator": "Exists", "effect": "NoSchedule"}])],
         "ready": ("False", "the control-plane taint is not allowed",
                   "selecting control-plane nodes is not allowed")},
        {"name": "pl-request-over-limit",
         "spec": [step("a", resources={"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}})],
         "ready": ("False", "request 2Gi exceeds the limit 1Gi")},
    ]


# ---- executions ----

def output_check(step_name, key, want):
    def check(obj, _kubectl):
        for s in obj.get("status", {}).get("steps", []):
            if s.get("name") == step_name:
                got = s.get("outputs", {}).get(key)
                return got == want, "got %r" % (got,)
        return False, "no step"
    return check


def events_with(reason, text):
    def check(obj, kubectl):
        p = kubectl("get", "events", "-o", "json")
        items = json.loads(p.stdout)["items"] if p.returncode == 0 else []
        msgs = [e.get("message", "") for e in items
                if e["involvedObject"].get("name") == obj["metadata"]["name"]
                and e.get("reason") == reason]
        return any(text in m for m in msgs), str(msgs)[:400]
    return check


def secret():
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
            "data": {"password": base64.b64encode(b"s3cr3t-value").decode()}}


def cut(text):
    return lambda v: isinstance(v, str) and "more bytes cut]" in v and len(v) <= 4096


BAD_VALUES = [  # (type, value, what the message says)
    ("Integer", "1.5", "must be an integer"), ("Integer", "", "must be an integer"),
    ("Integer", " 1", "must be an integer"), ("Integer", "0x10", "must be an integer"),
    ("Integer", "-9223372036854775809", "must be an integer"),
    ("Float", "Infinity", "must be a finite number"), ("Float", "-inf", "must be a finite number"),
    ("Float", "1,5", "must be a finite number"), ("Float", "abc", "must be a finite number"),
    ("Boolean", "True", "must be true or false"), ("Boolean", "yes", "must be true or false"),
    ("Boolean", "1", "must be true or false"),
    ("List", "{", "must be a JSON list"), ("List", "[1,", "must be a JSON list"),
    ("List", "null", "must be a JSON list"), ("List", "\"x\"", "must be a JSON list"),
]


def parameter_cases():
    out = []
    for i, (ptype, value, why) in enumerate(BAD_VALUES):
        out.append({"name": "param-%s-%d" % (ptype.lower(), i),
                    "pipeline": {"parameters": [{"name": "v", "type": ptype}], "steps": [step("a")]},
                    "execution": {"pipelineParameters": [{"name": "v", "value": value}]},
                    "want": {"status": "Failed", "reason": "InvalidParameters",
                             "message": ['parameter "v": ' + why]}})
    enum = {"parameters": [{"name": "h", "enum": ["1d", "1w"], "default": "1d"}],
            "steps": [step("a")]}
    out += [
        {"name": "param-enum", "pipeline": enum,
         "execution": {"pipelineParameters": [{"name": "h", "value": "1y"}]},
         "want": {"status": "Failed", "reason": "InvalidParameters",
                  "message": ['"1y" is not one of the allowed values (1d, 1w)']}},
        {"name": "param-unknown", "pipeline": enum,
         "execution": {"pipelineParameters": [{"name": "nope", "value": "1"}]},
         "want": {"status": "Failed", "reason": "InvalidParameters",
                  "message": ['parameter "nope": is not declared by the pipeline']}},
        {"name": "param-required", "pipeline": {"parameters": [{"name": "r"}], "steps": [step("a")]},
         "want": {"status": "Failed", "reason": "InvalidParameters",
                  "message": ['parameter "r": is required and has no default']}},
        {"name": "no-such-pipeline", "execution": {"pipelineName": "does-not-exist"},
         "want": {"reason": "PipelineNotFound",
                  "message": ['pipeline "does-not-exist" not found in namespace']}},
    ]
    return out


def execution_cases():
    return parameter_cases() + run_cases()


def run_cases():
    big_params = [{"name": "p%d" % i} for i in range(200)]
    big_values = [{"name": "p%d" % i, "value": chr(97 + i % 26) * 4000} for i in range(200)]
    out4k = "printf '{\"blob\":\"%s\",\"n\":\"1\"}' " + "$(head -c 4000 /dev/zero | tr '\\0' b)" + \
        " > " + TERM
    long_when = " && ".join(["'a' == 'b'"] * 290)  # 4056 characters (the CRD allows 4096)
    return [
        {"name": "fail-4096", "pipeline": [{"name": "stop", "type": "Fail", "message": "m" * 4096}],
         "want": {"status": "Failed", "reason": "FailStep", "message": ["more bytes cut]"],
                  "steps": [("stop", "message", cut)]}},
        {"name": "when-4080", "pipeline": [step("a", when=long_when), step("b")],
         "want": {"status": "Succeeded", "steps": [("a", "phase", "Skipped"),
                                                   ("a", "message", cut)]}},
        {"name": "reject-4096",
         "pipeline": [{"name": "approve", "type": "Approval"}],
         "execution": {"signals": [{"step": "approve", "outcome": "Failed", "message": "r" * 4096}]},
         "want": {"status": "Failed", "reason": "StepFailed", "message": ["rejected: rrrr"],
                  "steps": [("approve", "message", cut)]}},
        {"name": "term-4k-exit-1",
         "pipeline": [sh("a", "head -c 4096 /dev/zero | tr '\\0' x > %s; exit 1" % TERM)],
         "want": {"status": "Failed", "reason": "StepFailed", "message": ["xxxx"]}},
        {"name": "params-200x4000",
         "pipeline": {"parameters": big_params,
                      "steps": [sh("a", "test ${#STEPLINE_PARAM_P7} = 4000 && "
                                   "printf '{\"len\":\"%s\"}' \"$(printf %s '{{parameters.p199}}' | "
                                   "wc -c)\" > " + TERM)]},
         "execution": {"pipelineParameters": big_values},
         "want": {"status": "Succeeded", "check": output_check("a", "len", "4000"),
                  "check_name": "the step read the 4000-character value from the spec"}},
        {"name": "fanin-400x4k",
         "pipeline": [sh("f", out4k, forEach=json.dumps(list(range(400)))),
                      sh("g", "echo {{steps.f.outputs.n}} > /dev/null", dependsOn=["f"])],
         "want": {"status": "Succeeded",
                  "steps": [("f", "message", lambda v: 'output "blob" (' in (v or "")),
                            ("f", "outputs", lambda v: "blob" not in (v or {}) and "n" in (v or {}))]}},
        {"name": "caught-render-missing",
         "pipeline": [step("src"), step("b", "echo", "{{steps.src.outputs.missing}}",
                                        dependsOn=["src"], onFailure="Continue"),
                      step("after", dependsOn=["b"])],
         "want": {"status": "Succeeded", "steps": [("b", "reason", "TemplateError"),
                                                   ("after", "phase", "Succeeded")]}},
        {"name": "caught-render-item",
         "pipeline": [step("b", "echo", "{{item.k}}", forEach="[1, 2]", onFailure="Continue"),
                      step("after", dependsOn=["b"])],
         "want": {"status": "Succeeded", "steps": [("b", "phase", "Failed"),
                                                   ("after", "phase", "Succeeded")]}},
        {"name": "dollar-expansion",
         "objects": [secret()],
         "pipeline": {"parameters": [{"name": "p"}],
                      "steps": [sh("a", "printf '{\"v\":\"%s\"}' \"$V\" > " + TERM,
                                   env=[{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {
                                       "name": "db", "key": "password"}}},
                                        {"name": "V", "value": "{{parameters.p}}"}])]},
         "execution": {"pipelineParameters": [{"name": "p", "value": "$(DB_PASSWORD)"}]},
         "want": {"status": "Succeeded", "check": output_check("a", "v", "$(DB_PASSWORD)"),
                  "check_name": "the value reached the container unexpanded"}},
        {"name": "template-in-value",
         "pipeline": {"parameters": [{"name": "p"}, {"name": "q", "default": "secret-q"}],
                      "steps": [sh("a", "printf '{\"v\":\"%s\"}' '{{parameters.p}}' > " + TERM)]},
         "execution": {"pipelineParameters": [{"name": "p", "value": "{{parameters.q}}"}]},
         "want": {"status": "Succeeded", "check": output_check("a", "v", "{{parameters.q}}"),
                  "check_name": "a template inside a value is not expanded"}},
        {"name": "float-nan",
         "pipeline": {"parameters": [{"name": "f", "type": "Float"}], "steps": [step("a")]},
         "execution": {"pipelineParameters": [{"name": "f", "value": "NaN"}]},
         "want": {"status": "Failed", "reason": "InvalidParameters",
                  "message": ['parameter "f": must be a finite number (got "NaN")']}},
        {"name": "float-1e999",
         "pipeline": {"parameters": [{"name": "f", "type": "Float"}], "steps": [step("a")]},
         "execution": {"pipelineParameters": [{"name": "f", "value": "1e999"}]},
         "want": {"status": "Failed", "reason": "InvalidParameters",
                  "message": ["must be a finite number"]}},
        {"name": "int-overflow",
         "pipeline": {"parameters": [{"name": "i", "type": "Integer"}], "steps": [step("a")]},
         "execution": {"pipelineParameters": [{"name": "i", "value": "99999999999999999999"}]},
         "want": {"status": "Failed", "reason": "InvalidParameters",
                  "message": ["must be an integer"]}},
        {"name": "non-json-output",
         "pipeline": [sh("a", "echo accuracy=0.9 > " + TERM)],
         "want": {"status": "Succeeded", "steps": [("a", "reason", "NoOutputs"),
                                                   ("a", "message", lambda v: "accuracy=0.9" in v)]}},
        {"name": "unknown-signal", "pipeline": [step("a")],
         "execution": {"signals": [{"step": "ghost", "outcome": "Succeeded"}]},
         "want": {"status": "Succeeded", "events": ["UnknownSignal"],
                  "check": events_with("UnknownSignal", 'names step "ghost"'),
                  "check_name": "the Event names the step"}},
        {"name": "ambiguous",
         "objects": [pipeline("alias-1", [step("a")], pipelineName="shared-alias"),
                     pipeline("alias-2", [step("a")], pipelineName="shared-alias")],
         "execution": {"pipelineName": "shared-alias"},
         "want": {"reason": "AmbiguousPipelineName",
                  "message": ['pipelineName "shared-alias" is the spec.pipelineName of 2 '
                              "Pipelines (alias-1, alias-2)"]}},
        {"name": "unicode", "pipeline": {
            "parameters": [{"name": "u"}],
            "steps": [sh("a", "printf '{\"v\":\"%s\"}' '{{parameters.u}}' > " + TERM)]},
         "execution": {"pipelineParameters": [{"name": "u", "value": "żółw 🐢 \u202e"}]},
         "want": {"status": "Succeeded", "check": output_check("a", "v", "żółw 🐢 \u202e"),
                  "check_name": "unicode survives"}},
        {"name": "unicode-cut", "pipeline": [{"name": "stop", "type": "Fail",
                                              "message": "é" * 3000}],
         "want": {"status": "Failed", "reason": "FailStep",
                  "steps": [("stop", "message", lambda v: "more bytes cut]" in v)]}},
        {"name": "deep-item",
         "pipeline": [sh("a", "echo '{{item}}' > /dev/null", forEach=json.dumps([[[[[[[[1]]]]]]]]))],
         "want": {"status": "Succeeded"}},
        {"name": "empty-fanout", "pipeline": [step("a", forEach="[]"), step("b", dependsOn=["a"])],
         "want": {"status": "Succeeded", "steps": [("b", "phase", "Succeeded")]}},
        {"name": "foreach-not-a-list",
         "pipeline": [sh("src", "echo '{\"l\": \"not a list\"}' > " + TERM),
                      step("a", forEach="{{steps.src.outputs.l}}", dependsOn=["src"])],
         "want": {"status": "Failed", "reason": "StepFailed",
                  "message": ["forEach: is not a JSON list: not a list"]}},
        {"name": "huge-retry-window",
         "pipeline": [sh("a", "test $STEPLINE_ATTEMPT -ge 2",
                         retryPolicy={"maxAttempts": 1000, "intervalSeconds": 0,
                                      "expireAfterMinutes": 525600})],
         "want": {"status": "Succeeded", "steps": [("a", "attempts", 2)]}},
        {"name": "long-timeout", "pipeline": [step("a", timeoutSeconds=31536000)],
         "execution": {"timeoutSeconds": 31536000},
         "want": {"status": "Succeeded"}},
        {"name": "x" * 63, "pipeline": [step("s" * 40, forEach="[1]")],
         "want": {"status": "Succeeded",
                  "steps": [("s" * 40, "phase", "Succeeded")]}},
        {"name": "foreign-job", "execution": {"pipelineName": "canary"},
         "objects": [{"apiVersion": "batch/v1", "kind": "Job",
                      "metadata": {"name": "foreign-job-a-1",
                                   "labels": {"app.kubernetes.io/managed-by": "stepline",
                                              "stepline.dev/execution": "foreign-job",
                                              "stepline.dev/step": "a",
                                              "stepline.dev/attempt": "1"}},
                      "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
                          {"name": "c", "image": "b", "command": ["true"]}]}}}}],
         "want": {"status": "Failed", "reason": "StepFailed",
                  "message": ['Job "foreign-job-a-1" exists but is not owned by this execution']}},
        {"name": "foreign-unlabelled-job", "execution": {"pipelineName": "canary"},
         "objects": [{"apiVersion": "batch/v1", "kind": "Job",
                      "metadata": {"name": "foreign-unlabelled-job-a-1"},
                      "spec": {"suspend": True, "template": {"spec": {
                          "restartPolicy": "Never", "containers": [
                              {"name": "c", "image": "b", "command": ["true"]}]}}}}],
         "want": {"status": "Failed", "reason": "StepFailed",
                  "message": ['Job "foreign-unlabelled-job-a-1" exists but is not owned by '
                              'this execution (it has no controller)']}},
        {"name": "job-deleted-early",
         "pipeline": [sh("a", "sleep 2"), step("b", dependsOn=["a"])],
         "want": {"status": "Succeeded"}},
        {"name": "admin-patch",
         "pipeline": [sh("a", "sleep 20"), step("b", dependsOn=["a"])],
         "want": {"status": "Succeeded", "steps": [("b", "phase", "Succeeded")],
                  "check": lambda obj, kubectl: ("patch" in _done, "the status was never patched"),
                  "check_name": "the admin's patch was made mid-run, and the run went on",
                  # the admin's "Succeeded" is not the end: wait for step b (or the timeout)
                  "settle": lambda st: any(s.get("name") == "b" and s.get("phase") == "Succeeded"
                                           for s in st.get("steps", []))}},
    ]


# ---- what happens during the runs ----

_done = set()


def _once(key, fn):
    def action(kubectl):
        if key in _done:
            return
        if fn(kubectl):
            _done.add(key)
    return action


def _delete_first_job(kubectl):
    p = kubectl("get", "jobs", "-l", "stepline.dev/execution=job-deleted-early", "-o", "name")
    names = p.stdout.split()
    if not names:
        return False
    kubectl("delete", names[0], "--wait=false")
    kubectl("delete", "pods", "-l", "stepline.dev/execution=job-deleted-early", "--wait=false")
    return True


def _admin_patch(kubectl):
    # As soon as the run has started and step a has not finished ("Running" itself is written
    # up to --transient-status-delay late).
    p = kubectl("get", "plx", "admin-patch", "-o",
                "jsonpath={.status.pipelineExecutionStatus}/{.status.steps[0].phase}")
    if p.stdout not in ("Executing/Pending", "Executing/Running"):
        return False
    kubectl("patch", "plx", "admin-patch", "--subresource=status", "--type=merge", "-p",
            json.dumps({"status": {"pipelineExecutionStatus": "Succeeded"}}))
    return True


def dynamic_actions():
    return [_once("delete", _delete_first_job), _once("patch", _admin_patch)]
