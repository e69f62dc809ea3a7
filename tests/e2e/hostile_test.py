#!/usr/bin/env python3
"""Hostile and extreme input against the whole stack (issue #16): every case asserts the exact
answer a user sees (admission's refusal naming the field, a Pipeline's Ready condition, an
execution's final status, condition reason and message, an Event), and a canary execution is
started throughout and must keep finishing.

Needs KUBECONFIG (the test server with a local agent: testenv/up.sh --agent) and
STEPLINE_BIN_DIR (the controller). usage: hostile_test.py [--only SUBSTRING]
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import hostile_cases as cases

BIN_DIR = os.environ.get("STEPLINE_BIN_DIR", os.path.join(os.path.dirname(__file__), "..", "..",
                                                          "build", "bin"))
NS = "e2e-hostile-%d" % os.getpid()
RESULTS = {"passed": 0, "failed": 0}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kubectl(*args, stdin=None, check=False):
    p = subprocess.run(["kubectl", "-n", NS, *args], input=stdin, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("kubectl %s: %s" % (" ".join(args), p.stderr))
    return p


def report(ok, what, detail=""):
    RESULTS["passed" if ok else "failed"] += 1
    print(("PASS: " if ok else "FAIL: ") + what + ("" if ok else ": " + detail[:600]), flush=True)


def apply(obj):
    # Server-side: no last-applied annotation (an execution with 800 KB of parameters would not
    # fit one).
    return kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=json.dumps(obj))


def get(kind, name):
    p = kubectl("get", kind, name, "-o", "json")
    return json.loads(p.stdout) if p.returncode == 0 else None


def condition(obj, ctype):
    for c in (obj or {}).get("status", {}).get("conditions", []):
        if c.get("type") == ctype:
            return c
    return {}


def events_about(name):
    p = kubectl("get", "events", "-o", "json")
    items = json.loads(p.stdout)["items"] if p.returncode == 0 else []
    return [e for e in items if e["involvedObject"].get("name") == name]


def run_admission():
    for case in cases.admission_cases():
        p = apply(case["object"])
        if case.get("accepted"):
            report(p.returncode == 0, "admission accepts: " + case["name"], p.stderr)
            continue
        ok = p.returncode != 0 and all(w in p.stderr for w in case["error"])
        report(ok, "admission refuses: " + case["name"], "want %s in: %s" % (case["error"],
                                                                           p.stderr or p.stdout))


def start_executions(run_cases):
    for case in run_cases:
        for obj in case.get("objects", []):
            p = apply(obj)
            if p.returncode != 0:
                report(False, case["name"] + ": apply", p.stderr)
        if "pipeline" in case:
            p = apply(cases.pipeline(case["name"], case["pipeline"]))
            if p.returncode != 0:
                report(False, case["name"] + ": apply pipeline", p.stderr)
        if case.get("execution", True) is not None:
            spec = dict(case.get("execution") or {})
            spec.setdefault("pipelineName", case["name"])
            apply({"apiVersion": "stepline.dev/v1alpha1", "kind": "PipelineExecution",
                   "metadata": {"name": case["name"]}, "spec": spec})


def settled(case, obj):
    want = case["want"]
    status = (obj or {}).get("status", {})
    if "settle" in want and not want["settle"](status):
        return False
    if "status" in want:
        return status.get("pipelineExecutionStatus") == want["status"]
    if "reason" in want:
        return condition(obj, "Succeeded").get("reason") == want["reason"]
    return False


def check_execution(case, obj):
    want, name = case["want"], case["name"]
    status = (obj or {}).get("status", {})
    got = status.get("pipelineExecutionStatus")
    if "status" in want:
        report(got == want["status"], name + ": ends " + want["status"],
               "got %s (%s)" % (got, condition(obj, "Succeeded")))
    c = condition(obj, "Succeeded")
    if "reason" in want:
        report(c.get("reason") == want["reason"], name + ": reason " + want["reason"], str(c))
    for text in want.get("message", []):
        report(text in c.get("message", ""), name + ": message has " + repr(text[:60]),
               c.get("message", "")[:400])
    for step, field, value in want.get("steps", []):
        entry = next((s for s in status.get("steps", []) if s.get("name") == step), {})
        v = entry.get(field)
        ok = value(v) if callable(value) else v == value
        report(ok, "%s: step %s %s" % (name, step, field), "got %r" % (str(v)[:300],))
    for reason in want.get("events", []):
        report(any(e.get("reason") == reason for e in events_about(name)),
               name + ": Event " + reason, str([e.get("reason") for e in events_about(name)]))
    if "check" in want:
        ok, detail = want["check"](obj, kubectl)
        report(ok, name + ": " + want.get("check_name", "check"), detail)
    size = len(json.dumps(status))
    report(size < 256 * 1024, name + ": status below 256 KiB", str(size))


def start_canary(i):
    apply({"apiVersion": "stepline.dev/v1alpha1", "kind": "PipelineExecution",
           "metadata": {"name": "canary-%d" % i}, "spec": {"pipelineName": "canary"}})


def wait_all(run_cases, timeout):
    deadline, pending, canaries = time.time() + timeout, list(run_cases), 0
    next_canary = 0.0
    while pending and time.time() < deadline:
        for action in cases.dynamic_actions():
            action(kubectl)
        if time.time() >= next_canary:
            canaries += 1
            start_canary(canaries)
            next_canary = time.time() + 15
        still = []
        listed = kubectl("get", "plx", "-o", "json")
        items = json.loads(listed.stdout)["items"] if listed.returncode == 0 else []
        by_name = {i["metadata"]["name"]: i for i in items}
        for case in pending:
            obj = by_name.get(case["name"])
            if settled(case, obj):
                check_execution(case, obj)
            else:
                still.append(case)
        pending = still
        time.sleep(2)
    for case in pending:
        check_execution(case, get("plx", case["name"]))
    return canaries


def check_canaries(count):
    deadline = time.time() + 120
    while time.time() < deadline:
        states = [(get("plx", "canary-%d" % i) or {}).get("status", {}).get(
            "pipelineExecutionStatus") for i in range(1, count + 1)]
        if all(s == "Succeeded" for s in states):
            break
        time.sleep(2)
    report(all(s == "Succeeded" for s in states),
           "the canary kept finishing: %d of %d canary runs succeeded" % (
               sum(s == "Succeeded" for s in states), count), str(states))


def check_pipelines():
    deadline = time.time() + 60
    pending = list(cases.pipeline_cases())
    while pending and time.time() < deadline:
        still = []
        for case in pending:
            obj = get("pl", case["name"])
            c = condition(obj, "Ready")
            if c.get("status") in ("True", "False") and obj["status"].get(
                    "observedGeneration") == obj["metadata"].get("generation"):
                want = case["ready"]
                ok = c.get("status") == want[0] and all(w in c.get("message", "") for w in want[1:])
                report(ok, "pipeline " + case["name"] + ": Ready " + want[0], str(c)[:600])
            else:
                still.append(case)
        pending = still
        time.sleep(1)
    for case in pending:
        report(False, "pipeline " + case["name"] + ": Ready never set",
               str(condition(get("pl", case["name"]), "Ready")))


def main():
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else ""
    if not os.environ.get("KUBECONFIG"):
        print("KUBECONFIG is not set\n0 passed, 1 failed")
        return 1
    subprocess.run(["kubectl", "create", "namespace", NS], check=True, capture_output=True)
    work = tempfile.mkdtemp(prefix="stepline-hostile.")
    log = open(os.path.join(work, "controller.log"), "w")
    ctl = subprocess.Popen([os.path.join(BIN_DIR, "stepline-controller"), "--namespace", NS,
                            "--kubeconfig", os.environ["KUBECONFIG"],
                            "--metrics-bind-address", "127.0.0.1:%d" % free_port(),
                            "--health-probe-bind-address", "127.0.0.1:%d" % free_port()],
                           stdout=log, stderr=subprocess.STDOUT)
    cases.NS = NS
    try:
        started = time.time()
        apply(cases.pipeline("canary", [{"name": "a", "command": ["true"]}]))
        if not only:
            run_admission()
        for case in cases.pipeline_cases():
            apply(cases.pipeline(case["name"], case["spec"]))
        run_cases = [c for c in cases.execution_cases() if only in c["name"]]
        start_executions(run_cases)
        check_pipelines()
        canaries = wait_all(run_cases, timeout=300)
        check_canaries(canaries)
        report(ctl.poll() is None, "the controller is still running")
        print("hostile suite: %d cases asserted in %.0f s" % (
            RESULTS["passed"] + RESULTS["failed"], time.time() - started))
    finally:
        ctl.terminate()
        try:
            ctl.wait(10)
        except subprocess.TimeoutExpired:
            ctl.kill()
        if RESULTS["failed"]:
            print("---- controller log (tail)")
            print("".join(open(os.path.join(work, "controller.log")).readlines()[-60:]))
        subprocess.run(["kubectl", "delete", "namespace", NS, "--wait=false"], capture_output=True)
    print("%d passed, %d failed" % (RESULTS["passed"], RESULTS["failed"]))
    return 0 if RESULTS["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
