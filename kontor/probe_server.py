"""The worker's probes over HTTP (it serves no API): `GET /health` answers 200 while the worker loop
runs (503 once it has stopped), `GET /ready` 200 or 503 with each dependency "up" or "down"
(kontor.readiness). On `KONTOR_WORKER_HEALTH_HOST`:`KONTOR_WORKER_HEALTH_PORT` (127.0.0.1, off by
default); docker-compose's health checks call it from inside the container."""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kontor.readiness import Readiness

log = logging.getLogger("kontor.worker")


def start_probe_server(host: str, port: int, alive: Callable[[], bool], readiness: Readiness) -> ThreadingHTTPServer:
    class Probes(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server interface
            if self.path == "/health":
                ok = alive()
                body = {"status": "ok" if ok else "stopped"}
            elif self.path == "/ready":
                ok, checks = readiness()
                body = {"status": "ready" if ok else "unavailable", "checks": checks}
            else:
                ok, body = False, {"status": "not found"}
            data = json.dumps(body).encode()
            self.send_response(200 if ok else 404 if body["status"] == "not found" else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # health checks every few seconds: not worth a log line each
            pass

    server = ThreadingHTTPServer((host, port), Probes)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="kontor-probes", daemon=True).start()
    log.info("worker probes on http://%s:%s/health and /ready", host, server.server_address[1])
    return server
