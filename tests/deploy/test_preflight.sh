#!/usr/bin/env bash
# garret preflight on garret's own deployment: every overlay's preflight.toml
# matches its settings.yaml, and the rendered manifests (example secrets
# copied in) give no manifest finding (ingress-class-conflict, tls-host-empty,
# secret-ref-missing, manifest-invalid) against a cluster that has what the
# deployment needs (tests/support/fake_kube_api.py with the "healthy"
# recorded cluster).
set -uo pipefail
src=${GARRET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
GARRET=${GARRET:-$src/build/apps/garret/garret}
failed=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*" >&2; failed=1; }
[ -x "$GARRET" ] || { echo "FAIL: garret binary not found at '$GARRET' (set GARRET)" >&2; exit 1; }
command -v kubectl >/dev/null || { echo "FAIL: kubectl (built-in kustomize) is needed" >&2; exit 1; }

tmp=$(mktemp -d)
kube_pid=""
cleanup() {
  exec 9>&- 2>/dev/null
  [ -n "$kube_pid" ] && kill "$kube_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
cp -r "$src/deploy/kubernetes" "$tmp/tree"
find "$tmp/tree" -name '*.env' -delete
for example in $(find "$tmp/tree/overlays" -name '*.env.example'); do cp "$example" "${example%.example}"; done

# The fake API server runs while this shell holds its stdin (a FIFO) open;
# it is started before the FIFO is opened for writing (which blocks until a
# reader opens it).
mkfifo "$tmp/kube.in"
python3 "$src/tests/support/fake_kube_api.py" --fixtures "$src/tests/data/ops/kube/healthy" \
  <"$tmp/kube.in" >"$tmp/kube.out" 2>"$tmp/kube.err" &
kube_pid=$!
exec 9>"$tmp/kube.in"
for _ in $(seq 1 100); do
  grep -q '^listening ' "$tmp/kube.out" 2>/dev/null && break
  sleep 0.1
done
port=$(sed -n 's/^listening //p' "$tmp/kube.out")
[ -n "$port" ] || { echo "FAIL: fake Kubernetes API did not start: $(cat "$tmp/kube.err")" >&2; exit 1; }
printf '%s\n' 'apiVersion: v1' 'kind: Config' \
  "clusters: [{name: fake, cluster: {server: \"http://127.0.0.1:$port\"}}]" \
  'users: [{name: reader, user: {token: any}}]' \
  'contexts: [{name: fake, context: {cluster: fake, user: reader}}]' \
  'current-context: fake' >"$tmp/kubeconfig"

setting() { sed -n "s/^  $1: //p" "$2"; }
toml() { sed -n "s/^$1 = \"\\(.*\\)\"$/\\1/p" "$2"; }

for overlay in "$tmp"/tree/overlays/*/; do
  name=$(basename "$overlay")
  pf="$overlay/preflight.toml"
  [ -f "$pf" ] || { fail "overlay $name has no preflight.toml"; continue; }
  for pair in namespace:namespace host:host ingressClassName:ingress_class clusterIssuer:tls_issuer \
    storageClass:storage_class; do
    want=$(setting "${pair%%:*}" "$overlay/settings.yaml")
    got=$(toml "${pair##*:}" "$pf")
    [ "$want" = "$got" ] || fail "$name: preflight.toml ${pair##*:} = '$got', settings.yaml ${pair%%:*} = '$want'"
  done
  mkdir -p "$tmp/rendered-$name"
  if ! kubectl kustomize "$overlay" >"$tmp/rendered-$name/all.yaml" 2>"$tmp/err"; then
    fail "overlay $name does not render: $(head -3 "$tmp/err")"
    continue
  fi
  "$GARRET" preflight --settings "$pf" --manifests "$tmp/rendered-$name" --kubeconfig "$tmp/kubeconfig" \
    --format json >"$tmp/$name.json" 2>"$tmp/$name.err"
  rc=$?
  [ "$rc" -ne 2 ] || { fail "$name: preflight could not run: $(cat "$tmp/$name.err")"; continue; }
  manifest_findings=$(python3 -c '
import json, sys
ids = {"ingress-class-conflict", "tls-host-empty", "secret-ref-missing", "manifest-invalid"}
for f in json.load(open(sys.argv[1]))["findings"]:
    if f["id"] in ids:
        print(f["id"], f["subject"] + ":", f["message"])
' "$tmp/$name.json")
  if [ -z "$manifest_findings" ]; then
    pass "overlay $name: preflight.toml matches settings.yaml; rendered manifests pass preflight's manifest checks"
  else
    fail "overlay $name: preflight reports on garret's own manifests: $manifest_findings"
  fi
done
exit "$failed"
