"""Redaction: secrets in an action never reach the ledger in clear.

Token-shaped strings (GitHub, Slack, AWS, OpenAI/Anthropic-style keys, JWTs, private key
blocks), the values of ``KEY=value`` assignments and ``--password=…`` options whose
name says secret, passwords in URLs, and ``Authorization`` headers are replaced by
``‹redacted:sha256:<12 hex>›`` — the digest lets two records be matched without
revealing the value. File contents are never stored: only their digest and size.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from typing import Any

# Bounded repetitions keep every pattern linear on long runs of word characters.
_SECRET_NAME = (
    r"[A-Za-z0-9_.-]{0,40}"
    r"(?:TOKEN|SECRET|PASSWORD|PASSWD|PASS|PWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?|AUTH|SESSION|COOKIE|DSN|DATABASE_URL)"
    r"[A-Za-z0-9_.-]{0,40}"
)

_TOKEN_SHAPES = (
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]{0,10000}?-----END [A-Z ]*PRIVATE KEY-----",
    r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,255}\b",
    r"\bgithub_pat_[A-Za-z0-9_]{40,255}\b",
    r"\bglpat-[A-Za-z0-9_-]{20,}\b",
    r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b",
    r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
    r"\bAIza[0-9A-Za-z_-]{35}\b",
    r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}\b",
    r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b",
    r"\bnpm_[A-Za-z0-9]{36}\b",
    r"\bpypi-[A-Za-z0-9_-]{50,}\b",
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
)
# One pass over the text for every token shape (an alternation of the shapes above).
_TOKENS = re.compile("|".join(f"(?:{shape})" for shape in _TOKEN_SHAPES))
_ASSIGN = re.compile(r"(?i)\b(" + _SECRET_NAME + r")(\s*[=:]\s*|\s+)(\"[^\"]*\"|'[^']*'|[^\s\"';&|]+)")
_OPTION = re.compile(
    r"(?i)(--?(?:password|passwd|token|secret|api-key|apikey|auth|key)(?:=|\s+))(\"[^\"]*\"|'[^']*'|\S+)"
)
_URL_PASS = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]{0,30}://[^:/\s@]{1,256}:)([^@\s/]{1,256})(@)")
_AUTH_HEADER = re.compile(r"(?i)(authorization:\s*(?:bearer|basic|token)?\s*)([^\s\"']+)")
_MYSQL_P = re.compile(r"(\s-p)([^\s]{3,})")


def fingerprint(value: str | bytes) -> str:
    data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    return "sha256:" + hashlib.sha256(data).hexdigest()[:12]


def _mask(value: str) -> str:
    return f"‹redacted:{fingerprint(value)}›"


MAX_STORED_TEXT = 16 * 1024


def redact_text(text: str) -> str:
    """``text`` with every secret-looking value replaced by its fingerprint.

    Text longer than :data:`MAX_STORED_TEXT` is cut, with the size and digest of the
    whole kept, so a huge action can neither bloat the ledger nor slow redaction down.
    Redaction is a pure function of the text, so short texts (agents repeat commands,
    and reasons repeat across decisions) are remembered.
    """
    if len(text) <= _CACHED_TEXT:
        return _redact_cached(text)
    return _redact(text)


_CACHED_TEXT = 4096


@functools.lru_cache(maxsize=8192)
def _redact_cached(text: str) -> str:
    return _redact(text)


def _redact(text: str) -> str:
    out = text
    if len(out) > MAX_STORED_TEXT:
        out = out[:MAX_STORED_TEXT] + f"…‹{len(text)} chars, {fingerprint(text)}›"
    out = _TOKENS.sub(lambda m: _mask(m.group(0)), out)
    out = _AUTH_HEADER.sub(lambda m: m.group(1) + _mask(m.group(2)), out)
    out = _URL_PASS.sub(lambda m: m.group(1) + _mask(m.group(2)) + m.group(3), out)
    out = _ASSIGN.sub(lambda m: m.group(1) + m.group(2) + _keep_quotes(m.group(3)), out)
    out = _OPTION.sub(lambda m: m.group(1) + _keep_quotes(m.group(2)), out)
    out = _MYSQL_P.sub(lambda m: m.group(1) + _mask(m.group(2)), out)
    return out


def _keep_quotes(value: str) -> str:
    if value.startswith("‹redacted"):
        return value
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[0] + _mask(value[1:-1]) + value[0]
    return _mask(value)


def redact_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an action payload safe to store: contents digested, strings redacted."""
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if key in ("content", "new_string", "old_string", "new_source", "edits") and value:
            raw = value if isinstance(value, str) else repr(value)
            out[key] = {"digest": fingerprint(raw), "bytes": len(raw.encode("utf-8", "surrogateescape"))}
        else:
            out[key] = _redact_value(value, 0)
    return out


def _redact_value(value: Any, depth: int) -> Any:
    if depth > 32:
        return "‹too deep›"
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            str(k): (
                _mask(str(v))
                if re.fullmatch(_SECRET_NAME, str(k), re.IGNORECASE) and isinstance(v, str)
                else _redact_value(v, depth + 1)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_value(v, depth + 1) for v in value]
    return value


def token_matches(text: str) -> list[re.Match[str]]:
    """Every token-shaped secret in ``text`` (the shapes :func:`redact_text` removes)."""
    return list(_TOKENS.finditer(text))
