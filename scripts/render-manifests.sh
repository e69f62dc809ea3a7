#!/usr/bin/env bash
# The chart helm/stepline is the one source of the install manifests:
#   scripts/render-manifests.sh          copy crds/ into the chart (files/crds/) and render the
#                                        chart into manifests/install/ (plain kubectl apply -f)
#   scripts/render-manifests.sh --check  change nothing; exit 1 (with a diff) when
#                                        manifests/install/ or the chart's CRDs differ from
#                                        what this script would write, or the chart's
#                                        version is not the project's (CMakeLists.txt)
# Helm: $STEPLINE_HELM, else build/tools/bin/helm (scripts/setup.sh installs it), else PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${STEPLINE_BUILD_DIR:-$ROOT/build}"
CHART="$ROOT/helm/stepline"
HELM="${STEPLINE_HELM:-$BUILD_DIR/tools/bin/helm}"
[[ -x $HELM ]] || HELM="$(command -v helm || true)"
[[ -n $HELM ]] || { echo "render-manifests.sh: no helm (run scripts/setup.sh)" >&2; exit 2; }
check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

version="$(sed -n 's/^project(stepline .*VERSION \([0-9.]*\)).*/\1/p' "$ROOT/CMakeLists.txt")"
chart_version="$(sed -n 's/^version: //p' "$CHART/Chart.yaml")"
app_version="$(sed -n 's/^appVersion: "\(.*\)"/\1/p' "$CHART/Chart.yaml")"
if [[ $chart_version != "$version" || $app_version != "$version" ]]; then
  echo "helm/stepline/Chart.yaml: version $chart_version / appVersion $app_version," \
    "but CMakeLists.txt says the project is $version" >&2
  exit 1
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/crds" "$out/install"
cp "$ROOT"/crds/*.yaml "$out/crds/"

# One file per group of templates, in the order kubectl should apply them. The CRDs are not
# rendered here: `kubectl apply -f crds/` comes first (see README).
"$HELM" template stepline "$CHART" --namespace stepline-system \
  --set createNamespace=true --set crds.install=false >"$out/all.yaml"
python3 - "$out/all.yaml" "$out/install" <<'PY'
import re, sys
files = {"namespace": "00-namespace.yaml", "serviceaccount": "10-rbac.yaml", "rbac": "10-rbac.yaml",
         "deployment": "20-deployment.yaml", "service": "30-service.yaml", "pdb": "40-pdb.yaml"}
docs = {}
for doc in re.split(r"^---\n", open(sys.argv[1]).read(), flags=re.M):
    m = re.match(r"# Source: stepline/templates/(\w+)\.yaml\n", doc)
    if not m:
        continue
    name = files.get(m.group(1))
    if name is None:
        sys.exit(f"render-manifests.sh: no manifests/install/ file for template {m.group(1)}.yaml")
    docs.setdefault(name, []).append(doc[m.end():].rstrip("\n") + "\n")
head = ("# Rendered from helm/stepline by scripts/render-manifests.sh (helm template, release\n"
        "# \"stepline\" in stepline-system, default values); do not edit: change the chart.\n")
for name, parts in docs.items():
    open(f"{sys.argv[2]}/{name}", "w").write(head + "---\n".join(parts))
PY

if ((check)); then
  status=0
  diff -ru "$out/crds" "$CHART/files/crds" || {
    echo "helm/stepline/files/crds/ differs from crds/: run scripts/render-manifests.sh" >&2
    status=1
  }
  diff -ru "$out/install" "$ROOT/manifests/install" || {
    echo "manifests/install/ differs from the rendered chart: run scripts/render-manifests.sh" >&2
    status=1
  }
  exit $status
fi
rm -rf "$CHART/files/crds" "$ROOT/manifests/install"
mkdir -p "$CHART/files/crds" "$ROOT/manifests/install"
cp "$out"/crds/*.yaml "$CHART/files/crds/"
cp "$out"/install/*.yaml "$ROOT/manifests/install/"
echo "rendered helm/stepline into manifests/install/ ($(ls "$ROOT/manifests/install" | tr '\n' ' '))"
