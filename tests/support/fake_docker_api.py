#!/usr/bin/env python3
"""A stand-in for the Docker Engine API on a Unix socket.

Usage: fake_docker_api.py SOCKET_PATH DF_JSON [--delay SECONDS]

GET /_ping answers OK, GET /version a small version object, GET /system/df
the contents of DF_JSON (after --delay seconds, to test timeouts). Anything
else is 404; any method but GET/HEAD is 405 and logged as "write ..." on
stdout (doctor must never change anything). Prints "listening SOCKET_PATH"
once it accepts connections; exits when stdin closes.
"""
import http.server
import json
import os
import socketserver
import sys
import threading
import time


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def make_handler(df_path, delay):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def address_string(self):
            return "unix"

        def log_message(self, fmt, *a):
            pass

        def reply(self, code, data, ctype="application/json"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Api-Version", "1.47")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path.startswith("/v1.") and "/" in path[1:]:
                path = path[path.index("/", 1):]  # versioned paths: /v1.47/system/df
            if path == "/_ping":
                return self.reply(200, b"OK", "text/plain")
            if path == "/version":
                return self.reply(200, json.dumps({"ApiVersion": "1.47", "Version": "27.3.1"}).encode())
            if path == "/system/df":
                time.sleep(delay)
                with open(df_path, "rb") as f:
                    return self.reply(200, f.read())
            self.reply(404, json.dumps({"message": "page not found"}).encode())

        def refuse(self):
            print("write %s %s" % (self.command, self.path), flush=True)
            self.reply(405, json.dumps({"message": "read-only fake"}).encode())

        do_POST = do_PUT = do_DELETE = refuse

    return Handler


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: fake_docker_api.py SOCKET_PATH DF_JSON [--delay SECONDS]")
    sock, df = sys.argv[1], sys.argv[2]
    delay = float(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--delay" else 0.0
    if os.path.exists(sock):
        os.unlink(sock)
    server = UnixHTTPServer(sock, make_handler(df, delay))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("listening %s" % sock, flush=True)
    sys.stdin.read()
    server.shutdown()
    os.unlink(sock)


if __name__ == "__main__":
    main()
