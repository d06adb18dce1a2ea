#!/usr/bin/env python3
"""Checks the Kubernetes objects rendered from a garret overlay.

    check_manifests.py RENDERED.yaml [--settings SETTINGS.yaml]
    check_manifests.py RENDERED.yaml [--settings SETTINGS.yaml] --self-test

RENDERED.yaml is the output of `kubectl kustomize deploy/kubernetes/overlays/X`;
SETTINGS.yaml is that overlay's settings.yaml (the values the rendered objects
must carry). Prints one line per finding and exits 1 if there is any.

--self-test first checks that RENDERED.yaml passes, then breaks it in memory
in one way per check (a missing probe, a `:latest` image, a Secret key nobody
defines...) and fails unless every breakage is reported by the check meant to
catch it: a check that cannot fail is a defect.
"""

import argparse
import copy
import sys

try:
    import yaml
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("check_manifests.py: PyYAML is missing: apt-get install python3-yaml "
             "(scripts/install-deps.sh installs it)")

PLACEHOLDER = "set-by-settings"
POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "ClusterIssuer",
                  "IngressClass", "StorageClass", "PriorityClass",
                  "CustomResourceDefinition"}
LEGACY_INGRESS_CLASS = "kubernetes.io/ingress.class"
# Secrets the CloudNativePG operator creates for a Cluster <name>, and their keys.
CNPG_APP_KEYS = {"username", "password", "dbname", "host", "port", "uri", "jdbc-uri",
                 "pgpass", "user", "fqdn-uri", "fqdn-jdbc-uri"}
CNPG_CA_KEYS = {"ca.crt"}


# ---- object access -----------------------------------------------------------

def ident(doc):
    meta = doc.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{doc.get('kind')} {ns + '/' if ns else ''}{meta.get('name')}"


def of_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def pod_spec(doc):
    if doc.get("kind") == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"].get("spec") or {}
    if doc.get("kind") in POD_KINDS:
        return ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
    if doc.get("kind") == "Pod":
        return doc.get("spec") or {}
    return None


def pod_labels(doc):
    return (((doc.get("spec") or {}).get("template") or {}).get("metadata") or {}).get(
        "labels") or {}


def containers(spec, init=True):
    out = list(spec.get("containers") or [])
    if init:
        out += list(spec.get("initContainers") or [])
    return out


def workloads(docs):
    """(doc, pod spec) for every object that runs pods."""
    return [(d, pod_spec(d)) for d in docs if pod_spec(d) is not None]


def garretd_mode(container):
    """The --mode of a `garretd serve` container, or None if it is not one."""
    args = [str(a) for a in (container.get("args") or [])]
    if not args or args[0] != "serve":
        return None
    for i, a in enumerate(args):
        if a == "--mode" and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--mode="):
            return a.split("=", 1)[1]
    return "all"


def deployments_by_mode(docs, mode):
    return [d for d in of_kind(docs, "Deployment")
            if any(garretd_mode(c) == mode for c in containers(pod_spec(d), init=False))]


def selector_matches(selector, labels):
    """Does a LabelSelector (matchLabels/matchExpressions) select these labels?"""
    if not selector:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return bool(selector.get("matchLabels") or selector.get("matchExpressions"))


def env_value(container, name):
    for e in container.get("env") or []:
        if e.get("name") == name:
            return e.get("value")
    return None


# ---- checks --------------------------------------------------------------------
# Each takes (docs, settings) and returns a list of messages; settings may be {}.

def check_placeholders(docs, settings):
    text = yaml.safe_dump_all(docs)
    if PLACEHOLDER in text:
        lines = [ln.strip() for ln in text.splitlines() if PLACEHOLDER in ln]
        return [f"placeholder '{PLACEHOLDER}' left in the output (a setting was not "
                f"applied): {', '.join(lines[:5])}"]
    return []


def check_namespace(docs, settings):
    out = []
    namespaces = [d["metadata"]["name"] for d in of_kind(docs, "Namespace")]
    if len(namespaces) != 1:
        return [f"expected exactly one Namespace object, found {namespaces}"]
    ns = namespaces[0]
    if settings.get("namespace") and ns != settings["namespace"]:
        out.append(f"Namespace is '{ns}', settings say '{settings['namespace']}'")
    for d in docs:
        if d.get("kind") in CLUSTER_SCOPED:
            continue
        got = (d.get("metadata") or {}).get("namespace")
        if got != ns:
            out.append(f"{ident(d)}: namespace '{got}' instead of '{ns}'")
    return out


def check_settings(docs, settings):
    """The values of settings.yaml arrived where they belong."""
    if not settings:
        return []
    out = []

    def expect(what, got, want):
        if got != want:
            out.append(f"{what} is {got!r}, settings.yaml says {want!r}")

    for ing in of_kind(docs, "Ingress"):
        spec = ing.get("spec") or {}
        expect(f"{ident(ing)} ingressClassName", spec.get("ingressClassName"),
               settings.get("ingressClassName"))
        issuer = ((ing.get("metadata") or {}).get("annotations") or {}).get(
            "cert-manager.io/cluster-issuer")
        expect(f"{ident(ing)} cert-manager.io/cluster-issuer", issuer,
               settings.get("clusterIssuer"))
        for rule in spec.get("rules") or []:
            expect(f"{ident(ing)} rule host", rule.get("host"), settings.get("host"))
    for cl in of_kind(docs, "Cluster"):
        spec = cl.get("spec") or {}
        expect(f"{ident(cl)} storageClass", (spec.get("storage") or {}).get("storageClass"),
               settings.get("storageClass"))
        expect(f"{ident(cl)} imageName", spec.get("imageName"), settings.get("postgresImage"))
    env_settings = {"GARRET_STORAGE_BUCKET": "s3Bucket", "GARRET_STORAGE_REGION": "s3Region",
                    "GARRET_STORAGE_ENDPOINT": "s3Endpoint",
                    "GARRET_SIGNING_KEY_PREFIX": "signingKeyPrefix",
                    "CACHE_NAME": "cacheName", "CACHE_PUBLIC": "cachePublic"}
    for doc, spec in workloads(docs):
        for c in containers(spec):
            if garretd_mode(c) is None and c.get("name") != "create-cache":
                continue
            where = f"{ident(doc)} container {c.get('name')}"
            expect(f"{where} image", c.get("image"), settings.get("image"))
            for var, key in env_settings.items():
                got = env_value(c, var)
                if got is not None:
                    expect(f"{where} env {var}", got, settings.get(key))
            endpoint = env_value(c, "GARRET_API_ENDPOINT")
            if endpoint is not None:
                expect(f"{where} env GARRET_API_ENDPOINT", endpoint,
                       f"https://{settings.get('host')}/")
    api = deployments_by_mode(docs, "api")
    if api and env_value(containers(pod_spec(api[0]))[0], "GARRET_API_ENDPOINT") is None:
        out.append(f"{ident(api[0])}: GARRET_API_ENDPOINT is not set")
    return out


def _probe_port_ok(container, probe):
    port = (probe.get("httpGet") or {}).get("port")
    declared = {p.get("name") for p in container.get("ports") or []} | {
        p.get("containerPort") for p in container.get("ports") or []}
    return port in declared


def check_probes(docs, settings):
    """Every garretd server: liveness on /health, readiness on /ready."""
    out = []
    servers = 0
    for doc, spec in workloads(docs):
        for c in containers(spec):
            if garretd_mode(c) is None:
                continue
            servers += 1
            where = f"{ident(doc)} container {c.get('name')}"
            for probe_name, path in (("livenessProbe", "/health"), ("readinessProbe", "/ready")):
                probe = c.get(probe_name)
                if not probe:
                    out.append(f"{where}: no {probe_name}")
                    continue
                got = (probe.get("httpGet") or {}).get("path")
                if got != path:
                    out.append(f"{where}: {probe_name} is {got!r}, expected httpGet {path}")
                elif not _probe_port_ok(c, probe):
                    out.append(f"{where}: {probe_name} port is not a port of the container")
    if servers == 0:
        out.append("no `garretd serve` container found")
    return out


def check_ingress(docs, settings):
    out = []
    ingresses = of_kind(docs, "Ingress")
    if not ingresses:
        return ["no Ingress"]
    services = {d["metadata"]["name"]: d for d in of_kind(docs, "Service")}
    for ing in ingresses:
        if ing.get("apiVersion") != "networking.k8s.io/v1":
            out.append(f"{ident(ing)}: apiVersion {ing.get('apiVersion')}, expected networking.k8s.io/v1")
        annotations = (ing.get("metadata") or {}).get("annotations") or {}
        spec = ing.get("spec") or {}
        if not spec.get("ingressClassName"):
            out.append(f"{ident(ing)}: spec.ingressClassName is not set")
        if LEGACY_INGRESS_CLASS in annotations:
            out.append(f"{ident(ing)}: legacy annotation {LEGACY_INGRESS_CLASS} is set "
                       f"(use spec.ingressClassName only; the API server refuses both)")
        if not (annotations.get("cert-manager.io/cluster-issuer")
                or annotations.get("cert-manager.io/issuer")):
            out.append(f"{ident(ing)}: no cert-manager issuer annotation")
        for rule in spec.get("rules") or []:
            for path in ((rule.get("http") or {}).get("paths") or []):
                svc = ((path.get("backend") or {}).get("service") or {})
                target = services.get(svc.get("name"))
                if target is None:
                    out.append(f"{ident(ing)}: backend Service {svc.get('name')} is not defined")
                    continue
                port = svc.get("port") or {}
                ports = target["spec"].get("ports") or []
                if not any(p.get("name") == port.get("name") if "name" in port
                           else p.get("port") == port.get("number") for p in ports):
                    out.append(f"{ident(ing)}: Service {svc.get('name')} has no port {port}")
    return out


def check_tls(docs, settings):
    out = []
    for ing in of_kind(docs, "Ingress"):
        spec = ing.get("spec") or {}
        rule_hosts = [r.get("host") for r in spec.get("rules") or []]
        if not rule_hosts or not all(rule_hosts):
            out.append(f"{ident(ing)}: every rule needs a host (external-dns reads it)")
        tls = spec.get("tls") or []
        if not tls:
            out.append(f"{ident(ing)}: no spec.tls")
            continue
        tls_hosts = []
        for entry in tls:
            hosts = entry.get("hosts") or []
            if not hosts or not all(hosts):
                out.append(f"{ident(ing)}: a spec.tls entry has no hosts")
            if not entry.get("secretName"):
                out.append(f"{ident(ing)}: a spec.tls entry has no secretName")
            tls_hosts += hosts
        if set(tls_hosts) != set(rule_hosts):
            out.append(f"{ident(ing)}: TLS hosts {sorted(map(str, tls_hosts))} differ from "
                       f"rule hosts {sorted(map(str, rule_hosts))}")
    return out


def _defined_keys(docs):
    """{('Secret'|'ConfigMap', name): set of keys} for rendered and operator-made objects."""
    keys = {}
    for d in of_kind(docs, "Secret"):
        keys[("Secret", d["metadata"]["name"])] = set(d.get("data") or {}) | set(
            d.get("stringData") or {})
    for d in of_kind(docs, "ConfigMap"):
        keys[("ConfigMap", d["metadata"]["name"])] = set(d.get("data") or {}) | set(
            d.get("binaryData") or {})
    for cl in of_kind(docs, "Cluster"):
        if not str(cl.get("apiVersion", "")).startswith("postgresql.cnpg.io/"):
            continue
        name = cl["metadata"]["name"]
        keys[("Secret", f"{name}-app")] = set(CNPG_APP_KEYS)
        keys[("Secret", f"{name}-ca")] = set(CNPG_CA_KEYS)
        if (cl.get("spec") or {}).get("enableSuperuserAccess"):
            keys[("Secret", f"{name}-superuser")] = set(CNPG_APP_KEYS)
    return keys


def _references(spec):
    """(where, kind, name, key or None) for every Secret/ConfigMap a pod spec uses."""
    refs = []
    for c in containers(spec):
        cname = c.get("name")
        for e in c.get("env") or []:
            vf = e.get("valueFrom") or {}
            for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                if field in vf:
                    r = vf[field]
                    refs.append((f"container {cname} env {e.get('name')}", kind, r.get("name"),
                                 r.get("key")))
        for ef in c.get("envFrom") or []:
            for field, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                if field in ef:
                    refs.append((f"container {cname} envFrom", kind, ef[field].get("name"), None))
    for v in spec.get("volumes") or []:
        sources = []
        if "secret" in v:
            sources.append(("Secret", v["secret"].get("secretName"), v["secret"]))
        if "configMap" in v:
            sources.append(("ConfigMap", v["configMap"].get("name"), v["configMap"]))
        for p in ((v.get("projected") or {}).get("sources") or []):
            if "secret" in p:
                sources.append(("Secret", p["secret"].get("name"), p["secret"]))
            if "configMap" in p:
                sources.append(("ConfigMap", p["configMap"].get("name"), p["configMap"]))
        for kind, name, src in sources:
            items = src.get("items") or []
            if not items:
                refs.append((f"volume {v.get('name')}", kind, name, None))
            for it in items:
                refs.append((f"volume {v.get('name')}", kind, name, it.get("key")))
    for s in spec.get("imagePullSecrets") or []:
        refs.append(("imagePullSecrets", "Secret", s.get("name"), None))
    return refs


def check_refs(docs, settings):
    """Every Secret/ConfigMap key a pod uses is defined here or by CloudNativePG."""
    out = []
    defined = _defined_keys(docs)
    for doc, spec in workloads(docs):
        for where, kind, name, key in _references(spec):
            have = defined.get((kind, name))
            if have is None:
                out.append(f"{ident(doc)} {where}: {kind} {name} is not defined by the "
                           f"kustomization nor made by an operator")
            elif key is not None and key not in have:
                out.append(f"{ident(doc)} {where}: {kind} {name} has no key '{key}' "
                           f"(it has {sorted(have)})")
    return out


def _image_pinned(image):
    """'' if the reference has a tag other than latest, or a digest; else the reason."""
    if not image:
        return "no image"
    if "@sha256:" in image:
        return ""
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "no tag (means :latest)"
    if last.rsplit(":", 1)[1] in ("", "latest"):
        return "tag :latest"
    return ""


def check_images(docs, settings):
    out = []
    for doc, spec in workloads(docs):
        for c in containers(spec):
            why = _image_pinned(c.get("image"))
            if why:
                out.append(f"{ident(doc)} container {c.get('name')}: image {c.get('image')!r}: {why}")
    for cl in of_kind(docs, "Cluster"):
        image = (cl.get("spec") or {}).get("imageName")
        if image is not None:
            why = _image_pinned(image)
            if why:
                out.append(f"{ident(cl)}: imageName {image!r}: {why}")
    return out


def check_security(docs, settings):
    out = []
    for doc, spec in workloads(docs):
        psc = spec.get("securityContext") or {}
        if spec.get("automountServiceAccountToken") is not False:
            out.append(f"{ident(doc)}: automountServiceAccountToken is not false")
        for c in containers(spec):
            where = f"{ident(doc)} container {c.get('name')}"
            csc = c.get("securityContext") or {}
            if not (csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True):
                out.append(f"{where}: runAsNonRoot is not true")
            if csc.get("runAsUser", psc.get("runAsUser")) == 0:
                out.append(f"{where}: runs as uid 0")
            if csc.get("readOnlyRootFilesystem") is not True:
                out.append(f"{where}: readOnlyRootFilesystem is not true")
            if csc.get("allowPrivilegeEscalation") is not False:
                out.append(f"{where}: allowPrivilegeEscalation is not false")
            if csc.get("privileged"):
                out.append(f"{where}: privileged")
            caps = csc.get("capabilities") or {}
            if "ALL" not in (caps.get("drop") or []):
                out.append(f"{where}: capabilities.drop lacks ALL")
            if caps.get("add"):
                out.append(f"{where}: adds capabilities {caps['add']}")
            seccomp = (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
            if seccomp not in ("RuntimeDefault", "Localhost"):
                out.append(f"{where}: seccompProfile is {seccomp!r}, expected RuntimeDefault")
    return out


def check_resources(docs, settings):
    out = []
    for doc, spec in workloads(docs):
        for c in containers(spec):
            res = c.get("resources") or {}
            for part in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if not (res.get(part) or {}).get(r):
                        out.append(f"{ident(doc)} container {c.get('name')}: no {part}.{r}")
    return out


def check_gc(docs, settings):
    gcs = deployments_by_mode(docs, "gc")
    if len(gcs) != 1:
        return [f"expected one Deployment running `garretd serve --mode gc`, found {len(gcs)}"]
    gc, out = gcs[0], []
    if (gc.get("spec") or {}).get("replicas") != 1:
        out.append(f"{ident(gc)}: replicas is {gc['spec'].get('replicas')!r}, must be 1")
    if ((gc.get("spec") or {}).get("strategy") or {}).get("type") != "Recreate":
        out.append(f"{ident(gc)}: strategy must be Recreate (never two collectors at once)")
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        if (hpa["spec"].get("scaleTargetRef") or {}).get("name") == gc["metadata"]["name"]:
            out.append(f"{ident(hpa)} scales the garbage collector")
    return out


def check_api(docs, settings):
    apis = deployments_by_mode(docs, "api")
    if len(apis) != 1:
        return [f"expected one Deployment running `garretd serve --mode api`, found {len(apis)}"]
    api, out = apis[0], []
    replicas = (api.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or replicas < 2:
        out.append(f"{ident(api)}: replicas is {replicas!r}, need at least 2")
    return out


def check_pdb_hpa(docs, settings):
    out = []
    apis = deployments_by_mode(docs, "api")
    gcs = deployments_by_mode(docs, "gc")
    if len(apis) != 1:
        return ["no single API Deployment to check the PDB, HPA and Service against"]
    api = apis[0]
    api_labels = pod_labels(api)
    other_labels = [pod_labels(d) for d in gcs] + [
        pod_labels(j) for j in of_kind(docs, "Job")]

    pdbs = of_kind(docs, "PodDisruptionBudget")
    api_pdbs = [p for p in pdbs if selector_matches(p["spec"].get("selector"), api_labels)]
    if not api_pdbs:
        out.append("no PodDisruptionBudget selects the API pods")
    for p in pdbs:
        if p.get("apiVersion") != "policy/v1":
            out.append(f"{ident(p)}: apiVersion {p.get('apiVersion')}, expected policy/v1")
        if any(selector_matches(p["spec"].get("selector"), lbl) for lbl in other_labels):
            out.append(f"{ident(p)}: also selects pods that are not the API's")
        if p in api_pdbs:
            min_avail = p["spec"].get("minAvailable")
            if isinstance(min_avail, int) and min_avail >= (api["spec"].get("replicas") or 0):
                out.append(f"{ident(p)}: minAvailable {min_avail} leaves no disruption allowed")

    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    api_hpas = [h for h in hpas
                if (h["spec"].get("scaleTargetRef") or {}).get("kind") == "Deployment"
                and h["spec"]["scaleTargetRef"].get("name") == api["metadata"]["name"]]
    if not api_hpas:
        out.append(f"no HorizontalPodAutoscaler targets Deployment {api['metadata']['name']}")
    for h in hpas:
        if h.get("apiVersion") != "autoscaling/v2":
            out.append(f"{ident(h)}: apiVersion {h.get('apiVersion')}, expected autoscaling/v2")
    for h in api_hpas:
        lo, hi = h["spec"].get("minReplicas", 1), h["spec"].get("maxReplicas", 0)
        if lo < 2 or hi < lo:
            out.append(f"{ident(h)}: minReplicas {lo}, maxReplicas {hi}: need 2 <= min <= max")

    services = [s for s in of_kind(docs, "Service")
                if selector_matches({"matchLabels": s["spec"].get("selector") or {}}, api_labels)]
    if not services:
        out.append("no Service selects the API pods")
    for s in services:
        if any(selector_matches({"matchLabels": s["spec"].get("selector") or {}}, lbl)
               for lbl in other_labels):
            out.append(f"{ident(s)}: also selects pods that are not the API's")
    return out


def check_job(docs, settings):
    out = []
    jobs = of_kind(docs, "Job")
    if len(jobs) != 1:
        return [f"expected one Job (create the first cache), found {len(jobs)}"]
    job = jobs[0]
    spec = job.get("spec") or {}
    pspec = pod_spec(job)
    if pspec.get("restartPolicy") not in ("OnFailure", "Never"):
        out.append(f"{ident(job)}: restartPolicy {pspec.get('restartPolicy')!r}, "
                   f"expected OnFailure or Never")
    if not isinstance(spec.get("backoffLimit"), int):
        out.append(f"{ident(job)}: no backoffLimit")
    if not isinstance(spec.get("activeDeadlineSeconds"), int):
        out.append(f"{ident(job)}: no activeDeadlineSeconds (a stuck Job would retry forever)")
    # Idempotent-looking: the script it runs treats an existing cache as success.
    scripts = []
    maps = {d["metadata"]["name"]: d for d in of_kind(docs, "ConfigMap")}
    for v in pspec.get("volumes") or []:
        cm = maps.get((v.get("configMap") or {}).get("name"))
        if cm:
            scripts += [t for k, t in (cm.get("data") or {}).items() if k.endswith(".sh")]
    for c in containers(pspec):
        scripts += [" ".join(map(str, (c.get("command") or []) + (c.get("args") or [])))]
    text = "\n".join(scripts)
    for needle in ("CacheAlreadyExists", "409"):
        if needle not in text:
            out.append(f"{ident(job)}: its script does not handle '{needle}' "
                       f"(an existing cache must be success)")
    return out


def check_database(docs, settings):
    out = []
    clusters = [c for c in of_kind(docs, "Cluster")
                if c.get("apiVersion") == "postgresql.cnpg.io/v1"]
    if len(clusters) != 1:
        return [f"expected one CloudNativePG Cluster (postgresql.cnpg.io/v1), found {len(clusters)}"]
    cl = clusters[0]
    if not ((cl.get("spec") or {}).get("storage") or {}).get("storageClass"):
        out.append(f"{ident(cl)}: spec.storage.storageClass is empty")
    app_secret = f"{cl['metadata']['name']}-app"
    for d in deployments_by_mode(docs, "api") + deployments_by_mode(docs, "gc"):
        uses = [r for r in _references(pod_spec(d)) if r[1] == "Secret" and r[2] == app_secret]
        if not uses:
            out.append(f"{ident(d)}: does not use the database Secret {app_secret}")
    return out


CHECKS = {
    "placeholders": check_placeholders,
    "namespace": check_namespace,
    "settings": check_settings,
    "probes": check_probes,
    "ingress": check_ingress,
    "tls": check_tls,
    "refs": check_refs,
    "images": check_images,
    "security": check_security,
    "resources": check_resources,
    "gc": check_gc,
    "api": check_api,
    "pdb-hpa": check_pdb_hpa,
    "job": check_job,
    "database": check_database,
}


def run_checks(docs, settings):
    """{check id: [messages]} of the checks that found something."""
    found = {}
    for name, check in CHECKS.items():
        try:
            msgs = check(docs, settings)
        except (KeyError, TypeError, AttributeError, IndexError) as e:
            msgs = [f"malformed object: {type(e).__name__}: {e}"]
        if msgs:
            found[name] = msgs
    return found


# ---- self-test: one breakage per check -------------------------------------------

def _find(docs, kind, name=None, mode=None):
    for d in docs:
        if d.get("kind") != kind:
            continue
        if name and d["metadata"]["name"] != name:
            continue
        if mode and not any(garretd_mode(c) == mode for c in containers(pod_spec(d))):
            continue
        return d
    raise LookupError(f"self-test: no {kind} {name or mode or ''}")


def _api(d):
    return containers(pod_spec(_find(d, "Deployment", mode="api")))[0]


def _gc(d):
    return containers(pod_spec(_find(d, "Deployment", mode="gc")))[0]


def _job_container(d):
    return containers(pod_spec(_find(d, "Job")))[0]


def _set_env_ref_key(container, var, key):
    for e in container["env"]:
        if e["name"] == var:
            e["valueFrom"]["secretKeyRef"]["key"] = key


MUTATIONS = [
    ("a placeholder left", "placeholders",
     lambda d: _api(d)["env"].append({"name": "X", "value": PLACEHOLDER})),
    ("an object in another namespace", "namespace",
     lambda d: _find(d, "Service").setdefault("metadata", {}).update(namespace="elsewhere")),
    ("ingress host differs from settings", "settings",
     lambda d: _find(d, "Ingress")["spec"]["rules"][0].update(host="other.example.org")),
    ("API image differs from settings", "settings",
     lambda d: _api(d).update(image="registry.example.org/other:1.0")),
    ("no liveness probe on the API", "probes", lambda d: _api(d).pop("livenessProbe")),
    ("no readiness probe on the collector", "probes", lambda d: _gc(d).pop("readinessProbe")),
    ("readiness on /health", "probes",
     lambda d: _api(d)["readinessProbe"]["httpGet"].update(path="/health")),
    ("legacy ingress class annotation", "ingress",
     lambda d: _find(d, "Ingress")["metadata"].setdefault("annotations", {}).update(
         {LEGACY_INGRESS_CLASS: "nginx"})),
    ("no ingressClassName", "ingress", lambda d: _find(d, "Ingress")["spec"].pop("ingressClassName")),
    ("no cert-manager annotation", "ingress",
     lambda d: _find(d, "Ingress")["metadata"]["annotations"].pop("cert-manager.io/cluster-issuer")),
    ("ingress backend to a missing Service", "ingress",
     lambda d: _find(d, "Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
     .update(name="missing")),
    ("TLS host differs from the rule host", "tls",
     lambda d: _find(d, "Ingress")["spec"]["tls"][0].update(hosts=["other.example.org"])),
    ("TLS without hosts", "tls", lambda d: _find(d, "Ingress")["spec"]["tls"][0].update(hosts=[])),
    ("no TLS", "tls", lambda d: _find(d, "Ingress")["spec"].pop("tls")),
    ("env from a Secret key nobody defines", "refs",
     lambda d: _set_env_ref_key(_api(d), "GARRET_JWT_SIGNING_TOKEN_HS256_SECRET_BASE64", "nope")),
    ("a CloudNativePG key that does not exist", "refs",
     lambda d: _set_env_ref_key(_gc(d), "GARRET_DATABASE_URL", "url")),
    ("envFrom a missing ConfigMap", "refs",
     lambda d: _api(d).setdefault("envFrom", []).append({"configMapRef": {"name": "missing"}})),
    ("a volume item key the ConfigMap lacks", "refs",
     lambda d: pod_spec(_find(d, "Job"))["volumes"][0]["configMap"]["items"][0].update(
         key="missing.toml")),
    ("an image tagged latest", "images",
     lambda d: _api(d).update(image="registry.example.org/garretd:latest")),
    ("an image without a tag", "images", lambda d: _job_container(d).update(image="garretd")),
    ("a PostgreSQL image without a tag", "images",
     lambda d: _find(d, "Cluster")["spec"].update(imageName="ghcr.io/cloudnative-pg/postgresql")),
    ("runAsNonRoot false", "security",
     lambda d: (pod_spec(_find(d, "Deployment", mode="gc"))["securityContext"].update(
         runAsNonRoot=False), _gc(d)["securityContext"].update(runAsNonRoot=False))),
    ("writable root filesystem", "security",
     lambda d: _api(d)["securityContext"].update(readOnlyRootFilesystem=False)),
    ("capabilities kept", "security",
     lambda d: _job_container(d)["securityContext"].update(capabilities={})),
    ("no seccomp profile", "security",
     lambda d: pod_spec(_find(d, "Deployment", mode="api"))["securityContext"].pop("seccompProfile")),
    ("no memory limit", "resources", lambda d: _gc(d)["resources"]["limits"].pop("memory")),
    ("two collectors", "gc",
     lambda d: _find(d, "Deployment", mode="gc")["spec"].update(replicas=2)),
    ("collector rolling update", "gc",
     lambda d: _find(d, "Deployment", mode="gc")["spec"].update(strategy={"type": "RollingUpdate"})),
    ("collector runs --mode api", "gc",
     lambda d: _gc(d).update(args=["serve", "--mode", "api", "-f", "/etc/garret/server.toml"])),
    ("one API replica", "api",
     lambda d: _find(d, "Deployment", mode="api")["spec"].update(replicas=1)),
    ("PDB selects the collector", "pdb-hpa",
     lambda d: _find(d, "PodDisruptionBudget")["spec"].update(selector={"matchLabels": pod_labels(
         _find(d, "Deployment", mode="gc"))})),
    ("HPA targets another Deployment", "pdb-hpa",
     lambda d: _find(d, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"].update(name="other")),
    ("HPA minReplicas 1", "pdb-hpa",
     lambda d: _find(d, "HorizontalPodAutoscaler")["spec"].update(minReplicas=1)),
    ("Job restartPolicy Always", "job",
     lambda d: pod_spec(_find(d, "Job")).update(restartPolicy="Always")),
    ("Job without backoffLimit", "job", lambda d: _find(d, "Job")["spec"].pop("backoffLimit")),
    ("Job script fails on an existing cache", "job",
     lambda d: [cm["data"].update({k: v.replace("CacheAlreadyExists", "")})
                for cm in of_kind(d, "ConfigMap") for k, v in (cm.get("data") or {}).items()
                if k.endswith(".sh")]),
    ("database without a storage class", "database",
     lambda d: _find(d, "Cluster")["spec"]["storage"].update(storageClass="")),
]


def self_test(docs, settings):
    baseline = run_checks(docs, settings)
    if baseline:
        print("self-test: the unbroken manifests must pass first", file=sys.stderr)
        return False
    ok = True
    covered = set()
    for what, expected, mutate in MUTATIONS:
        broken = copy.deepcopy(docs)
        mutate(broken)
        found = run_checks(broken, settings)
        if expected in found:
            covered.add(expected)
            print(f"self-test ok: {what} -> [{expected}] {found[expected][0]}")
        else:
            ok = False
            print(f"self-test FAILED: {what}: check [{expected}] found nothing "
                  f"(reported: {sorted(found) or 'nothing'})", file=sys.stderr)
    for name in CHECKS:
        if name not in covered and (name != "settings" or settings):
            ok = False
            print(f"self-test FAILED: no breakage proves check [{name}] can fail", file=sys.stderr)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("rendered")
    ap.add_argument("--settings", help="the overlay's settings.yaml")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()

    with open(args.rendered, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    settings = {}
    if args.settings:
        with open(args.settings, encoding="utf-8") as f:
            settings = {k: str(v) for k, v in ((yaml.safe_load(f) or {}).get("data") or {}).items()}

    found = run_checks(docs, settings)
    for name, msgs in found.items():
        for m in msgs:
            print(f"FAIL [{name}] {m}", file=sys.stderr)
    if found:
        return 1
    print(f"ok: {len(docs)} objects, {len(CHECKS)} checks")
    if args.self_test and not self_test(docs, settings):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
