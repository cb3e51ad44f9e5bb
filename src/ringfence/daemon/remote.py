"""Remote mode: the hook asks one ringfence server, and falls back to its last known policy.

With ``RINGFENCE_SERVER=https://host:port`` and ``RINGFENCE_TOKEN=rf1…`` the hook POSTs
the runtime's payload to ``{server}/api/v1/hooks/<runtime>`` and prints the server's
answer, after checking that it is one JSON object that is a decision in the runtime's
format (:mod:`ringfence.adapters.contracts`). Timeouts: 2 s to
connect, ``RINGFENCE_SERVER_TIMEOUT`` (default 10 s) in all.

- **401/403**: the token is invalid, expired or revoked. That is a deny saying how to get
  a new token, never a local decision: a revoked agent must not keep working offline.
  The rejection is remembered, so a fallback later denies for the same token too.
- **Unreachable** (refused, DNS, timeout, TLS, 5xx, an answer that is not a decision): the
  hook decides locally with the built-in packs plus the policy bundle last fetched from
  the server, with no control state. allow stays allow, deny stays deny, and
  require_approval becomes deny (approvals and the kill switch live on the server). Each
  such answer says the server was unreachable and why, and is recorded in the local
  ledger. With no bundle fetched yet, or an expired token, every action is denied.
- **Policy cache**: each answer carries ``X-Ringfence-Policy-Digest``; when it differs
  from the cached one, a detached child fetches the server's policy bundle after the
  answer is printed (see :mod:`ringfence.daemon.offline`).

This module runs before every tool call, so its top level imports only builtins: HTTP is
spoken over ``_socket`` (``http.client`` costs ~35 ms of imports per call), the answer is
checked with the C JSON scanner (``json`` pulls in ``re``, ~10 ms), and TLS loads ``ssl``
only for ``https://`` servers. The fallback loads the gate lazily, in a child process.
"""

from __future__ import annotations

import _socket
import os
import time

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~8 ms per call
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from ringfence.daemon.offline import Refresh

CONNECT_TIMEOUT = 2.0
TOTAL_TIMEOUT = 10.0
MAX_ANSWER = 1024 * 1024
HOOK_PATH = "/api/v1/hooks/"


class Unreachable(Exception):
    """The server did not give a usable answer; the message says why."""


class Server:
    """A parsed ``RINGFENCE_SERVER``: ``http(s)://host[:port][/prefix]``."""

    __slots__ = ("host", "port", "prefix", "tls", "url")

    def __init__(self, text: str) -> None:
        url = text.strip().rstrip("/")
        scheme, sep, rest = url.partition("://")
        if not sep or scheme.lower() not in ("http", "https"):
            raise ValueError(f"RINGFENCE_SERVER must be an http:// or https:// URL, not {text!r}")
        self.url = url
        self.tls = scheme.lower() == "https"
        authority, slash, path = rest.partition("/")
        self.prefix = slash + path
        if "@" in authority or "?" in url or "#" in url:
            raise ValueError(f"RINGFENCE_SERVER takes no credentials, query or fragment: {text!r}")
        if authority.startswith("["):  # [::1]:8470
            host, _, after = authority[1:].partition("]")
            port_text = after[1:] if after.startswith(":") else ("" if not after else "x")
        else:
            host, _, port_text = authority.partition(":")
        if not host:
            raise ValueError(f"RINGFENCE_SERVER names no host: {text!r}")
        if port_text and not (port_text.isdigit() and 0 < int(port_text) < 65536):
            raise ValueError(f"RINGFENCE_SERVER has an invalid port: {text!r}")
        self.host = host
        self.port = int(port_text) if port_text else (443 if self.tls else 80)

    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.tls else 80
        return host if self.port == default else f"{host}:{self.port}"


class Reply:
    """One HTTP answer: status, reason phrase, lower-cased headers, body."""

    __slots__ = ("body", "headers", "reason", "status")

    def __init__(self, status: int, reason: str, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def error_message(self) -> str:
        """The ``error`` the server put in its JSON body, else the reason phrase."""
        doc = loads(self.body)
        if isinstance(doc, dict) and isinstance(doc.get("error"), str):
            return str(doc["error"])
        return self.reason or "no reason given"


# --- HTTP over a socket ---------------------------------------------------------------------


def exchange(
    server: Server,
    method: str,
    path: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float = TOTAL_TIMEOUT,
    limit: int = MAX_ANSWER,
) -> Reply:
    """One HTTP/1.1 request with ``Connection: close``: at most :data:`CONNECT_TIMEOUT` to
    connect and ``timeout`` in all. Raises :class:`Unreachable` saying what went wrong."""
    deadline = time.monotonic() + timeout
    from ringfence import __version__

    lines = [
        f"{method} {server.prefix}{path} HTTP/1.1",
        f"Host: {server.host_header()}",
        f"User-Agent: ringfence/{__version__}",
        "Accept: application/json",
        "Connection: close",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    sock = _connect(server, timeout, deadline)
    try:
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        sock.sendall(request)
        return _read_reply(sock, deadline, timeout, limit)
    except TimeoutError:
        raise Unreachable(f"no answer within {timeout:g} s") from None
    except OSError as exc:
        raise Unreachable(_describe(exc)) from None
    finally:
        sock.close()


def _connect(server: Server, timeout: float, deadline: float) -> Any:
    # bytes, not str: for a str host the socket module loads the IDNA codec (~15 ms with re)
    host: str | bytes = server.host.encode("ascii") if server.host.isascii() else server.host
    try:
        infos = _socket.getaddrinfo(host, server.port, 0, _socket.SOCK_STREAM)
    except OSError as exc:
        raise Unreachable(f"cannot resolve {server.host}: {exc.strerror or exc}") from None
    if server.tls:
        import socket  # ssl needs the socket wrapper class

        make: Any = socket.socket
    else:
        make = _socket.socket
    last: OSError | None = None
    for family, kind, proto, _, address in infos:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock = make(family, kind, proto)
        try:
            sock.settimeout(min(CONNECT_TIMEOUT, left))
            sock.connect(address)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        if not server.tls:
            return sock
        try:
            return _tls(sock, server, deadline)
        except OSError as exc:
            sock.close()
            if isinstance(exc, TimeoutError):
                raise Unreachable(f"no TLS handshake within {timeout:g} s") from None
            raise Unreachable(_describe(exc)) from None
    if isinstance(last, TimeoutError) or last is None:
        raise Unreachable(f"could not connect to {server.host}:{server.port} within {CONNECT_TIMEOUT:g} s")
    raise Unreachable(_describe(last))


def _tls(sock: Any, server: Server, deadline: float) -> Any:
    import ssl

    context = ssl.create_default_context(cafile=os.environ.get("RINGFENCE_SERVER_CA") or None)
    sock.settimeout(max(0.001, deadline - time.monotonic()))
    return context.wrap_socket(sock, server_hostname=server.host)


def _describe(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    name = type(exc).__name__
    if name == "SSLCertVerificationError":
        return f"TLS certificate verification failed: {getattr(exc, 'verify_message', '') or exc}"
    if name.startswith("SSL"):
        return f"TLS error: {getattr(exc, 'reason', None) or exc}"
    return exc.strerror or str(exc) or name


def _read_reply(sock: Any, deadline: float, timeout: float, limit: int) -> Reply:
    buf = bytearray()
    head_end = -1
    need: int | None = None
    chunked = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Unreachable(f"no complete answer within {timeout:g} s")
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
        if len(buf) > limit + 65536:
            raise Unreachable(f"the answer is larger than {limit} bytes")
        if head_end < 0:
            head_end = buf.find(b"\r\n\r\n")
            if head_end >= 0:
                status, reason, headers = _parse_head(bytes(buf[:head_end]))
                chunked = "chunked" in headers.get("transfer-encoding", "").lower()
                length = headers.get("content-length")
                if not chunked and length is not None:
                    if not length.isdigit():
                        raise Unreachable(f"the answer has an invalid Content-Length {length!r}")
                    need = int(length)
        if need is not None and len(buf) - head_end - 4 >= need:
            break
    if head_end < 0:
        raise Unreachable("the connection closed before a complete HTTP answer" if buf else "empty answer")
    body = bytes(buf[head_end + 4 :])
    if chunked:
        body = _dechunk(body)
    elif need is not None:
        if len(body) < need:
            raise Unreachable(f"the answer was cut off ({len(body)} of {need} bytes)")
        body = body[:need]
    return Reply(status, reason, headers, body)


def _parse_head(head: bytes) -> tuple[int, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not (parts[1].isdigit() and len(parts[1]) == 3):
        raise Unreachable(f"not an HTTP answer: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), parts[2] if len(parts) > 2 else "", headers


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while True:
        end = data.find(b"\r\n", pos)
        if end < 0:
            raise Unreachable("the chunked answer was cut off")
        size_text = data[pos:end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise Unreachable(f"the chunked answer has a bad chunk size {size_text[:20]!r}") from None
        if size == 0:
            return bytes(out)
        start = end + 2
        if len(data) < start + size:
            raise Unreachable("the chunked answer was cut off")
        out += data[start : start + size]
        pos = start + size + 2


# --- JSON without importing json --------------------------------------------------------------


class _Scan:
    """The context the C scanner reads: the same settings as ``json.loads``."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not allowed")


def loads(data: bytes) -> Any:
    """The JSON value ``data`` holds, or None when it is not exactly one JSON document."""
    try:
        text = data.decode("utf-8").strip()
        import _json

        scan: Any = _json.make_scanner
        value, end = scan(_Scan)(text, 0)
    except (Exception, StopIteration):
        return None
    return value if end == len(text) else None


def deny_line(reason: str, runtime: str = "claude-code") -> str:
    """A deny with ``reason`` in ``runtime``'s format, built without the json module."""
    from ringfence.adapters.contracts import deny_line as line

    return line(runtime, reason)


def valid_answer(body: bytes, payload: bytes, runtime: str = "claude-code") -> str | None:
    """The server's answer as the hook's stdout line, if it is one: a JSON object that is
    a decision in ``runtime``'s format, or ``{}`` for an after-the-fact payload (Claude
    Code's PostToolUse: nothing to decide). None otherwise."""
    from ringfence.adapters.contracts import is_answer

    doc = loads(body)
    if not isinstance(doc, dict):
        return None
    if not doc and b'"PostToolUse"' in payload:
        return "{}"
    if not is_answer(runtime, doc):
        return None
    return body.decode("utf-8").strip()


# --- the hook --------------------------------------------------------------------------------


def settings_from_env(env: Mapping[str, str]) -> tuple[Server, str, float]:
    """Server, token and total timeout from the environment. Raises ValueError saying
    what is wrong."""
    server = Server(env.get("RINGFENCE_SERVER", ""))
    token = env.get("RINGFENCE_TOKEN", "").strip()
    if not token:
        raise ValueError(
            f"RINGFENCE_SERVER is set ({server.url}) but RINGFENCE_TOKEN is not; an operator issues one on the "
            "server with `ringfence token issue --agent <id>`"
        )
    if any(c in token for c in "\r\n "):
        raise ValueError("RINGFENCE_TOKEN contains whitespace; set it to the token alone (rf1.…)")
    raw = env.get("RINGFENCE_SERVER_TIMEOUT", "").strip()
    timeout = TOTAL_TIMEOUT
    if raw:
        try:
            timeout = float(raw[:-1] if raw.endswith("s") else raw)
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= 600:
            raise ValueError(f"RINGFENCE_SERVER_TIMEOUT must be a number of seconds between 0 and 600, not {raw!r}")
    return server, token, timeout


def ask(runtime: str, raw: bytes, isolated: Callable[[Callable[[], str], str], str]) -> tuple[str, Refresh | None]:
    """The hook's stdout line in remote mode, and the cache refresh to run after printing
    it (None: nothing to do). ``isolated`` runs the local fallback in a child process."""
    from ringfence.daemon import offline

    try:
        server, token, timeout = settings_from_env(os.environ)
    except ValueError as exc:
        return deny_line(f"ringfence is misconfigured: {exc}. Denied because ringfence fails closed.", runtime), None
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        reply = exchange(server, "POST", HOOK_PATH + runtime, raw, headers, timeout=timeout)
    except Unreachable as exc:
        return _fallback(runtime, raw, server, token, str(exc), isolated), None
    if reply.status in (401, 403):
        offline.remember_rejection(server, token, reply.status, reply.error_message())
        return deny_line(rejected_reason(server, reply.status, reply.error_message()), runtime), None
    if reply.status >= 500:
        why = f"it answered {reply.status} {reply.reason}".rstrip()
        return _fallback(runtime, raw, server, token, why, isolated), None
    if reply.status != 200:
        return (
            deny_line(
                f"ringfence: the server at {server.url} refused this call ({reply.status}: {reply.error_message()}). "
                "Denied because ringfence fails closed.",
                runtime,
            ),
            None,
        )
    line = valid_answer(reply.body, raw, runtime)
    if line is None:
        why = f"its answer is not a hook decision: {reply.body[:120].decode('utf-8', 'replace')!r}"
        return _fallback(runtime, raw, server, token, why, isolated), None
    offline.forget_rejection()
    digest = reply.headers.get(offline.DIGEST_HEADER) or None
    refresh = offline.Refresh(server, token, digest, timeout)
    return line, (refresh if offline.needs_refresh(server, digest) else None)


def rejected_reason(server: Server, status: int, message: str) -> str:
    return (
        f"ringfence: the server at {server.url} rejected this agent's token ({status}: {message}). The token is "
        "invalid, expired or revoked, or lacks the decide scope, so every action is denied, also while the server "
        "is unreachable. To go on, ask an operator for a new token (`ringfence token issue --agent <id>` on the "
        "server) and set RINGFENCE_TOKEN to it."
    )


def _fallback(
    runtime: str, raw: bytes, server: Server, token: str, why: str, isolated: Callable[[Callable[[], str], str], str]
) -> str:
    def decide() -> str:
        from ringfence.daemon.offline import offline_answer

        return offline_answer(runtime, raw, os.environ, server, token, why)

    return isolated(decide, runtime)
