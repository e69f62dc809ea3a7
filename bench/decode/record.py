#!/usr/bin/env python3
"""Records the watch events the controller decodes while chain executions run.

    bench/decode/record.py --controller build/bin/stepline-controller --out FILE
        [--steps 10] [--executions 1]

Needs the test cluster with the local agent (testenv/up.sh --agent; its KUBECONFIG and
STEPLINE_TESTENV_* variables). Starts a controller of its own on a fresh namespace, watches what
the controller watches there (its Jobs, its pods, the executions, FailedCreate Events: see
reconcilers/watches.cc), runs the executions of an N-step chain of `true` steps to their end,
and writes every watch event line as the API server sent it, prefixed by the resource and a tab.
The first line says how many steps ran: "# steps N". bench_decode reads the file.
"""
import argparse
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import e2e  # noqa: E402  (bench/e2e/e2e.py: the API client, the chain pipeline, the controller)

WATCHES = {
    "jobs": ("/apis/batch/v1/namespaces/{ns}/jobs",
             {"labelSelector": "app.kubernetes.io/managed-by=stepline"}),
    "pods": ("/api/v1/namespaces/{ns}/pods", {"labelSelector": "stepline.dev/execution"}),
    "pipelineexecutions": ("/apis/stepline.dev/v1alpha1/namespaces/{ns}/pipelineexecutions", {}),
    "events": ("/api/v1/namespaces/{ns}/events", {"fieldSelector": "reason=FailedCreate"}),
}


class Recorder:
    """One watch per resource, from now on; every line kept in arrival order."""

    def __init__(self, api, ns):
        self.api, self.ns = api, ns
        self.lines, self.lock = [], threading.Lock()
        self.opened = threading.Semaphore(0)
        self.threads = [threading.Thread(target=self.watch, args=(r,), daemon=True)
                        for r in WATCHES]

    def start(self):
        for t in self.threads:
            t.start()
        for _ in self.threads:  # every watch open before anything happens
            if not self.opened.acquire(timeout=60):
                sys.exit("a watch did not open in 60 s")

    def watch(self, resource):
        path, params = WATCHES[resource]
        query = dict(params, watch="1", timeoutSeconds="600", allowWatchBookmarks="false")
        url = self.api.server + path.format(ns=self.ns) + "?" + urllib.parse.urlencode(query)
        req = urllib.request.Request(url)
        req.add_header("Authorization", "Bearer " + self.api.token)
        for _ in range(60):  # the server may say 429 while the controller starts its watches
            try:
                r = urllib.request.urlopen(req, context=self.api.ctx, timeout=700)
                break
            except urllib.error.HTTPError as e:
                if e.code != 429:
                    raise
                time.sleep(0.5)
        else:
            sys.exit(f"watching {resource}: the server kept answering 429")
        self.opened.release()
        with r:
            for line in r:
                with self.lock:
                    self.lines.append((resource, line.decode().rstrip("\n")))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--controller", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--executions", type=int, default=1)
    args = p.parse_args()

    api = e2e.Api()
    ns = f"decode-{int(time.time())}"
    code, body = api.call("POST", "/api/v1/namespaces",
                          {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    if code not in (200, 201):
        sys.exit(f"creating namespace {ns}: {code} {body}")
    recorder = Recorder(api, ns)
    recorder.start()
    controller = e2e.Controller(args.controller, ns, ["--workers", "4"], args.out + ".log")
    try:
        controller.wait_leading()
        pipe = e2e.chain_pipeline(ns, "chain", args.steps)
        code, body = api.call("POST", f"/apis/stepline.dev/v1alpha1/namespaces/{ns}/pipelines", pipe)
        if code not in (200, 201):
            sys.exit(f"creating the pipeline: {code} {body}")
        for i in range(args.executions):
            ex = e2e.execution(ns, f"run-{i}", "chain")
            path = f"/apis/stepline.dev/v1alpha1/namespaces/{ns}/pipelineexecutions"
            code, body = api.call("POST", path, ex)
            if code not in (200, 201):
                sys.exit(f"creating execution run-{i}: {code} {body}")
        deadline = time.time() + 300
        while time.time() < deadline:
            got = e2e.poll_executions(api, ns, "run-")
            if got and got[0] == args.executions:
                if got[2]:
                    sys.exit(f"{got[2]} execution(s) failed; see {args.out}.log")
                break
            time.sleep(0.5)
        else:
            sys.exit("the executions did not finish in 300 s")
        time.sleep(3)  # the last writes (pod finalizers, the final status) arrive
    finally:
        controller.proc.terminate()
        controller.proc.wait()
    with recorder.lock:
        lines = list(recorder.lines)
    with open(args.out, "w") as f:
        f.write(f"# steps {args.steps * args.executions}\n")
        for resource, line in lines:
            f.write(f"{resource}\t{line}\n")
    counts = {r: sum(1 for x, _ in lines if x == r) for r in WATCHES}
    print(f"{len(lines)} watch events for {args.steps * args.executions} steps "
          f"({len(lines) / (args.steps * args.executions):.1f} per step): "
          + ", ".join(f"{r} {n}" for r, n in counts.items()) + f"; written to {args.out}")
    api.call("DELETE", f"/api/v1/namespaces/{ns}")


if __name__ == "__main__":
    main()
