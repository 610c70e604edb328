#!/usr/bin/python3
"""A recording HTTP proxy: forwards every request to switchyard and writes
each exchange (method, path, request body, status, response body) as one
JSON line, so that the MLflow client's calls can be replayed by the Go
tests where no Python client exists.

    record.py LISTEN_PORT UPSTREAM_URL OUT.jsonl

Bodies are JSON when they parse as JSON, else base64: "body_b64" for the
request's, "response_b64" for the answer's.
Only loopback addresses are used.
"""
import base64
import http.client
import http.server
import json
import sys
import threading
import urllib.parse

listen_port, upstream, out_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
up = urllib.parse.urlsplit(upstream)
lock = threading.Lock()
out = open(out_path, "a", encoding="utf-8")


def encode(raw, content_type):
    if not raw:
        return {}
    if "json" in (content_type or ""):
        try:
            return {"body": json.loads(raw)}
        except ValueError:
            pass
    return {"body_b64": base64.b64encode(raw).decode()}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(self.command, self.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        rec = {"method": self.command, "path": self.path,
               "content_type": self.headers.get("Content-Type", "")}
        rec.update(encode(body, self.headers.get("Content-Type")))
        rec["status"] = resp.status
        answer = encode(data, resp.getheader("Content-Type"))
        if "body" in answer:
            rec["response"] = answer["body"]
        elif "body_b64" in answer:
            rec["response_b64"] = answer["body_b64"]
        with lock:
            out.write(json.dumps(rec, sort_keys=True) + "\n")
            out.flush()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", listen_port), Proxy).serve_forever()
