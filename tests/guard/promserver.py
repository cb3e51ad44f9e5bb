"""A real Prometheus (Debian's ``prometheus``) scraping a small application whose error rate
the test controls, both on loopback, both stopped by the fixture.

The application serves ``app_requests_total{code="200"|"500"}`` on ``/metrics``, counting
a steady 100 synthetic requests a second of which ``error_rate`` fail; ``POST
/admin/error-rate?value=0.2`` changes it, ``POST /admin/rollback`` sets it back to 0 (what
a real rollback would do) and counts rollbacks, ``GET /healthz`` answers 200.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
RATE = 100  # synthetic requests per second
ERROR_RATIO = 'sum(rate(app_requests_total{code=~"5.."}[5s])) / sum(rate(app_requests_total[5s]))'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class App:
    error_rate: float = 0.0
    ok: int = 0
    failed: int = 0
    rollbacks: int = 0
    hooks: list[dict[str, object]] = field(default_factory=list)  # webhook notifications received
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tick(self) -> None:
        owed = 0.0
        while not self.stop.wait(0.05):
            with self.lock:
                n = RATE // 20
                owed += n * self.error_rate
                bad = int(owed)
                owed -= bad
                self.failed += bad
                self.ok += n - bad

    def set_error_rate(self, value: float) -> None:
        with self.lock:
            self.error_rate = value


def _handler(app: App) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def _send(self, status: int, body: bytes, kind: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/metrics":
                with app.lock:
                    text = (
                        "# HELP app_requests_total Requests served.\n# TYPE app_requests_total counter\n"
                        f'app_requests_total{{code="200"}} {app.ok}\napp_requests_total{{code="500"}} {app.failed}\n'
                    )
                self._send(200, text.encode(), "text/plain; version=0.0.4")
            elif self.path == "/healthz":
                self._send(200, b"ok")
            else:
                self._send(404, b"no")

        def do_POST(self) -> None:
            url = urllib.parse.urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if url.path == "/admin/error-rate":
                app.set_error_rate(float(urllib.parse.parse_qs(url.query)["value"][0]))
                self._send(200, b"set")
            elif url.path == "/admin/rollback":
                app.set_error_rate(0.0)
                with app.lock:
                    app.rollbacks += 1
                self._send(204, b"")
            elif url.path == "/hooks":
                app.hooks.append({"headers": dict(self.headers), "body": json.loads(body or b"{}")})
                self._send(200, b"ok")
            else:
                self._send(404, b"no")

    return Handler


@dataclass
class Prometheus:
    url: str
    process: subprocess.Popen[bytes]

    def query(self, promql: str) -> dict[str, object]:
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}") as r:
            doc: dict[str, object] = json.loads(r.read())
            return doc


def start_app() -> tuple[App, ThreadingHTTPServer]:
    app = App()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(app))
    app.port = int(server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Thread(target=app.tick, daemon=True).start()
    return app, server


def start_prometheus(root: Path, app: App) -> Prometheus:
    if not Path(PROMETHEUS).exists():
        pytest.fail("Debian's prometheus package is not installed (.ci/run installs it)")
    port = free_port()
    config = root / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['127.0.0.1:{app.port}']\n"
    )
    log = (root / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={root / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=1h"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as r:
                if r.status == 200:
                    return Prometheus(url, process)
        except OSError:
            time.sleep(0.2)
    process.kill()
    pytest.fail(f"Prometheus did not become ready: {(root / 'prometheus.log').read_text()[-2000:]}")


def wait_for_data(prom: Prometheus, timeout: float = 30) -> None:
    """Until the error ratio has a value (two scrapes in the rate window)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = prom.query(ERROR_RATIO)["data"]
        if isinstance(data, dict) and data.get("result"):
            return
        time.sleep(0.5)
    pytest.fail("Prometheus never returned data for the error ratio")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[App, Prometheus]]:
    app, server = start_app()
    prom = start_prometheus(tmp_path_factory.mktemp("prometheus"), app)
    try:
        wait_for_data(prom)
        yield app, prom
    finally:
        prom.process.terminate()
        try:
            prom.process.wait(10)
        except subprocess.TimeoutExpired:
            prom.process.kill()
        app.stop.set()
        server.shutdown()
