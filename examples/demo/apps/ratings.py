"""Demo "ratings" (Python): star ratings per item."""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RATINGS = {"1": 5, "2": 4, "3": 3}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        status, body = (200, {"service": "ratings", "ratings": RATINGS}) if self.path == "/ratings" else (404, {"error": "not found"})
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
