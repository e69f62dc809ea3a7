#!/usr/bin/env python3
"""How GitOps tools read Stepline objects: Argo CD's health (the chart's Lua checks, run by
Debian's lua5.1) and kstatus (Flux, kpt, cli-utils).

kstatus is not packaged by Debian (sigs.k8s.io/cli-utils), so kstatus() below implements its
documented rules for custom resources (cli-utils pkg/kstatus README, "CRD status convention"):
  1. metadata.deletionTimestamp set               -> Terminating
  2. status.observedGeneration < metadata.generation -> InProgress
  3. a condition Reconciling with status True      -> InProgress
  4. a condition Stalled with status True          -> Failed
  5. otherwise                                     -> Current
(The generation check applies only when status.observedGeneration is present.)

usage:
  health.py check TESTDIR...     the committed testdata: every health_test.yaml case (Argo CD's
                                 own format) and every kstatus expectation (kstatus_test.yaml)
  health.py classify FILE...     print "file argo-status kstatus" for objects (YAML)
"""
import os
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ARGO = os.path.join(ROOT, "helm", "stepline", "argocd", "stepline.dev")
LUA = os.environ.get("STEPLINE_LUA", "lua5.1")


def kstatus(obj):
    md, st = obj.get("metadata", {}), obj.get("status") or {}
    if md.get("deletionTimestamp"):
        return "Terminating"
    og, gen = st.get("observedGeneration"), md.get("generation")
    if og is not None and gen is not None and og < gen:
        return "InProgress"
    for c in st.get("conditions") or []:
        if c.get("type") == "Reconciling" and c.get("status") == "True":
            return "InProgress"
        if c.get("type") == "Stalled" and c.get("status") == "True":
            return "Failed"
    return "Current"


def lua_literal(v):
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        safe = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_/()[]{}'=<>!?+*@#%&|~^$"
        return '"' + "".join(chr(b) if b in safe else f"\\{b:03d}" for b in v.encode("utf-8")) + '"'
    if isinstance(v, list):
        return "{" + ", ".join(lua_literal(x) for x in v) + "}"
    return "{" + ", ".join(f"[{lua_literal(str(k))}] = {lua_literal(x)}" for k, x in v.items()) + "}"


def argo(obj):
    """(status, message) of the chart's Lua health check for obj's kind, run by lua5.1 as Argo
    CD runs it: the script's body as a function of the global obj."""
    script = os.path.join(ARGO, obj["kind"], "health.lua")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write("obj = " + lua_literal(obj) + "\n")
        f.write("local check = assert(loadfile(" + lua_literal(script) + "))\n")
        f.write("local hs = check()\nio.write(hs.status, '\\n', hs.message or '', '\\n')\n")
    try:
        out = subprocess.run([LUA, f.name], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    status, message = (out.split("\n", 1) + [""])[:2]
    return status, message.rstrip("\n")


def load(path):
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    return [i for d in docs for i in (d["items"] if d.get("kind", "").endswith("List") else [d])]


def check(dirs):
    failures = cases = 0
    for d in dirs:
        for name, key in (("health_test.yaml", "healthStatus"), ("kstatus_test.yaml", "kstatus")):
            path = os.path.join(d, name)
            if not os.path.exists(path):
                continue
            for t in yaml.safe_load(open(path))["tests"]:
                cases += 1
                obj = load(os.path.join(d, t["inputPath"]))[0]
                if key == "healthStatus":
                    got = dict(zip(("status", "message"), argo(obj)))
                    want = t["healthStatus"]
                    ok = got["status"] == want["status"] and got["message"] == want.get("message", got["message"])
                else:
                    got, want = kstatus(obj), t["kstatus"]
                    ok = got == want
                print(("PASS" if ok else "FAIL") + f": {os.path.relpath(d, ROOT)}/{t['inputPath']}: {key} {got}"
                      + ("" if ok else f" (want {want})"))
                failures += not ok
    print(f"{cases} cases, {failures} failures")
    return 1 if failures or not cases else 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2:]))
    if len(sys.argv) > 2 and sys.argv[1] == "classify":
        for p in sys.argv[2:]:
            for o in load(p):
                s, m = argo(o)
                print(f"{o['metadata']['name']}\t{s}\t{kstatus(o)}\t{m}")
        sys.exit(0)
    print(__doc__)
    sys.exit(2)
