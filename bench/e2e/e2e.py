#!/usr/bin/env python3
"""bench/e2e: executions through the real stack (test server, local agent, controller).

    eval "$(testenv/up.sh --agent)"
    bench/e2e/e2e.py --controller build/bin/stepline-controller \
        [--scenario chains:200x10] [--scenario fanout:20x100] [--json out.json] [--series out.csv]

Per scenario it starts a fresh controller (so that its peak RSS and counters are its own),
applies a Pipeline whose steps run `true`, creates the executions at once, waits until all are
finished, and prints, from the controller's /metrics (deltas over the run) and /proc:
steps per second; the controller's API requests per step attempt, reads and writes (by
resource); its CPU ms per step; the dispatch latency p50/p95/p99 (its histogram
stepline_dispatch_latency_seconds); reconciles per execution and per step; peak RSS (VmHWM);
and the share of the machine's CPU it used. Scenario "chains:NxM" is N executions of an M-step
chain; "fanout:NxW" is N executions of root -> W-child forEach step -> join.

With --standby, both controllers run with --leader-elect and a second one starts
once the first leads: a standby replica, which runs the same informers (watch, decode, trim,
cache; its event handlers map and enqueue) but no reconciles and no writes. Its CPU per step,
over the same interval, is what receiving the step's watch events costs this client stack: the
part of the controller's CPU that does not depend on what the controller does with them. The
Lease renewals of leader election are left out of the write counts.
"""
import argparse
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import metrics_text as mt

TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


class Api:
    """The test server over HTTPS with the testenv token (one connection per thread)."""

    def __init__(self):
        self.server = os.environ["STEPLINE_TESTENV_SERVER"]
        self.ctx = ssl.create_default_context(cafile=os.environ["STEPLINE_TESTENV_CA"])
        self.token = os.environ["STEPLINE_TESTENV_TOKEN"]

    def server_metrics(self):
        """The API server's own /metrics (apiserver_request_total: every client's requests)."""
        req = urllib.request.Request(self.server + "/metrics")
        req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=60) as r:
                return mt.parse(r.read().decode())
        except (urllib.error.URLError, OSError):
            return {}

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=60) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")


def chain_pipeline(ns, name, steps):
    out = []
    for i in range(steps):
        s = {"name": f"s{i}", "command": ["true"]}
        if i:
            s["dependsOn"] = [f"s{i - 1}"]
        out.append(s)
    return pipeline(ns, name, out)


def fanout_pipeline(ns, name, width):
    items = json.dumps([str(i) for i in range(width)])
    return pipeline(ns, name, [
        {"name": "root", "command": ["true"]},
        {"name": "fan", "dependsOn": ["root"], "forEach": items, "command": ["true"]},
        {"name": "join", "dependsOn": ["fan"], "command": ["true"]},
    ])


def pipeline(ns, name, steps):
    return {"apiVersion": "stepline.dev/v1alpha1", "kind": "Pipeline",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"stepDefaults": {"image": "bench/true:1"}, "steps": steps}}


def execution(ns, name, pipeline_name):
    return {"apiVersion": "stepline.dev/v1alpha1", "kind": "PipelineExecution",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"pipelineName": pipeline_name}}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Controller:
    """A controller process of our own, with its metrics on a free local port."""

    def __init__(self, binary, ns, extra_args, log_path):
        self.port = free_port()
        self.log = open(log_path, "w")
        args = [binary, "--kubeconfig", os.environ["KUBECONFIG"], "--namespace", ns,
                "--metrics-bind-address", f"127.0.0.1:{self.port}",
                "--health-probe-bind-address", f"127.0.0.1:{self.port}"] + extra_args
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)

    def metrics(self):
        url = f"http://127.0.0.1:{self.port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as r:
            return mt.parse(r.read().decode())

    def wait_until(self, ready, failure, timeout=60):
        """Until ready() is true (an OSError counts as not yet); exits with failure if not."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"the controller exited: see {self.log.name}")
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.2)
        sys.exit(failure)

    def wait_leading(self):
        self.wait_until(lambda: mt.total(self.metrics(), "stepline_leader") == 1,
                        "the controller did not start leading")

    def wait_synced(self):
        """Until /readyz says the caches synced, not leading (a standby)."""
        def synced():
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=5):
                return mt.total(self.metrics(), "stepline_leader") == 0
        self.wait_until(synced, "the standby controller did not sync its caches")

    def cpu_seconds(self):
        return proc_cpu_seconds(self.proc.pid)

    def peak_rss_mb(self):
        return proc_status_kb(self.proc.pid, "VmHWM") / 1024

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def proc_cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
    except OSError:
        return 0.0


def proc_status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def machine_cpu():
    """(busy seconds, total seconds) over all cores since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return (sum(v) - idle) / TICK, sum(v) / TICK


def testenv_pids():
    """Other processes of the stack (apiserver, etcd, agent) by name, from testenv's pid file."""
    out = {}
    path = os.path.join(os.environ.get("STEPLINE_TESTENV_DIR", ""), "pids")
    if os.path.exists(path):
        for line in open(path):
            parts = line.split()
            if len(parts) >= 2:
                out[parts[0]] = int(parts[1])
    return out


def ensure_namespace(api, ns):
    code, _ = api.call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": {"name": ns}})
    if code not in (201, 409):
        sys.exit(f"creating namespace {ns}: HTTP {code}")


def create_all(api, kind_path, objects, threads=8):
    def one(obj):
        code, body = api.call("POST", kind_path, obj)
        if code != 201:
            raise RuntimeError(f"create {obj['metadata']['name']}: HTTP {code} {body}")
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, objects))


def poll_executions(api, ns, prefix):
    """(finished executions, finished steps, failed executions) of the run."""
    code, body = api.call("GET", f"/apis/stepline.dev/v1alpha1/namespaces/{ns}/pipelineexecutions")
    if code != 200:
        return None
    done = steps = failed = 0
    for x in body.get("items", []):
        if not x["metadata"]["name"].startswith(prefix):
            continue
        st = x.get("status", {})
        phase = st.get("pipelineExecutionStatus")
        if phase in ("Succeeded", "Failed", "Stopped"):
            done += 1
            failed += phase != "Succeeded"
        progress = st.get("progress", "0/0")
        steps += int(progress.split("/")[0] or 0)
    return done, steps, failed


READ_VERBS = {"get", "list", "watch"}
SERVER_WRITE_VERBS = {"POST", "PUT", "PATCH", "DELETE", "APPLY"}
WRITE_VERBS = {"create", "update", "patch", "delete"}


class Sampler:
    """Samples the run every `period` s: controller CPU, Job creates, finished steps."""

    def __init__(self, controller, api, ns, prefix, period=0.5):
        self.controller, self.api, self.ns, self.prefix = controller, api, ns, prefix
        self.period = period
        self.rows = []  # (t, steps finished, Jobs created, controller CPU s, RSS MB)
        self.last = (0, 0, 0)  # done executions, finished steps, failed executions

    def sample(self, t0, poll):
        m = self.controller.metrics()
        created = mt.total(m, "stepline_api_requests_total", verb="create", resource="jobs.batch",
                           code="201")
        if poll:
            self.last = poll_executions(self.api, self.ns, self.prefix) or self.last
        rss = proc_status_kb(self.controller.proc.pid, "VmRSS") / 1024
        self.rows.append((time.time() - t0, self.last[1], created, self.controller.cpu_seconds(),
                          rss))
        return m


def run_scenario(api, args, kind, n, m, run_id):
    steps_per_execution = m if kind == "chains" else m + 2
    name = f"{kind}-{n}x{m}-{run_id}"
    ns = f"bench-e2e-{kind}-{run_id}"  # a namespace per run: the controller caches only it
    ensure_namespace(api, ns)
    spec = chain_pipeline(ns, name, m) if kind == "chains" else fanout_pipeline(ns, name, m)
    extra = args.controller_args.split()
    if args.standby:
        extra += ["--leader-elect", "--leader-elect-namespace", ns]
    controller = Controller(args.controller, ns, extra,
                            os.path.join(args.log_dir, f"controller-{kind}.log"))
    standby = None
    try:
        controller.wait_leading()
        if args.standby:
            standby = Controller(args.controller, ns, extra,
                                 os.path.join(args.log_dir, f"controller-{kind}-standby.log"))
            standby.wait_synced()
        create_all(api, f"/apis/stepline.dev/v1alpha1/namespaces/{ns}/pipelines", [spec])
        time.sleep(1.0)  # the Pipeline reconciler marks it Ready; that is not the run
        idle = None
        if standby:  # what the standby costs doing nothing (Lease polls, timers), per second
            i0, it0 = standby.cpu_seconds(), time.time()
            time.sleep(3.0)
            idle = (standby.cpu_seconds() - i0) / (time.time() - it0)
        sampler = Sampler(controller, api, ns, name + "-")
        others = {k: proc_cpu_seconds(p) for k, p in testenv_pids().items()}
        before, cpu0, mach0 = controller.metrics(), controller.cpu_seconds(), machine_cpu()
        standby0 = standby.cpu_seconds() if standby else 0.0
        server0 = api.server_metrics()
        t0 = time.time()
        create_all(api, f"/apis/stepline.dev/v1alpha1/namespaces/{ns}/pipelineexecutions",
                   [execution(ns, f"{name}-{i}", name) for i in range(n)])
        while True:
            sampler.sample(t0, poll=True)
            if sampler.last[0] >= n or time.time() - t0 > args.timeout:
                break
            time.sleep(sampler.period)
        t1 = time.time()
        after, cpu1, mach1 = controller.metrics(), controller.cpu_seconds(), machine_cpu()
        standby1 = standby.cpu_seconds() if standby else 0.0
        server = mt.diff(api.server_metrics(), server0)
        pids = testenv_pids()
        others = {k: proc_cpu_seconds(pids[k]) - v for k, v in others.items()}
        result = summarize(kind, n, m, steps_per_execution, mt.diff(after, before),
                           t1 - t0, cpu1 - cpu0, mach0, mach1, others, sampler)
        result["peak_rss_mb"] = controller.peak_rss_mb()
        if standby:
            attempts = max(1, result["step_attempts"])
            result["standby_cpu_ms_per_step"] = (standby1 - standby0) * 1000 / attempts
            result["standby_idle_ms_per_s"] = idle * 1000
            result["standby_idle_ms_per_step"] = idle * (t1 - t0) * 1000 / attempts
        server_writes = mt.total(server, "apiserver_request_total", verb=SERVER_WRITE_VERBS)
        result["server_writes_per_attempt"] = server_writes / max(1, result["step_attempts"])
        result["server_writes_by_resource"] = {
            k: v / max(1, result["step_attempts"]) for k, v in sorted(mt.by_label(
                {key: v for key, v in server.items()
                 if dict(key[1]).get("verb") in SERVER_WRITE_VERBS},
                "apiserver_request_total", "resource").items()) if v > 0}
        result["controller_args"] = args.controller_args
        return result, sampler.rows
    finally:
        if standby:
            standby.stop()
        controller.stop()


def summarize(kind, n, m, per_exec, d, seconds, cpu, mach0, mach1, others, sampler):
    api_total = "stepline_api_requests_total"
    attempts = mt.total(d, api_total, verb="create", resource="jobs.batch", code="201")
    # Leader election's Lease renewals (--standby) are not the run's work.
    d = {k: v for k, v in d.items()
         if not (k[0] == api_total and dict(k[1]).get("resource", "").startswith("leases."))}
    reads = mt.total(d, api_total, verb=READ_VERBS)
    writes = mt.total(d, api_total, verb=WRITE_VERBS)
    writes_by = {f"{v} {r}": c for (name, labels), c in d.items() if name == api_total
                 for lab in [dict(labels)] for v, r in [(lab["verb"], lab["resource"])]
                 if v in WRITE_VERBS and c > 0}
    merged = {}
    for k, v in writes_by.items():
        merged[k] = merged.get(k, 0) + v
    reconciles = mt.total(d, "stepline_reconcile_total", controller="pipelineexecution")
    # What brought the reconciles: the outcome that asked for a wake-up, and the watch events
    # that enqueued the execution (before the queue merges a key added twice).
    by_result = mt.by_label(d, "stepline_reconcile_total", "result",
                            controller="pipelineexecution")
    enqueues = mt.by_label(d, "stepline_enqueues_total", "source", controller="pipelineexecution")
    lat = mt.buckets(d, "stepline_dispatch_latency_seconds")
    # The controller's own part: from the same Job event to the create request being handed to
    # the client (the dispatch without the server's answer).
    own = mt.buckets(d, "stepline_dispatch_controller_seconds")
    # Two parts of the dispatch latency: the Job create request itself (the API server's answer
    # time) and how long a key waited in the work queue for a worker.
    create = mt.buckets(d, "stepline_api_request_duration_seconds", verb="create",
                        resource="jobs.batch")
    queued = mt.buckets({k: v for k, v in d.items() if dict(k[1]).get("name") == "pipelineexecution"},
                        "stepline_workqueue_queue_duration_seconds")
    busy = (mach1[0] - mach0[0]) / max(1e-9, mach1[1] - mach0[1])
    steps = n * per_exec
    done, finished_steps, failed = sampler.last
    return {
        "scenario": f"{kind} {n}x{m}", "executions": n, "steps_per_execution": per_exec,
        "steps": steps, "finished_executions": done, "failed_executions": failed,
        "finished_steps": finished_steps, "seconds": seconds, "steps_per_second": steps / seconds,
        "step_attempts": attempts,
        "reads_per_attempt": reads / max(1, attempts),
        "writes_per_attempt": writes / max(1, attempts),
        "writes_by_verb_resource": {k: v / max(1, attempts) for k, v in sorted(merged.items())},
        "reconciles": reconciles, "reconciles_per_execution": reconciles / n,
        "reconciles_per_step": reconciles / steps,
        "reconciles_by_result_per_step": {k: v / steps for k, v in sorted(by_result.items())
                                          if v > 0},
        "enqueues_by_source_per_step": {k: v / steps for k, v in sorted(enqueues.items())
                                        if v > 0},
        "cpu_ms_per_step": cpu * 1000 / max(1, attempts),
        "controller_cpu_seconds": cpu,
        "controller_machine_share": cpu / (seconds * CORES),
        "machine_busy_share": busy,
        "others_machine_share": {k: v / (seconds * CORES) for k, v in others.items()},
        "dispatch_latency_count": lat[-1][1] if lat else 0,
        "dispatch_latency_ms": {q: 1000 * mt.quantile(float(q), lat)
                                for q in ("0.5", "0.95", "0.99")},
        "dispatch_controller_count": own[-1][1] if own else 0,
        "dispatch_controller_ms": {q: 1000 * mt.quantile(float(q), own)
                                   for q in ("0.5", "0.95", "0.99")} if own else None,
        "job_create_ms": {q: 1000 * mt.quantile(float(q), create) for q in ("0.5", "0.95", "0.99")},
        "queue_wait_ms": {q: 1000 * mt.quantile(float(q), queued) for q in ("0.5", "0.95", "0.99")},
        "dispatch_latency_buckets": [[b if b != float("inf") else "+Inf", c] for b, c in lat],
        "cores": CORES,
    }


def print_result(r):
    lat = r["dispatch_latency_ms"]
    print(f"== {r['scenario']}: {r['steps']} steps in {r['seconds']:.1f} s = "
          f"{r['steps_per_second']:.1f} steps/s  (finished {r['finished_executions']}/"
          f"{r['executions']} executions, {r['failed_executions']} failed)")
    print(f"   API per step attempt: {r['reads_per_attempt']:.2f} reads, "
          f"{r['writes_per_attempt']:.2f} writes  ("
          + ", ".join(f"{k} {v:.2f}" for k, v in r["writes_by_verb_resource"].items()) + ")")
    if "server_writes_per_attempt" in r:
        print(f"   API server writes per step attempt, all clients (controller, agent, bench): "
              f"{r['server_writes_per_attempt']:.2f} ("
              + ", ".join(f"{k} {v:.2f}" for k, v in r["server_writes_by_resource"].items()) + ")")
    print(f"   reconciles: {r['reconciles_per_execution']:.1f} per execution, "
          f"{r['reconciles_per_step']:.2f} per step (by outcome: "
          + ", ".join(f"{k} {v:.2f}" for k, v in r.get("reconciles_by_result_per_step", {}).items())
          + "; enqueued per step by events on: "
          + ", ".join(f"{k} {v:.2f}" for k, v in r.get("enqueues_by_source_per_step", {}).items())
          + ")")
    print(f"   controller CPU: {r['cpu_ms_per_step']:.3f} ms per step, "
          f"{100 * r['controller_machine_share']:.1f}% of the machine ({r['cores']} cores; "
          f"machine busy {100 * r['machine_busy_share']:.0f}%: "
          + ", ".join(f"{k} {100 * v:.0f}%" for k, v in r["others_machine_share"].items()) + ")")
    if "standby_cpu_ms_per_step" in r:
        print(f"     a standby replica beside it (the same informers, no reconciles): "
              f"{r['standby_cpu_ms_per_step']:.3f} ms per step, of which "
              f"{r['standby_idle_ms_per_step']:.3f} its idle cost "
              f"({r['standby_idle_ms_per_s']:.2f} ms/s measured before the run)")
    print(f"   dispatch latency ({r['dispatch_latency_count']:.0f} dispatches): "
          f"p50 {lat['0.5']:.1f} ms  p95 {lat['0.95']:.1f} ms  p99 {lat['0.99']:.1f} ms")
    for label, key in (("the Job create request alone", "job_create_ms"),
                       ("an execution's wait in the work queue", "queue_wait_ms")):
        q = r.get(key)
        if q:
            print(f"     of which {label}: p50 {q['0.5']:.1f} ms  p95 {q['0.95']:.1f} ms  "
                  f"p99 {q['0.99']:.1f} ms")
    print(f"   controller peak RSS {r['peak_rss_mb']:.1f} MB", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--controller", required=True)
    p.add_argument("--controller-args", default="")
    p.add_argument("--scenario", action="append")
    p.add_argument("--json")
    p.add_argument("--series")
    p.add_argument("--log-dir", default="/tmp")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--standby", action="store_true",
                   help="also run a standby replica and report its CPU per step")
    args = p.parse_args()
    scenarios = args.scenario or ["chains:200x10", "fanout:20x100"]
    api = Api()
    run_id = str(int(time.time()) % 100000)
    results, series = [], []
    for s in scenarios:
        kind, size = s.split(":")
        n, m = (int(x) for x in size.split("x"))
        if kind not in ("chains", "fanout"):
            sys.exit(f"unknown scenario kind {kind}")
        r, rows = run_scenario(api, args, kind, n, m, run_id)
        print_result(r)
        results.append(r)
        series += [(r["scenario"],) + row for row in rows]
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"scenarios": results}, f, indent=1)
    if args.series:
        with open(args.series, "w") as f:
            f.write("scenario,t,steps_finished,jobs_created,controller_cpu_s,rss_mb\n")
            for row in series:
                f.write(",".join(str(x) for x in row) + "\n")
    ok = all(r["finished_executions"] == r["executions"] and r["failed_executions"] == 0
             for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
