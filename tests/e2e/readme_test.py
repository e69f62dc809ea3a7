#!/usr/bin/env python3
"""Every command in README.md runs, in README order, and the pasted outputs still hold.

README's commands live in fenced blocks:
- ```sh blocks: every line is a command (a trailing backslash continues it);
- ```console blocks: a transcript; lines starting with "$ " are commands, the lines after each
  are its output as pasted from a run. "..." stands for lines left out.

They run in one bash shell (so `eval "$(...)"` and exports carry on) from the repository root,
on a demo stack of the test's own (STEPLINE_DEMO_STATE), which the README's own
`eval "$(./scripts/demo.sh --up)"` then finds running. A command fails the test if it exits
non-zero; a transcript fails it if one of its output lines is not in the command's output "in
substance": compared with runs of spaces collapsed and durations/ages/timestamps masked.

Two commands are not run here, on purpose: `./scripts/demo.sh` is run, with every result
checked, by tests/e2e/demo_test.sh (CTest `demo`), and `./scripts/test.sh` is what CI runs, so
running it from a test would recurse. The test fails if the README loses or changes them.

Commands that need a real cluster or a registry (pushing the image, helm install) live in
```shell blocks, which this test does not run. Kinds the test server does not serve
(apps/v1 Deployment) get schema-less stand-ins first, so that commands applying them still run.

usage: readme_test.py [REPO_ROOT]
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
NOT_RUN_HERE = {
    "./scripts/demo.sh": "run with every result checked by tests/e2e/demo_test.sh (CTest demo)",
    "./scripts/test.sh": "what CI runs; running it here would recurse",
}
STAND_INS = [  # group, version, kind, plural, scope (RBAC: the test server serves it)
    ("apps", "v1", "Deployment", "deployments", "Namespaced"),
]


def commands_of(readme):
    """[(command, expected output lines or None)] in README order."""
    out, lang, lines = [], None, []
    for line in open(readme, encoding="utf-8").read().splitlines() + [""]:
        if lang is None:
            m = re.match(r"^```(\w+)\s*$", line)
            if m:
                lang, lines = m.group(1), []
            continue
        if line.startswith("```"):
            if lang == "sh":
                out += [(c, None) for c in joined(lines)]
            elif lang == "console":
                out += transcript(lines)
            lang = None
            continue
        lines.append(line)
    return out


def joined(lines):
    cmds, cur = [], ""
    for line in lines:
        cur += line[:-1] + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            if cur.strip() and not cur.strip().startswith("#"):
                cmds.append(cur.strip())
            cur = ""
    return cmds


def transcript(lines):
    out, i = [], 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            i += 1
            continue
        cmd = lines[i][2:]
        while cmd.endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd = cmd[:-1] + " " + lines[i].strip()
        i += 1
        expect = []
        while i < len(lines) and not lines[i].startswith("$ "):
            expect.append(lines[i])
            i += 1
        out.append((cmd.strip(), expect))
    return out


def substance(line):
    line = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", line)
    line = re.sub(r"\b(\d+d)?(\d+h)?(\d+m)?\d+(\.\d+)?(ms|s)\b|\b\d+[mhd]\b", "<age>", line)
    line = re.sub(r"\(x\d+ over <age>\)", "", line)  # repeated events
    return " ".join(line.split())


def stand_in_crds():
    docs = []
    for group, version, kind, plural, scope in STAND_INS:
        docs.append(f"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.{group}
  annotations: {{api-approved.kubernetes.io: "unapproved, a stand-in for the README test"}}
spec:
  group: {group}
  scope: {scope}
  names: {{plural: {plural}, kind: {kind}}}
  versions:
  - name: {version}
    served: true
    storage: true
    schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}
""")
    return "---\n".join(docs)


def script(cmds, work):
    """A bash script running each command, its output to work/N.out and exit code to work/N.rc."""
    s = [f'cd "{ROOT}"', 'eval "$(./scripts/demo.sh --up)" || exit 90',
         'DEMO_TESTENV=$STEPLINE_TESTENV_DIR',
         f'kubectl apply -f "{work}/stand-ins.yaml" >"{work}/stand-ins.log" 2>&1 || exit 91',
         'for c in ' + " ".join(f"{p}.{g}" for g, _, _, p, _ in STAND_INS) + "; do",
         '  kubectl wait --for=condition=Established "crd/$c" --timeout=60s >/dev/null || exit 92',
         'done',
         # a test cluster the README starts is stopped even when a command fails on the way
         'trap \'[[ ${STEPLINE_TESTENV_DIR:-} != "$DEMO_TESTENV" ]] && testenv/down.sh >/dev/null 2>&1\' EXIT']
    for n, (cmd, _) in enumerate(cmds):
        s.append(f'{{ {cmd}\n}} >"{work}/{n}.out" 2>&1 </dev/null; echo $? >"{work}/{n}.rc"')
        s.append(f'[[ $(cat "{work}/{n}.rc") == 0 ]] || exit 0')
    return "\n".join(s) + "\n"


def main():
    cmds = commands_of(os.path.join(ROOT, "README.md"))
    skipped = [c for c, _ in cmds if c.split("#")[0].strip() in NOT_RUN_HERE]
    failures = 0
    for c, why in NOT_RUN_HERE.items():
        if c in [s.split("#")[0].strip() for s in skipped]:
            print(f"not run here: {c}: {why}")
        else:
            print(f"FAIL: README no longer has the command {c}")
            failures += 1
    cmds = [(c, e) for c, e in cmds if c not in skipped]
    print(f"{len(cmds)} README commands to run")
    state = tempfile.mkdtemp(prefix="stepline-readme-test.")  # demo.sh starts it afresh
    work = tempfile.mkdtemp(prefix="stepline-readme-test-out.")
    open(os.path.join(work, "stand-ins.yaml"), "w").write(stand_in_crds())
    env = dict(os.environ, STEPLINE_DEMO_STATE=state)
    try:
        r = subprocess.run(["bash", "-c", script(cmds, work)], env=env, timeout=840)
        if r.returncode:
            print(f"FAIL: the stack did not start (exit {r.returncode}); see {state} and {work}")
            return 1
        failures += verdicts(cmds, work)
    finally:
        subprocess.run([os.path.join(ROOT, "scripts", "demo.sh"), "--down"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"{len(cmds)} commands, {failures} failures")
    if failures == 0:
        subprocess.run(["rm", "-rf", state, work])
    return 1 if failures else 0


def verdicts(cmds, work):
    failures = 0
    for n, (cmd, expect) in enumerate(cmds):
        rc_file = os.path.join(work, f"{n}.rc")
        if not os.path.exists(rc_file):
            print(f"FAIL: not run (an earlier command failed): {cmd}")
            failures += 1
            continue
        out = open(os.path.join(work, f"{n}.out"), errors="replace").read()
        rc = open(rc_file).read().strip()
        if rc != "0":
            print(f"FAIL: exit {rc}: {cmd}\n" + "".join("    " + l + "\n" for l in out.splitlines()[-15:]))
            failures += 1
            continue
        got = {substance(l) for l in out.splitlines()}
        lost = [l for l in (expect or []) if l.strip() not in ("", "...") and substance(l) not in got]
        if lost:
            print(f"FAIL: the output of `{cmd}` no longer has:\n" + "".join(f"    {l}\n" for l in lost)
                  + "  it was:\n" + "".join("    " + l + "\n" for l in out.splitlines()))
            failures += 1
        else:
            print(f"PASS: {cmd}" + (f" ({len(expect)} output lines hold)" if expect else ""))
    return failures


if __name__ == "__main__":
    sys.exit(main())
