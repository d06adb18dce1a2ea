#!/usr/bin/env bash
# Renders every overlay of deploy/kubernetes (and every optional component on
# top of each) with `kubectl kustomize` and checks the objects with
# check_manifests.py: probes, ingress class and TLS, Secret/ConfigMap keys,
# pinned images, pod security, the collector, replicas, PDB/HPA, the Job, and
# that settings.yaml reached every place it should. check_manifests.py
# --self-test then breaks the output one way per check and fails unless each
# breakage is caught.
#
# Needs kubectl (built-in kustomize v5) and python3 with PyYAML. Without
# kubectl the test fails and says what to install.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${GARRET_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

if ! command -v kubectl >/dev/null 2>&1; then
  echo "FAIL: kubectl not found. This test renders deploy/kubernetes with" >&2
  echo "      \`kubectl kustomize\` (kubectl >= 1.27, built-in kustomize v5)." >&2
  echo "      Install kubectl (it comes with the machine image garret is built on)." >&2
  exit 1
fi
if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "FAIL: python3 cannot import yaml; install python3-yaml (scripts/install-deps.sh does)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/kubernetes
cp -r "$src/deploy/kubernetes" "$tree"
# Uncommitted secret files (a developer's real ones) are never read here.
find "$tree" -name '*.env' -delete

check() { # NAME RENDERED SETTINGS [--self-test]
  local name=$1 rendered=$2 settings=$3
  shift 3
  if python3 "$here/check_manifests.py" "$rendered" --settings "$settings" "$@" \
    >"$tmp/check.out" 2>&1; then
    local caught
    caught=$(grep -c '^self-test ok' "$tmp/check.out" || true)
    pass "$name: $(head -1 "$tmp/check.out")${1:+; self-test: $caught breakages caught}"
  else
    cat "$tmp/check.out" >&2
    fail "$name: check_manifests.py"
  fi
}

# Overlays whose secrets come from uncommitted files must not render while
# one of them is missing (no silent default secret).
examples=$(find "$tree/overlays" -name '*.env.example' | sort)
for missing in $examples; do
  find "$tree" -name '*.env' -delete
  for example in $examples; do
    [ "$example" = "$missing" ] || cp "$example" "${example%.example}"
  done
  overlay=${missing%/secrets/*}
  if kubectl kustomize "$overlay" >/dev/null 2>"$tmp/err"; then
    fail "$(basename "$overlay") renders without ${missing#"$tree"/overlays/} copied to .env"
  else
    pass "$(basename "$overlay") refuses to render without $(basename "${missing%.example}")"
  fi
done
for example in $examples; do
  cp "$example" "${example%.example}"
done

overlays=$(find "$tree/overlays" -mindepth 1 -maxdepth 1 -type d | sort)
[ -n "$overlays" ] || fail "no overlays under deploy/kubernetes/overlays"
for overlay in $overlays; do
  name=$(basename "$overlay")
  if ! kubectl kustomize "$overlay" >"$tmp/$name.yaml" 2>"$tmp/err"; then
    cat "$tmp/err" >&2
    fail "overlay $name does not render"
    continue
  fi
  check "overlay $name" "$tmp/$name.yaml" "$overlay/settings.yaml" --self-test

  # Optional components, each on top of this overlay.
  for component in "$tree"/components/*/; do
    cname=$(basename "$component")
    [ "$cname" = settings ] && continue # part of every overlay already
    variant=$tree/variants/$name-$cname
    mkdir -p "$variant"
    cat >"$variant/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../../overlays/$name]
components: [../../components/$cname]
EOF
    if kubectl kustomize "$variant" >"$tmp/$name-$cname.yaml" 2>"$tmp/err"; then
      check "overlay $name + component $cname" "$tmp/$name-$cname.yaml" "$overlay/settings.yaml"
    else
      cat "$tmp/err" >&2
      fail "overlay $name + component $cname does not render"
    fi
  done
done

# The base alone is not deployable: its placeholders must be caught.
if kubectl kustomize "$tree/base" >"$tmp/base.yaml" 2>"$tmp/err"; then
  if python3 "$here/check_manifests.py" "$tmp/base.yaml" >"$tmp/base.out" 2>&1; then
    fail "the base passes the checks although its settings are placeholders"
  elif grep -q '^FAIL \[placeholders\]' "$tmp/base.out"; then
    pass "the base alone is refused (placeholders)"
  else
    cat "$tmp/base.out" >&2
    fail "the base alone is refused, but not for its placeholders"
  fi
else
  cat "$tmp/err" >&2
  fail "the base does not render"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "all deploy/kubernetes checks passed"
