"""Browser tests: real headless Chromium (Debian's, driven by Playwright) against a real
``ringfence serve`` on a free port, in an isolated home.

Under CI (``CI`` set) a missing Chromium or Playwright fails these tests; elsewhere they
are skipped with the reason. Playwright never downloads a browser here: it launches
``/usr/bin/chromium``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.control.flow import EXAMPLE_POLICY
from tests.helpers import RINGFENCE, isolated_env, payload

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "correct horse battery staple"


def launch_problem() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (apt-get install chromium chromium-driver)"
    return None


def require_browser() -> None:
    """Skip the caller (a test module or fixture) when the browser tests cannot run here;
    under CI, fail instead: a green CI must have driven the browser."""
    problem = launch_problem()
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"the dashboard's browser tests must run under CI, but {problem}", pytrace=False)
    pytest.skip(f"browser tests skipped: {problem}", allow_module_level=True)


def playwright_expect() -> Any:
    """Playwright's ``expect`` (after :func:`require_browser`)."""
    require_browser()
    from playwright.sync_api import expect

    return expect


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running ``ringfence serve`` with approvers alice and bob (release-managers)."""

    base: str
    env: dict[str, str]
    workspace: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def cli(self, *args: str, stdin: str | None = None) -> str:
        proc = subprocess.run(
            [RINGFENCE, *args], env=self.env, cwd=self.workspace, input=stdin, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    def token(self, agent: str) -> str:
        if agent not in self.tokens:
            self.tokens[agent] = self.cli("token", "issue", "--agent", agent, "--ttl", "1h")
        return self.tokens[agent]

    def hook(self, agent: str, command: str) -> dict[str, Any]:
        """What Claude Code's HTTP hook gets for an unattended Bash call by ``agent``."""
        body = json.dumps(payload("Bash", {"command": command}, self.workspace, "bypassPermissions")).encode()
        req = urllib.request.Request(f"{self.base}/api/v1/hooks/claude-code", data=body, method="POST")
        req.add_header("Content-Type", "application/json")
        req.add_header("Authorization", f"Bearer {self.token(agent)}")
        with urllib.request.urlopen(req, timeout=30) as resp:
            out: dict[str, Any] = json.loads(resp.read())["hookSpecificOutput"]
        return out


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve")
    env = isolated_env(root)
    config = Path(env["XDG_CONFIG_HOME"]) / "ringfence" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(
        yaml.safe_dump(
            {
                "agent": {"id": "deploy-bot", "owner": "carol"},
                "policy": [str(EXAMPLE_POLICY)],
                "approvers": {name: {"groups": ["release-managers"]} for name in ("alice", "bob")},
            }
        )
    )
    ws = root / "repo"
    (ws / ".git").mkdir(parents=True)
    port = _free_port()
    srv = Server(f"http://127.0.0.1:{port}", env, ws)
    for user in ("alice", "bob"):
        srv.cli("user", "add", user, "--password-stdin", stdin=PASSWORD + "\n")
    log = root / "serve.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [RINGFENCE, "serve", "--port", str(port), "--log-level", "warning"], env=env, cwd=ws, stderr=sink
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{srv.base}/readyz", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"ringfence serve did not become ready: {log.read_text()}")
            time.sleep(0.1)
        yield srv
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def sign_in(page: Any, base: str, user: str) -> None:
    """Sign in through the login form, starting from the queue (which redirects there)."""
    from playwright.sync_api import expect

    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/login?next=/")
    page.fill("#user", user)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    expect(page.locator(".flash.ok")).to_have_text(f"Signed in as {user}.")
    expect(page.locator(".who .user")).to_have_text(user)


def sign_out(page: Any, base: str) -> None:
    from playwright.sync_api import expect

    page.click("button:has-text('Sign out')")
    expect(page).to_have_url(f"{base}/login")
