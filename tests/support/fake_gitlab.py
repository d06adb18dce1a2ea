#!/usr/bin/env python3
"""A fake GitLab REST API (v4) for garret's tests. Python 3 standard library only.

Serves, for one project (id 42, path group/proj):
  GET  /api/v4/projects/:id/pipelines?ref=R          newest first
  GET  /api/v4/projects/:id/pipelines/:pid            advances the simulation one step
  GET  /api/v4/projects/:id/pipelines/:pid/jobs       paginated (X-Next-Page and Link)
  POST /api/v4/projects/:id/jobs/:jid/retry
  GET/POST /api/v4/projects/:id/variables, GET/PUT/DELETE .../variables/:key
  GET  /__state                                       test introspection (no auth)

The pipeline (id 1001 on ref main; 1000 is an older finished one) goes
pending -> running; stage build (build), stage test (lint, unit, flaky),
stage deploy (package). `flaky` fails with runner_system_failure the first
--flaky-failures times it runs; after a failure, later stages are skipped and
the pipeline fails, until someone retries the job (POST .../retry), which
creates a new attempt and sets the pipeline running again.

Auth: PRIVATE-TOKEN or JOB-TOKEN equal to --token; --readonly-token gets 403
on variables and retries; anything else (or none) gets 401.

Listens on 127.0.0.1, port 0; prints "listening <port>" and exits when its
stdin closes.
"""

import argparse
import json
import re
import sys
import threading
import urllib.parse
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROJECT_IDS = {"42", "group%2fproj", "group/proj"}
MASKABLE = re.compile(r"^[A-Za-z0-9+/=_\-@:.~]{8,}$")
KEY = re.compile(r"^[A-Za-z0-9_]{1,255}$")
START = datetime(2026, 1, 1, 10, 0, 0, tzinfo=timezone.utc)
TICK = timedelta(seconds=30)
STAGES = ["build", "test", "deploy"]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z") if t else None


class Simulation:
    """The pipeline as a small state machine, advanced one step per poll."""

    def __init__(self, flaky_failures):
        self.lock = threading.Lock()
        self.flaky_failures = flaky_failures
        self.flaky_runs = 0
        self.tick = 0
        self.polls = 0
        self.retries = []
        self.pipeline = {"id": 1001, "status": "pending", "ref": "main", "sha": "c0ffee" * 6 + "c0ff",
                         "web_url": "http://gitlab.test/group/proj/-/pipelines/1001"}
        self.jobs = []
        self.next_id = 2001
        for stage, name in [("build", "build"), ("test", "lint"), ("test", "unit"),
                            ("test", "flaky"), ("deploy", "package")]:
            self.add_job(name, stage, "pending" if stage == "build" else "created")

    def now(self):
        return START + self.tick * TICK

    def add_job(self, name, stage, status):
        job = {"id": self.next_id, "name": name, "stage": stage, "status": status,
               "failure_reason": None, "allow_failure": False, "retried": False,
               "created": self.now(), "started": None, "finished": None, "runner": None,
               "tag_list": ["x86_64", "dind"] if name == "package" else ["x86_64"]}
        self.next_id += 1
        self.jobs.append(job)
        return job

    def latest(self):
        return [j for j in self.jobs if not j["retried"]]

    def finish(self, job):
        job["finished"] = self.now()
        if job["name"] == "flaky" and self.flaky_runs < self.flaky_failures:
            self.flaky_runs += 1
            job["status"], job["failure_reason"] = "failed", "runner_system_failure"
        else:
            if job["name"] == "flaky":
                self.flaky_runs += 1
            job["status"] = "success"

    def step(self):
        self.tick += 1
        latest = self.latest()
        for job in [j for j in latest if j["status"] == "running"]:
            self.finish(job)
        for job in [j for j in latest if j["status"] == "pending"]:
            job["status"], job["started"] = "running", self.now()
            job["runner"] = {"id": 7, "description": "runner-%s" % job["stage"], "is_shared": False}
        self.open_next_stage(latest)
        self.update_pipeline(latest)

    def open_next_stage(self, latest):
        for stage in STAGES:
            in_stage = [j for j in latest if j["stage"] == stage]
            if any(j["status"] in ("created",) for j in in_stage):
                earlier = [j for j in latest if STAGES.index(j["stage"]) < STAGES.index(stage)]
                if all(j["status"] == "success" for j in earlier):
                    for j in in_stage:
                        if j["status"] == "created":
                            j["status"] = "pending"
                return

    def update_pipeline(self, latest):
        statuses = [j["status"] for j in latest]
        if any(s in ("running", "pending") for s in statuses):
            self.pipeline["status"] = "running"
        elif any(s == "failed" for s in statuses):
            for j in latest:
                if j["status"] == "created":
                    j["status"] = "skipped"
            self.pipeline["status"] = "failed"
        elif all(s == "success" for s in statuses):
            self.pipeline["status"] = "success"

    def retry(self, job_id):
        old = next((j for j in self.jobs if j["id"] == job_id), None)
        if old is None:
            return None
        if old["retried"] or old["status"] not in ("failed", "canceled", "success"):
            return "not retryable"
        old["retried"] = True
        new = self.add_job(old["name"], old["stage"], "pending")
        for j in self.latest():
            if j["status"] == "skipped":
                j["status"] = "created"
        self.pipeline["status"] = "running"
        self.retries.append(job_id)
        return new

    def job_json(self, j):
        def seconds(a, b):
            return (b - a).total_seconds() if a and b else None
        return {"id": j["id"], "name": j["name"], "stage": j["stage"], "status": j["status"],
                "failure_reason": j["failure_reason"], "allow_failure": j["allow_failure"],
                "retried": j["retried"], "created_at": iso(j["created"]), "started_at": iso(j["started"]),
                "finished_at": iso(j["finished"]), "duration": seconds(j["started"], j["finished"]),
                "queued_duration": seconds(j["created"], j["started"]), "runner": j["runner"],
                "tag_list": j["tag_list"], "web_url": "http://gitlab.test/group/proj/-/jobs/%d" % j["id"]}

    def pipeline_json(self):
        p = dict(self.pipeline)
        done = p["status"] in ("success", "failed", "canceled")
        p["duration"] = (self.tick * TICK).total_seconds() if done else None
        p["queued_duration"] = TICK.total_seconds()
        return p


OLD_PIPELINE = {"id": 1000, "status": "success", "ref": "main", "sha": "0" * 40,
                "web_url": "http://gitlab.test/group/proj/-/pipelines/1000",
                "duration": 60.0, "queued_duration": 1.0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server_version = "FakeGitLab/1.0"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    # ---------------------------------------------------------------- plumbing

    def send_json(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        raw = self.raw_body
        if "json" in (self.headers.get("Content-Type") or ""):
            try:
                return json.loads(raw or "{}")
            except ValueError:
                return None
        return {k: v[-1] for k, v in urllib.parse.parse_qs(raw).items()}

    def auth(self):
        """Returns 'rw', 'ro' or None (after sending 401)."""
        cfg = self.server.cfg
        token = self.headers.get("PRIVATE-TOKEN") or self.headers.get("JOB-TOKEN")
        if token == cfg.token:
            return "rw"
        if token == cfg.readonly_token:
            return "ro"
        self.send_json(401, {"message": "401 Unauthorized"})
        return None

    def route(self, method):
        # Read the whole request first: answering early (401/403) with the body
        # unread would break the next request on this keep-alive connection.
        length = int(self.headers.get("Content-Length") or 0)
        self.raw_body = self.rfile.read(length).decode(errors="replace") if length else ""
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        if url.path == "/__state":
            sim = self.server.sim
            with sim.lock:
                return self.send_json(200, {"polls": sim.polls, "retries": sim.retries,
                                            "variables": self.server.variables})
        m = re.match(r"^/api/v4/projects/([^/]+)(/.*)$", url.path)
        if not m:
            return self.send_json(404, {"error": "404 Not Found"})
        access = self.auth()
        if access is None:
            return
        if m.group(1).lower() not in PROJECT_IDS:
            return self.send_json(404, {"message": "404 Project Not Found"})
        rest = m.group(2)
        for pattern, handler in ROUTES:
            hit = re.match(pattern, rest)
            if hit and handler[0] == method:
                with self.server.sim.lock:
                    return handler[1](self, access, query, *hit.groups())
        return self.send_json(404, {"error": "404 Not Found"})

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_DELETE(self):
        self.route("DELETE")

    # ---------------------------------------------------------------- pipelines

    def list_pipelines(self, access, query):
        sim = self.server.sim
        items = [sim.pipeline_json(), OLD_PIPELINE] if query.get("ref", "main") == "main" else []
        per_page = int(query.get("per_page", 20))
        return self.send_json(200, items[:per_page])

    def get_pipeline(self, access, query, pid):
        sim = self.server.sim
        if pid == "1000":
            return self.send_json(200, OLD_PIPELINE)
        if pid != "1001":
            return self.send_json(404, {"message": "404 Not found"})
        if sim.polls > 0:
            sim.step()
        sim.polls += 1
        return self.send_json(200, sim.pipeline_json())

    def list_jobs(self, access, query, pid):
        sim = self.server.sim
        if pid != "1001":
            return self.send_json(404, {"message": "404 Not found"})
        jobs = sim.jobs if query.get("include_retried") == "true" else sim.latest()
        jobs = sorted(jobs, key=lambda j: -j["id"])
        per_page = min(int(query.get("per_page", 20)), self.server.cfg.page_size)
        page = max(int(query.get("page", 1)), 1)
        pages = max((len(jobs) + per_page - 1) // per_page, 1)
        chunk = jobs[(page - 1) * per_page: page * per_page]
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(jobs)),
                   "X-Total-Pages": str(pages)}
        base = "http://%s/api/v4/projects/42/pipelines/%s/jobs" % (self.headers.get("Host"), pid)
        params = {k: v for k, v in query.items() if k not in ("page", "per_page")}

        def link(p):
            q = urllib.parse.urlencode(dict(params, page=p, per_page=per_page))
            return "%s?%s" % (base, q)
        links = ['<%s>; rel="first"' % link(1), '<%s>; rel="last"' % link(pages)]
        if page < pages:
            links.insert(0, '<%s>; rel="next"' % link(page + 1))
            if not self.server.cfg.link_only:
                headers["X-Next-Page"] = str(page + 1)
        else:
            headers["X-Next-Page"] = ""
        headers["Link"] = ", ".join(links)
        return self.send_json(200, [sim.job_json(j) for j in chunk], headers)

    def retry_job(self, access, query, jid):
        if access != "rw":
            return self.send_json(403, {"message": "403 Forbidden"})
        result = self.server.sim.retry(int(jid))
        if result is None:
            return self.send_json(404, {"message": "404 Job Not Found"})
        if isinstance(result, str):
            return self.send_json(403, {"message": "403 Forbidden - Job is not retryable"})
        return self.send_json(201, self.server.sim.job_json(result))

    # ---------------------------------------------------------------- variables

    def variable_error(self, body, creating):
        if body is None:
            return {"error": "body is not valid JSON"}
        key = body.get("key", "")
        if creating and not KEY.match(key or ""):
            return {"message": {"key": ["is too long (maximum is 255 characters)" if len(key) > 255
                                        else "can contain only letters, digits and '_'."]}}
        masked = str(body.get("masked", "false")).lower() == "true"
        if masked and not MASKABLE.match(str(body.get("value", ""))):
            return {"message": {"value": ["is invalid"]}}
        if body.get("variable_type", "env_var") not in ("env_var", "file"):
            return {"error": "variable_type does not have a valid value"}
        return None

    def stored(self, body, key):
        def flag(name):
            return str(body.get(name, "false")).lower() == "true"
        return {"key": key, "value": str(body.get("value", "")),
                "variable_type": body.get("variable_type", "env_var"), "protected": flag("protected"),
                "masked": flag("masked"), "raw": flag("raw"),
                "environment_scope": body.get("environment_scope", "*"),
                "description": body.get("description")}

    def list_variables(self, access, query):
        if access != "rw":
            return self.send_json(403, {"message": "403 Forbidden"})
        return self.send_json(200, list(self.server.variables.values()))

    def get_variable(self, access, query, key):
        if access != "rw":
            return self.send_json(403, {"message": "403 Forbidden"})
        key = urllib.parse.unquote(key)
        if key not in self.server.variables:
            return self.send_json(404, {"message": "404 Variable Not Found"})
        return self.send_json(200, self.server.variables[key])

    def create_variable(self, access, query):
        if access != "rw":
            return self.send_json(403, {"message": "403 Forbidden"})
        body = self.read_body()
        error = self.variable_error(body, True)
        if error:
            return self.send_json(400, error)
        if body["key"] in self.server.variables:
            return self.send_json(400, {"message": {"key": ["(%s) has already been taken" % body["key"]]}})
        self.server.variables[body["key"]] = self.stored(body, body["key"])
        return self.send_json(201, self.server.variables[body["key"]])

    def update_variable(self, access, query, key):
        if access != "rw":
            return self.send_json(403, {"message": "403 Forbidden"})
        key = urllib.parse.unquote(key)
        if key not in self.server.variables:
            return self.send_json(404, {"message": "404 Variable Not Found"})
        body = self.read_body()
        merged = dict(self.server.variables[key], **(body or {}))
        error = self.variable_error(merged if body is not None else None, False)
        if error:
            return self.send_json(400, error)
        self.server.variables[key] = self.stored(merged, key)
        return self.send_json(200, self.server.variables[key])

    def delete_variable(self, access, query, key):
        if access != "rw":
            return self.send_json(403, {"message": "403 Forbidden"})
        if self.server.variables.pop(urllib.parse.unquote(key), None) is None:
            return self.send_json(404, {"message": "404 Variable Not Found"})
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


ROUTES = [
    (r"^/pipelines$", ("GET", Handler.list_pipelines)),
    (r"^/pipelines/(\d+)$", ("GET", Handler.get_pipeline)),
    (r"^/pipelines/(\d+)/jobs$", ("GET", Handler.list_jobs)),
    (r"^/jobs/(\d+)/retry$", ("POST", Handler.retry_job)),
    (r"^/variables$", ("GET", Handler.list_variables)),
    (r"^/variables$", ("POST", Handler.create_variable)),
    (r"^/variables/([^/]+)$", ("GET", Handler.get_variable)),
    (r"^/variables/([^/]+)$", ("PUT", Handler.update_variable)),
    (r"^/variables/([^/]+)$", ("DELETE", Handler.delete_variable)),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", default="glpat-test-token")
    parser.add_argument("--readonly-token", default="readonly-token")
    parser.add_argument("--page-size", type=int, default=2, help="largest per_page honoured")
    parser.add_argument("--flaky-failures", type=int, default=1,
                        help="times job 'flaky' fails with runner_system_failure before passing")
    parser.add_argument("--link-only", action="store_true",
                        help="paginate with the Link header only (no X-Next-Page)")
    cfg = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.cfg = cfg
    server.sim = Simulation(cfg.flaky_failures)
    server.variables = {}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("listening %d" % server.server_address[1], flush=True)
    sys.stdin.read()  # the test closed our stdin: exit
    server.shutdown()


if __name__ == "__main__":
    main()
