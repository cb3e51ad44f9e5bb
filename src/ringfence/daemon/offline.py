"""Remote mode's memory: the server's policy bundle, and deciding with it while the server is down.

The cache lives in ``$XDG_STATE_HOME/ringfence/remote-policy/`` (directory 0700, files
0600, every write atomic):

- ``bundle.json``: the last bundle fetched (``GET /api/v1/policy/bundle``), with the
  server's URL, the policy digest it was fetched for and when;
- ``digest``: that URL and digest alone, which the hook compares with each answer's
  ``X-Ringfence-Policy-Digest`` without parsing JSON;
- ``checked``: its modification time is the last fetch attempt (at most one per
  :data:`REFRESH_EVERY` seconds); ``lock`` serialises concurrent fetches;
- ``rejected``: a fingerprint of the last token the server refused (401/403), so that a
  rejected agent is denied offline too.

:class:`OfflineGate` decides while the server is unreachable: built-in packs plus the
bundle, no control state; require_approval becomes deny, and every answer names the
outage. The top level imports only builtins: the hook calls :func:`needs_refresh` after
every answer.
"""

from __future__ import annotations

import os
import time

from ringfence.daemon.remote import Server, Unreachable, exchange, settings_from_env

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~8 ms per call
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from ringfence.gate import Gate
    from ringfence.model import Action, Decision, Principal

REFRESH_EVERY = 300.0
MAX_BUNDLE = 32 * 1024 * 1024
BUNDLE_PATH = "/api/v1/policy/bundle"
DIGEST_HEADER = "x-ringfence-policy-digest"


class Refresh:
    """After a good answer: fetch the policy bundle if the server's digest is new."""

    __slots__ = ("digest", "server", "timeout", "token")

    def __init__(self, server: Server, token: str, digest: str | None, timeout: float) -> None:
        self.server = server
        self.token = token
        self.digest = digest
        self.timeout = timeout


# --- the policy cache ------------------------------------------------------------------------


def cache_dir() -> str:
    """``$XDG_STATE_HOME/ringfence/remote-policy`` (without importing the configuration)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "ringfence", "remote-policy")


def _read(path: str, limit: int = 4096) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, limit)
    except OSError:
        return None
    finally:
        os.close(fd)


def _digest_stamp(server: Server, digest: str | None) -> bytes:
    return f"{server.url}\n{digest or ''}\n".encode("utf-8", "replace")


def needs_refresh(server: Server, digest: str | None) -> bool:
    """Whether to fetch the bundle now: the server's digest is not the cached one (or it
    sent none) and no fetch was tried in the last :data:`REFRESH_EVERY` seconds."""
    folder = cache_dir()
    if digest is not None and _read(os.path.join(folder, "digest")) == _digest_stamp(server, digest):
        return False
    try:
        tried = os.stat(os.path.join(folder, "checked")).st_mtime
    except OSError:
        return True
    return not 0 <= time.time() - tried < REFRESH_EVERY


def refresh_in_background(refresh: Refresh) -> None:
    """Fetch and store the bundle in a detached child, so the runtime is not kept waiting.
    Concurrent hooks take a lock and re-check, so the fetch runs at most once per interval."""
    pid = os.fork()
    if pid != 0:
        return
    try:  # the child: off the runtime's pipes and process group, then fetch
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        refresh_now(refresh, lock=True)
    finally:
        os._exit(0)


def refresh_now(refresh: Refresh, *, lock: bool = False) -> str:
    """Fetch and store the bundle now; returns what happened. Raises :class:`Unreachable`
    or ValueError (a malformed or invalid bundle) and leaves the cache as it was."""
    folder = cache_dir()
    os.makedirs(folder, mode=0o700, exist_ok=True)
    if not lock:
        return _fetch_and_store(refresh, folder)
    import fcntl

    fd = os.open(os.path.join(folder, "lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return "another hook is fetching the bundle"
        if not needs_refresh(refresh.server, refresh.digest):
            return "the bundle is current"
        return _fetch_and_store(refresh, folder)
    finally:
        os.close(fd)


def _fetch_and_store(refresh: Refresh, folder: str) -> str:
    checked = os.path.join(folder, "checked")
    _atomic_write(checked, str(time.time()).encode())
    reply = exchange(
        refresh.server,
        "GET",
        BUNDLE_PATH,
        b"",
        {"Authorization": f"Bearer {refresh.token}"},
        timeout=refresh.timeout,
        limit=MAX_BUNDLE,
    )
    if reply.status >= 500:
        raise Unreachable(f"GET {BUNDLE_PATH} answered {reply.status}: {reply.error_message()}")
    if reply.status != 200:
        raise ValueError(
            f"the server refused its policy bundle (GET {BUNDLE_PATH}: {reply.status}, {reply.error_message()})"
        )
    import json

    try:
        doc = json.loads(reply.body)
    except ValueError:
        raise ValueError(f"GET {BUNDLE_PATH} did not answer JSON") from None
    bundle = check_bundle(doc)
    offline_policy(bundle)  # a bundle that does not compile is not stored: the last good one stays
    digest = refresh.digest or reply.headers.get(DIGEST_HEADER) or str(bundle["digest"])
    record = {"server": refresh.server.url, "digest": digest, "fetched_at": time.time(), "bundle": bundle}
    _atomic_write(os.path.join(folder, "bundle.json"), json.dumps(record, ensure_ascii=False).encode())
    _atomic_write(os.path.join(folder, "digest"), _digest_stamp(refresh.server, digest))
    return f"policy {_short(digest)}: {len(bundle['packs'])} pack(s), {len(bundle['rego'])} Rego module(s)"


def check_bundle(doc: Any) -> dict[str, Any]:
    """The bundle with every field checked; ValueError naming the first bad one."""
    if not isinstance(doc, dict) or not isinstance(doc.get("digest"), str):
        raise ValueError("the policy bundle must be an object with a digest string")
    out: dict[str, Any] = {"digest": doc["digest"], "packs": [], "rego": []}
    for key, text_key in (("packs", "yaml"), ("rego", "text")):
        items = doc.get(key, [])
        if not isinstance(items, list):
            raise ValueError(f"the policy bundle's {key} must be a list")
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("name", text_key)):
                raise ValueError(f"the policy bundle's {key}[{i}] must have name and {text_key} strings")
            out[key].append({"name": item["name"], text_key: item[text_key]})
    return out


def _atomic_write(path: str, data: bytes) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def cached_bundle(server: Server) -> dict[str, Any] | None:
    """The cached record (server, digest, fetched_at, bundle) for ``server``, or None."""
    import json

    path = os.path.join(cache_dir(), "bundle.json")
    try:
        with open(path, "rb") as fh:
            record = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"the cached policy {path} cannot be read ({exc}); delete it") from None
    if not isinstance(record, dict) or record.get("server") != server.url:
        return None
    record["bundle"] = check_bundle(record.get("bundle"))
    return record


def _token_mark(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


def remember_rejection(server: Server, token: str, status: int, message: str) -> None:
    try:
        folder = cache_dir()
        os.makedirs(folder, mode=0o700, exist_ok=True)
        note = f"{_token_mark(token)}\n{server.url}\n{status}: {message}\n"
        _atomic_write(os.path.join(folder, "rejected"), note.encode("utf-8", "replace"))
    except OSError:
        pass  # the deny stands; only the offline memory of it is lost


def forget_rejection() -> None:
    path = os.path.join(cache_dir(), "rejected")
    if os.path.exists(path):
        try:  # noqa: SIM105 (contextlib costs ~4 ms to import on every call)
            os.unlink(path)
        except OSError:
            pass  # it is only consulted for this very token, which the server just accepted


def rejection(token: str) -> str | None:
    """What the server said when it last rejected ``token``, or None."""
    data = _read(os.path.join(cache_dir(), "rejected"))
    if data is None:
        return None
    lines = data.decode("utf-8", "replace").split("\n")
    if len(lines) < 3 or lines[0] != _token_mark(token):
        return None
    return lines[2]


def token_claims(token: str) -> dict[str, Any]:
    """The (unverified) claims of an ``rf1.<claims>.<signature>`` token; {} if unreadable.
    Used offline only to name the agent and to refuse an expired token."""
    import base64
    import json

    parts = token.split(".")
    if len(parts) != 3 or parts[0] != "rf1":
        return {}
    try:
        doc = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


# --- deciding offline ------------------------------------------------------------------------


def offline_policy(bundle: Mapping[str, Any]) -> tuple[Any, Any]:
    """The built-in packs plus the bundle's packs (as the organisation layer, so their
    exceptions, tiers and groups apply as on the server), and its Rego modules (or None)."""
    import tempfile
    from importlib import resources
    from pathlib import Path

    from ringfence.gate import builtin_policy
    from ringfence.policy.layers import Layer, build
    from ringfence.policy.load import BUILTIN_PACKS

    packs_dir = resources.files("ringfence.policy") / "packs"
    builtin = {(packs_dir / f"{n}.yaml").read_bytes() for n in BUILTIN_PACKS}
    os.makedirs(cache_dir(), mode=0o700, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bundle-", dir=cache_dir()) as tmp:
        packs: list[Path] = []
        for i, pack in enumerate(bundle["packs"]):
            data = pack["yaml"].encode("utf-8")
            if data in builtin:  # a server that lists the built-in packs too
                continue
            path = Path(tmp) / f"{i:03d}-{_safe(pack['name'], '.yaml')}"
            path.write_bytes(data)
            packs.append(path)
        policy = build([Layer("organisation", tuple(packs))], base=builtin_policy()) if packs else builtin_policy()
        rego = None
        if bundle["rego"]:
            from ringfence.policy.rego import RegoModules

            modules = []
            for i, module in enumerate(bundle["rego"]):
                path = Path(tmp) / f"{i:03d}-{_safe(module['name'], '.rego')}"
                path.write_text(module["text"], encoding="utf-8")
                modules.append(path)
            rego = RegoModules.load(modules)
    return policy, rego


def _safe(name: str, suffix: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in name.rsplit("/", 1)[-1])[:60] or "pack"
    return stem if stem.endswith(suffix) else stem + suffix


def describe_cached(record: Mapping[str, Any]) -> str:
    """One line about a cached bundle record: digest, age, what it holds."""
    bundle = record["bundle"]
    return (
        f"policy {_short(str(record['digest']))} fetched {_ago(float(record['fetched_at']))}: "
        f"{len(bundle['packs'])} pack(s), {len(bundle['rego'])} Rego module(s) on top of the built-in packs"
    )


def _short(digest: str) -> str:
    return digest if len(digest) <= 23 else digest[:23] + "…"


def _ago(ts: float) -> str:
    s = max(0, int(time.time() - ts))
    if s < 120:
        return f"{s} s ago"
    if s < 7200:
        return f"{s // 60} min ago"
    if s < 172800:
        return f"{s // 3600} h ago"
    return f"{s // 86400} days ago"


class OfflineGate:
    """The gate while the server is unreachable: policy only, no control state. Every
    decision names the outage; require_approval becomes deny; a ``refusal`` (no policy
    known, a rejected or expired token) denies everything. Each is recorded."""

    def __init__(self, gate: Gate, server: Server, why: str, note: str, refusal: str | None) -> None:
        from dataclasses import replace

        self.gate = gate
        self.settings = replace(gate.settings, runtime_prompt=False, on_error="deny")
        self.server = server
        self.why = why
        self.note = note
        self.refusal = refusal

    def decide(self, action: Action, principal: Principal) -> Decision:
        from dataclasses import replace

        from ringfence.gate import failure, ledger_entry
        from ringfence.model import Outcome

        d = self.gate.evaluate(action, principal)
        where = f"the ringfence server at {self.server.url} is unreachable ({self.why})"
        if self.refusal is not None:
            d = replace(d, outcome=Outcome.DENY, reason=f"{where}, and {self.refusal}.", control="offline")
        elif d.outcome is Outcome.REQUIRE_APPROVAL:
            reason = (
                f"{d.reason} This needs an approval and {where}; approvals and the kill switch live there, "
                f"so ringfence fails closed ({self.note}). Retry when the server is back."
            )
            d = replace(d, outcome=Outcome.DENY, reason=reason, control="offline")
        else:
            d = replace(d, reason=f"{where}; decided locally with {self.note}: {d.reason}", control="offline")
        if self.gate.ledger is None:
            return d
        try:
            seq = self.gate.ledger.append(ledger_entry(d))
        except Exception as exc:
            return failure(
                action, d.principal, exc, digest=d.action_digest, what="could not record the offline decision"
            )
        return replace(d, record_id=seq)

    def prompt_answered(self, action: Action, principal: Principal) -> str | None:
        return None  # requests live on the server


def offline_gate(cwd: str, server: Server, token: str, why: str, *, record: bool = True) -> OfflineGate:
    """The gate for ``cwd`` while ``server`` is unreachable (see :class:`OfflineGate`).
    Local configuration gives the analysis settings and the ledger, not the policy."""
    from ringfence.config import load_settings
    from ringfence.gate import Gate, builtin_policy

    settings = load_settings(cwd)
    ledger = None
    if record and settings.ledger_location is not None:
        from ringfence.ledger.store import open_ledger

        ledger = open_ledger(settings.ledger_location)
    refusal: str | None = None
    claims = token_claims(token)
    rejected = rejection(token)
    exp = claims.get("exp")
    if rejected is not None:
        refusal = (
            f"the server rejected this agent's token when it last answered ({rejected}); a rejected agent does "
            "not keep working offline. Ask an operator for a new token and set RINGFENCE_TOKEN to it"
        )
    elif isinstance(exp, int | float) and exp <= time.time():
        refusal = (
            f"this agent's token expired {_ago(float(exp))}; an expired agent does not keep working offline. "
            "Ask an operator for a new token and set RINGFENCE_TOKEN to it"
        )
    record_doc = cached_bundle(server) if refusal is None else None
    policy, rego, note = builtin_policy(), None, ""
    if record_doc is not None:
        policy, rego = offline_policy(record_doc["bundle"])
        note = f"its last known policy {_short(record_doc['digest'])}, fetched {_ago(float(record_doc['fetched_at']))}"
    elif refusal is None:
        refusal = (
            "no policy has been fetched from it yet, so ringfence cannot decide locally and fails closed. "
            "Run `ringfence doctor` once the server is reachable"
        )
    gate = Gate(settings, policy, ledger, rego=rego, control=None)
    return OfflineGate(gate, server, why, note, refusal)


def offline_answer(runtime: str, raw: bytes, env: Mapping[str, str], server: Server, token: str, why: str) -> str:
    """The hook's stdout line decided locally (see :class:`OfflineGate`). Never raises."""
    from ringfence.daemon.dispatch import answer

    agent = token_claims(token).get("sub")
    local_env = dict(env)
    if isinstance(agent, str) and agent:
        local_env["RINGFENCE_AGENT_ID"] = agent  # the identity the server would have used

    def gate_for(cwd: str) -> OfflineGate:
        try:
            return offline_gate(cwd, server, token, why)
        except Exception as exc:
            from ringfence.errors import ConfigError

            raise ConfigError(
                f"the ringfence server at {server.url} is unreachable ({why}) and the local fallback could not be "
                f"set up: {exc}"
            ) from exc

    return answer(runtime, raw, local_env, gate_for)


def check_gate(cwd: str) -> tuple[Gate, str]:
    """The gate ``ringfence check`` uses with ``RINGFENCE_SERVER``: the built-in packs plus
    the server's policy bundle, fetched now (or the cached one when that fails), the local
    configuration's analysis settings, no ledger, no control state. Returns it with a
    note saying which policy it is. Raises ConfigError when no server policy is known."""
    from ringfence.config import load_settings
    from ringfence.errors import ConfigError
    from ringfence.gate import Gate

    try:
        server, token, timeout = settings_from_env(os.environ)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    try:
        note = f"the policy of {server.url}, fetched now ({refresh_now(Refresh(server, token, None, timeout))})"
        failed = ""
    except (Unreachable, ValueError, OSError) as exc:
        note, failed = "", str(exc)
    try:
        record = cached_bundle(server)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if record is None:
        raise ConfigError(f"no policy of {server.url} is known here: fetching it failed ({failed})")
    if failed:
        note = (
            f"the policy of {server.url} cached {_ago(float(record['fetched_at']))} ({_short(record['digest'])}); "
            f"fetching it now failed: {failed}"
        )
    policy, rego = offline_policy(record["bundle"])
    return Gate(load_settings(cwd), policy, None, rego=rego), note
