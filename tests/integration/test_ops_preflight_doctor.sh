#!/usr/bin/env bash
# garret preflight and garret doctor, the real binary against the fake
# Kubernetes API (tests/support/fake_kube_api.py) and the fake Docker Engine
# API (tests/support/fake_docker_api.py) serving recorded responses: exit
# codes 0/1/2, JSON and JUnit output, kubeconfig handling (KUBECONFIG list,
# token over HTTPS with certificate-authority-data), the Prometheus textfile.
#
# Environment: GARRET (garret binary), GARRET_SOURCE_DIR (repo root).
set -u -o pipefail

NAME=$(basename "$0" .sh)
SRC=${GARRET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
GARRET=${GARRET:-$SRC/build/apps/garret/garret}
DATA=$SRC/tests/data/ops
for tool in python3 openssl base64; do
  command -v "$tool" >/dev/null || { echo "$NAME: required tool '$tool' is missing" >&2; exit 2; }
done
[ -x "$GARRET" ] || { echo "$NAME: garret binary not found at '$GARRET' (set GARRET)" >&2; exit 2; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
FAILED=0
fail() { echo "FAIL: $*" >&2; FAILED=1; }
pass() { echo "ok: $*"; }

# start_fake NAME ARGS...: runs a fake server with its stdin held open by a
# fifo; sets $LISTEN to what it printed after "listening ".
start_fake() {
  local name=$1; shift
  mkfifo "$WORK/$name.in"
  "$@" <"$WORK/$name.in" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=($!)
  exec {fd}>"$WORK/$name.in"  # keeps stdin open until the script exits
  for _ in $(seq 100); do
    LISTEN=$(sed -n 's/^listening //p' "$WORK/$name.out")
    [ -n "$LISTEN" ] && return 0
    sleep 0.1
  done
  echo "$NAME: fake $name did not start: $(cat "$WORK/$name.err")" >&2
  exit 2
}

kubeconfig() {  # kubeconfig FILE SERVER [EXTRA CLUSTER LINES] [USER LINES]
  local user_lines=${4:-"    token: unused"}
  cat >"$1" <<YAML
apiVersion: v1
kind: Config
current-context: test
contexts:
- name: test
  context: {cluster: test, user: test}
clusters:
- name: test
  cluster:
    server: $2
${3:-}
users:
- name: test
  user:
$user_lines
YAML
}

# --- preflight over plain HTTP -------------------------------------------
start_fake broken python3 "$SRC/tests/support/fake_kube_api.py" --fixtures "$DATA/kube/broken"
kubeconfig "$WORK/broken.yaml" "http://127.0.0.1:$LISTEN"
start_fake healthy python3 "$SRC/tests/support/fake_kube_api.py" --fixtures "$DATA/kube/healthy"
kubeconfig "$WORK/healthy.yaml" "http://127.0.0.1:$LISTEN"

out=$("$GARRET" preflight --kubeconfig "$WORK/healthy.yaml" --settings "$DATA/preflight/settings-healthy.toml" \
      --manifests "$DATA/preflight/manifests-healthy"); rc=$?
[ $rc -eq 0 ] && [ "$out" = "no findings" ] && pass "preflight healthy: exit 0, no findings" \
  || fail "preflight healthy: rc=$rc: $out"

out=$(KUBECONFIG="$WORK/broken.yaml:/nonexistent" "$GARRET" preflight --format json \
      --settings "$DATA/preflight/settings-broken.toml" --manifests "$DATA/preflight/manifests-broken"); rc=$?
ids=$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], " ".join(sorted({f["id"] for f in d["findings"]})))')
want="fail crd-missing crd-not-established dns-credentials-missing ingress-class-conflict ingress-class-missing issuer-not-ready node-not-ready secret-ref-missing storage-class-missing tls-host-empty"
[ $rc -eq 1 ] && [ "$ids" = "$want" ] && pass "preflight broken (KUBECONFIG list): exit 1, every id" \
  || fail "preflight broken: rc=$rc ids=$ids"

out=$("$GARRET" preflight --kubeconfig "$WORK/broken.yaml" --settings "$DATA/preflight/settings-broken.toml" \
      --format junit --fail-on warning); rc=$?
[ $rc -eq 1 ] && printf '%s' "$out" | python3 -c 'import sys,xml.dom.minidom as m; m.parseString(sys.stdin.read())' \
  && printf '%s' "$out" | grep -q 'classname="preflight.crd-missing"' && pass "preflight junit is XML" \
  || fail "preflight junit: rc=$rc"

# --- unreachable API: exit 2 and a clear message ---------------------------
kubeconfig "$WORK/dead.yaml" "http://127.0.0.1:9"
out=$("$GARRET" preflight --kubeconfig "$WORK/dead.yaml" --settings "$DATA/preflight/settings-healthy.toml" \
      --timeout 3 2>"$WORK/dead.err"); rc=$?
[ $rc -eq 2 ] && grep -q "cannot reach the Kubernetes API at http://127.0.0.1:9" "$WORK/dead.err" \
  && printf '%s' "$out" | grep -q api-unreachable && pass "preflight unreachable: exit 2" \
  || fail "preflight unreachable: rc=$rc $(cat "$WORK/dead.err")"

"$GARRET" preflight --kubeconfig "$WORK/dead.yaml" --settings /nonexistent.toml >/dev/null 2>&1
[ $? -eq 2 ] && pass "preflight missing settings: exit 2" || fail "preflight missing settings"
printf 'namespace = "g"\nbogus = "x"\n' >"$WORK/bad.toml"
"$GARRET" preflight --kubeconfig "$WORK/healthy.yaml" --settings "$WORK/bad.toml" 2>"$WORK/bad.err" >/dev/null
[ $? -eq 2 ] && grep -q "unknown key 'bogus'" "$WORK/bad.err" && pass "preflight unknown key: exit 2" \
  || fail "preflight unknown key: $(cat "$WORK/bad.err")"

# --- HTTPS with certificate-authority-data and a token file ----------------
(cd "$WORK" && printf 'subjectAltName=IP:127.0.0.1\n' >san.ext &&
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=ca &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 &&
  openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile san.ext) \
  >/dev/null 2>&1 || { echo "$NAME: openssl failed" >&2; exit 2; }
start_fake tls python3 "$SRC/tests/support/fake_kube_api.py" --fixtures "$DATA/kube/healthy" \
  --tls-cert "$WORK/srv.crt" --tls-key "$WORK/srv.key" --token t0k3n
echo t0k3n >"$WORK/token"
kubeconfig "$WORK/tls.yaml" "https://127.0.0.1:$LISTEN" "    certificate-authority-data: $(base64 -w0 "$WORK/ca.crt")" \
  "    tokenFile: $WORK/token"
"$GARRET" preflight --kubeconfig "$WORK/tls.yaml" --settings "$DATA/preflight/settings-healthy.toml" >/dev/null
[ $? -eq 0 ] && pass "preflight over TLS with CA data and tokenFile" || fail "preflight over TLS"
echo wrong >"$WORK/token"
out=$("$GARRET" preflight --kubeconfig "$WORK/tls.yaml" --settings "$DATA/preflight/settings-healthy.toml" 2>/dev/null)
rc=$?
[ $rc -eq 2 ] && printf '%s' "$out" | grep -q api-unauthorized && pass "preflight wrong token: exit 2, api-unauthorized" \
  || fail "preflight wrong token: rc=$rc $out"

# --- doctor ------------------------------------------------------------------
start_fake docker python3 "$SRC/tests/support/fake_docker_api.py" "$WORK/docker.sock" "$DATA/docker/df-summary.json"
mkdir "$WORK/textfile"
out=$("$GARRET" doctor --no-host --no-lvm --mount / --kubeconfig "$WORK/broken.yaml" \
      --docker-socket "$WORK/docker.sock" --format json --textfile-dir "$WORK/textfile"); rc=$?
ids=$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["score"], " ".join(sorted({f["id"] for f in d["findings"]})))')
case "$ids" in
  "fail 0 "*controlplane-crashloop*controlplane-restarts*docker-reclaimable*lease-stale*node-not-ready*source-skipped*)
    pass "doctor broken cluster + docker: $ids";;
  *) fail "doctor broken: rc=$rc ids=$ids";;
esac
[ $rc -eq 1 ] || fail "doctor broken exit code $rc"
prom=$WORK/textfile/garret_doctor.prom
if [ -f "$prom" ] && [ "$(ls "$WORK/textfile")" = "garret_doctor.prom" ] \
   && grep -q '^garret_doctor_last_run_timestamp_seconds [0-9]*$' "$prom" \
   && grep -q '^garret_doctor_finding{id="controlplane-crashloop",severity="error",subject="kube-system/kube-controller-manager-cp-1"} 1$' "$prom" \
   && [ "$(grep -c '^# TYPE garret_doctor_score gauge$' "$prom")" = 1 ]; then
  pass "doctor textfile written"
else
  fail "doctor textfile: $(ls "$WORK/textfile"; cat "$prom" 2>/dev/null | head)"
fi
grep -q 'write ' "$WORK/docker.out" && fail "doctor wrote to the Docker API"

"$GARRET" doctor --no-host --no-lvm --no-kube --docker-socket "$WORK/absent.sock" --format prometheus \
  | grep -q '^garret_doctor_finding{id="source-skipped",severity="info",subject="docker"} 1$' \
  && pass "doctor without docker: info finding" || fail "doctor without docker"
"$GARRET" doctor --mount relative >/dev/null 2>&1
[ $? -eq 2 ] && pass "doctor bad --mount: exit 2" || fail "doctor bad --mount"
"$GARRET" doctor --no-kube --docker-socket "$WORK/absent.sock" >/dev/null
rc=$?
[ $rc -le 1 ] && pass "doctor on this machine: exit $rc" || fail "doctor on this machine: exit $rc"

exit $FAILED
