#!/usr/bin/env python3
"""A stand-in for the Kubernetes API server, serving recorded responses.

GET <path> answers with FIXTURES/<path>.json (the query string is ignored), or
a 404 Status when there is no such file. POST to selfsubjectaccessreviews
answers allowed unless the review's resource is in --deny-access. Any other
method is refused with 405 (the clients under test must stay read-only) and
logged as "write <method> <path>" on stdout.

Options:
  --fixtures DIR          recorded responses
  --tls-cert F --tls-key F  serve HTTPS with this certificate
  --client-ca F           require a client certificate signed by this CA
  --token T               require "Authorization: Bearer T" (else 401)
  --deny PATH             answer 403 for GET PATH (repeatable)
  --deny-access RESOURCE  SelfSubjectAccessReview of RESOURCE[.group] is denied

Prints "listening <port>" once it accepts connections; exits when stdin closes.
"""
import argparse
import http.server
import json
import os
import ssl
import sys
import threading


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def make_handler(args):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # keep stdout for the protocol lines
            pass

        def reply(self, code, body):
            data = json.dumps(body).encode() if not isinstance(body, bytes) else body
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def authorized(self):
            if args.token and self.headers.get("Authorization") != "Bearer " + args.token:
                self.reply(401, status(401, "Unauthorized", "Unauthorized"))
                return False
            return True

        def do_GET(self):
            if not self.authorized():
                return
            path = self.path.split("?", 1)[0]
            if path in args.deny:
                self.reply(403, status(403, "Forbidden",
                                       'user "ci" cannot get resource at "%s"' % path))
                return
            name = os.path.normpath(os.path.join(args.fixtures, path.lstrip("/") + ".json"))
            if not name.startswith(os.path.abspath(args.fixtures)) or not os.path.isfile(name):
                self.reply(404, status(404, "NotFound", "the server could not find the requested resource"))
                return
            with open(name, "rb") as f:
                self.reply(200, f.read())

        def do_POST(self):
            if not self.authorized():
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if not self.path.startswith("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"):
                return self.refuse()
            review = json.loads(body)
            attrs = review.get("spec", {}).get("resourceAttributes", {})
            resource = attrs.get("resource", "")
            if attrs.get("group"):
                resource += "." + attrs["group"]
            review["status"] = {"allowed": resource not in args.deny_access}
            if resource in args.deny_access:
                review["status"]["reason"] = "RBAC: no rule allows it"
            self.reply(201, review)

        def refuse(self):
            print("write %s %s" % (self.command, self.path), flush=True)
            self.reply(405, status(405, "MethodNotAllowed", "read-only fake"))

        do_PUT = do_PATCH = do_DELETE = refuse

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--fixtures", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--client-ca")
    p.add_argument("--token")
    p.add_argument("--deny", action="append", default=[])
    p.add_argument("--deny-access", action="append", default=[])
    args = p.parse_args()
    args.fixtures = os.path.abspath(args.fixtures)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args))
    server.daemon_threads = True
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        if args.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.client_ca)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("listening %d" % server.server_address[1], flush=True)
    sys.stdin.read()  # until the test closes our stdin
    server.shutdown()


if __name__ == "__main__":
    main()
