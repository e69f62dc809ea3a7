#!/usr/bin/env python3
"""docs/api.md names every field of the CRD schemas in crds/.

Walks the openAPIV3Schema of each CRD (spec and status) and checks that the reference mentions
each field's path in backquotes, e.g. `spec.steps[].retryPolicy.maxAttempts`. A field under
spec.stepDefaults counts as documented when the same field of a step is, because the reference
documents stepDefaults as "the step's container fields" once. Fails listing what is missing,
and also fails on paths the reference documents that no schema has (a renamed field).

The CRDs are read with a small reader of their block-style YAML (indentation, `properties:`
and `items:`), so the test needs nothing beyond python3; usage: api_docs_test.py [REPO_ROOT].
"""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
KEY = re.compile(r"^( *)(- )?([A-Za-z0-9_.$-]+):")


def schema_paths(path):
    """Field paths of the CRD's spec and status, from the block structure of the file."""
    stack, paths, in_schema = [], [], False  # stack of (indent, key)
    for line in open(path, encoding="utf-8"):  # checked against PyYAML: same paths
        m = KEY.match(line)
        if not m or line.lstrip().startswith("#"):
            continue
        indent = len(m.group(1)) + (2 if m.group(2) else 0)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, m.group(3)))
        keys = [k for _, k in stack]
        if "openAPIV3Schema" not in keys:
            continue
        in_schema = True
        keys = keys[keys.index("openAPIV3Schema") + 1:]
        # a field is a key directly under `properties`; `items` marks a list element
        if len(keys) >= 2 and keys[-2] == "properties":
            field = []
            for i, k in enumerate(keys):
                if i > 0 and keys[i - 1] == "properties":
                    field.append(k)
                elif k == "items" and field:
                    field[-1] += "[]"
            if field[0] in ("spec", "status") and len(field) > 1:
                paths.append(".".join(field))
    if not in_schema:
        sys.exit(f"{path}: no openAPIV3Schema found")
    return paths


def main():
    doc = open(os.path.join(ROOT, "docs", "api.md"), encoding="utf-8").read()
    documented = set(re.findall(r"`((?:spec|status)\.[A-Za-z0-9_.\[\]]+)`", doc))
    crd_dir = os.path.join(ROOT, "crds")
    all_paths, missing = set(), []
    for name in sorted(os.listdir(crd_dir)):
        with open(os.path.join(crd_dir, name), encoding="utf-8") as f:
            if "\nkind: CustomResourceDefinition\n" not in f.read():
                continue  # the admission policy beside the CRDs
        for p in schema_paths(os.path.join(crd_dir, name)):
            all_paths.add(p)
            alias = p.replace("spec.stepDefaults.", "spec.steps[].", 1)
            if p not in documented and alias not in documented:
                missing.append(f"{name}: {p}")
    stale = sorted(d for d in documented if d.removesuffix("[]") not in all_paths)
    print(f"{len(all_paths)} schema fields, {len(documented)} documented paths")
    for m in missing:
        print("MISSING from docs/api.md:", m)
    for s in stale:
        print("NOT IN ANY SCHEMA (renamed?):", s)
    if len(all_paths) < 100:
        print("FAIL: the schema reader found too few fields; has the CRD layout changed?")
        return 1
    return 1 if missing or stale else 0


if __name__ == "__main__":
    sys.exit(main())
