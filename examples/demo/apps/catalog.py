"""Demo "catalog" (Python): lists the items. Calls ratings by mesh name through the
sidecar's HTTP proxy listener (urllib honours HTTP_PROXY), with no mesh code at all."""
import json
import os
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Passing the trace context on is the one thing an app does for tracing (the sidecars do the rest).
TRACE_HEADERS = ["traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled"]
ITEMS = [{"id": 1, "name": "trellis"}, {"id": 2, "name": "watering can"}, {"id": 3, "name": "seed tray"}]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path != "/items":
            return self.reply(404, {"error": "not found"})
        try:
            trace = {h: self.headers[h] for h in TRACE_HEADERS if self.headers.get(h) is not None}
            request = urllib.request.Request(os.environ.get("RATINGS_URL", "http://ratings:8080/ratings"), headers=trace)
            with urllib.request.urlopen(request, timeout=2) as r:
                ratings = json.load(r)
        except Exception as e:  # the page still renders without ratings
            ratings = {"error": str(e)}
        self.reply(200, {"service": "catalog", "language": "python", "items": ITEMS, "ratings": ratings})

    def reply(self, status, body):
        data = (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


try:
    ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
except KeyboardInterrupt:  # Ctrl-C or `trellis run` stopping us: a quiet exit
    pass
