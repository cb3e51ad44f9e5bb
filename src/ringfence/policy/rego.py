"""Rego policies evaluated in-process with ``regopy`` (Microsoft's rego-cpp binding).

Modules are read, checked and compiled once into a bundle by :meth:`RegoModules.load`;
each decision is then one bundle query (``evaluate_rego``). ``regopy`` is imported only
when ``.rego`` files are configured, so the hook pays nothing otherwise.

Input document (``input`` in Rego), built by :func:`input_document`::

    {
      "action":    Action.to_dict()      # kind, cwd, payload, tool?, repo?, environment?
      "principal": Principal.to_dict()   # type, id, runtime?, model?, session?, owner?, attributes?
      "effects":   [Effect.to_dict() ...] # kind, attrs, evidence, via?
      "context":   {"cwd", "workspace", "environment", "repo", "branch"?}
      ...extra top-level keys the caller passes (CI change requests: change_type, approval, ...)
    }

Output contract: for every queried package (every package of the loaded modules, or
the configured entrypoints) the rules ``deny`` and ``violation`` deny and
``require_approval`` asks for approval. A rule may be a set, an array or an object (and
a boolean ``true`` counts as one unnamed match). Each element is a message string or an
object with ``msg``/``message`` and optional ``id`` (and ``alternative``). Object-valued
rules contribute one element per key whose value is not ``false``/``null``: a ``true``
value makes the key the message, a string value the message with the key as id, an
object value an element whose id defaults to the key. Each element becomes a
:class:`~ringfence.model.RuleMatch` with ``rule_id`` ``rego:<package>.<rule>:<id-or-msg>``,
tier ``critical`` (deny/violation) or ``high`` (require_approval), the message as reason
and no effect. Undefined rules yield nothing. An engine error at evaluation (conflicting
outputs, unknown function, builtin error, bad input) yields one deny match ``rego:error``:
the gate fails closed.

Syntax: rego-cpp accepts both the v0 syntax (``violation["x"] { ... }``) and the v1
syntax (``deny contains msg if { ... }``, with or without ``import rego.v1``). v0 partial
set rules come back from rego-cpp as objects ``{"x": true}``, which the object rule above
maps to the same messages OPA's sets would give.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ringfence.errors import PolicyError
from ringfence.model import Action, Effect, Outcome, Principal, RiskTier, RuleMatch

if TYPE_CHECKING:
    from ringfence.analyze.context import Context

__all__ = [
    "RULES",
    "RegoModules",
    "evaluate_rego",
    "input_document",
]

#: The rules read from each package, with the outcome and tier they produce.
RULES: tuple[tuple[str, Outcome, RiskTier], ...] = (
    ("deny", Outcome.DENY, RiskTier.CRITICAL),
    ("violation", Outcome.DENY, RiskTier.CRITICAL),
    ("require_approval", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH),
)

_RESERVED_KEYS = frozenset({"action", "principal", "effects", "context"})
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_PKG_REF = re.compile(rf"{_IDENT}(?:\.{_IDENT}|\[\"[^\"\\]+\"\])*")
_PACKAGE_LINE = re.compile(rf"^\s*package\s+({_PKG_REF.pattern})\s*(?:#.*)?$")
_ERROR_LOC = re.compile(rb"\(error (\d+):")
_ERRORMSG = re.compile(rb"\(errormsg (\d+):")
_MAX_MESSAGE = 500


@dataclass(frozen=True, eq=False)
class RegoModules:
    """Rego modules compiled once into a bundle, ready to evaluate decisions.

    ``packages`` are the package refs queried (``a.b``); ``digest`` hashes the sources.
    Evaluation is serialised by a lock: the interpreter holds the input as state.
    """

    paths: tuple[Path, ...]
    packages: tuple[str, ...]
    digest: str
    _interp: Any = field(repr=False)
    _bundle: Any = field(repr=False)
    _shared: Any = field(repr=False)
    _input_type: Any = field(repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(
        cls,
        paths: Sequence[Path],
        *,
        entrypoints: Sequence[str] | None = None,
        strict_builtins: bool = True,
    ) -> RegoModules:
        """Read, compile and bundle the modules at ``paths``.

        ``entrypoints`` restricts the packages queried (``policies``, ``data.policies`` or
        ``policies/sub``); by default every package of the loaded modules is queried.
        With ``strict_builtins`` (the default) a builtin error (``1/0``, ``to_number("x")``)
        is an evaluation error and denies, rather than leaving the rule undefined.
        Raises :class:`PolicyError` naming the file, line and column and the engine's
        message for a module that does not compile.
        """
        if not paths:
            raise PolicyError("no Rego modules given")
        regopy = _import_regopy()
        shared = importlib.import_module("regopy.rego_shared")
        interp = regopy.Interpreter()
        interp.log_level = regopy.LogLevel.NONE  # the engine otherwise prints errors to stdout
        interp.strict_built_in_errors = strict_builtins
        sources: dict[str, bytes] = {}
        found: list[str] = []
        h = hashlib.sha256()
        for path in paths:
            name = str(path)
            try:
                raw = Path(path).read_bytes()
                text = raw.decode("utf-8")
            except OSError as exc:
                raise PolicyError(f"{name}: cannot read Rego module: {exc.strerror or exc}") from None
            except UnicodeDecodeError as exc:
                raise PolicyError(f"{name}: Rego module is not UTF-8 (byte {exc.start})") from None
            sources[name] = raw
            h.update(hashlib.sha256(name.encode() + b"\0" + raw).digest())
            try:
                interp.add_module(name, text)
            except regopy.RegoError as exc:
                raise PolicyError(_describe_error(str(exc), sources, default=name)) from None
            pkg = _package_of(text)
            if pkg is None:
                raise PolicyError(f"{name}: no `package` declaration the gate can query")
            if pkg not in found:
                found.append(pkg)
        packages = tuple(_normalise_entrypoint(e) for e in entrypoints) if entrypoints else tuple(found)
        query = "; ".join(
            f"r{i} := [v | v := data.{pkg}.{rule}]"
            for i, (pkg, rule) in enumerate((p, r) for p in packages for r, _, _ in RULES)
        )
        try:
            bundle = interp.build(query, [])
        except regopy.RegoError as exc:
            raise PolicyError(_describe_error(str(exc), sources, default="Rego policy")) from None
        if not bundle.ok():
            raise PolicyError(f"Rego policy: the modules do not compile ({', '.join(sources)})")
        digest = "sha256:" + h.hexdigest()
        return cls(tuple(Path(p) for p in paths), packages, digest, interp, bundle, shared, regopy.Input)

    def query(self, input_doc: Mapping[str, Any]) -> dict[str, Any]:
        """Evaluate and return ``{"<package>.<rule>": value}`` for the defined rules.

        Raises ``RuntimeError`` with the engine's message when evaluation fails.
        """
        # A JSON round trip gives OPA's input semantics (tuples become arrays, keys strings,
        # NaN refused); the engine's own JSON parser is slower than building the input.
        value = json.loads(json.dumps(input_doc, allow_nan=False))
        rs = self._shared
        with self._lock:
            self._interp.set_input(self._input_type(value))
            out = rs.rego_bundle_query(self._interp._impl, self._bundle._impl)
            try:
                ok = bool(rs.rego_output_ok(out))
                text: str = rs.rego_output_string(out)
                if not ok:
                    text = _error_node_text(rs, rs.rego_output_node(out)) or text
            finally:
                rs.rego_free_output(out)
        if not ok or text.startswith("("):
            raise RuntimeError(_describe_error(text, {}, default="evaluation"))
        if text == "undefined":
            raise RuntimeError("the gate's query was undefined")
        doc = json.loads(text)
        bindings = doc.get("bindings", {}) if isinstance(doc, dict) else {}
        result: dict[str, Any] = {}
        names = [f"{p}.{r}" for p in self.packages for r, _, _ in RULES]
        for i, name in enumerate(names):
            values = bindings.get(f"r{i}")
            if not isinstance(values, list):
                raise RuntimeError(f"missing result for {name}")
            if values:
                result[name] = values[0]
        return result


def evaluate_rego(modules: RegoModules, input_doc: Mapping[str, Any]) -> list[RuleMatch]:
    """The matches of the Rego policy for one input document (see the module docstring)."""
    try:
        values = modules.query(input_doc)
    except Exception as exc:  # any engine or encoding failure denies
        return [_error_match(str(exc) or type(exc).__name__)]
    matches: list[RuleMatch] = []
    seen: set[str] = set()
    outcomes = {rule: (outcome, tier) for rule, outcome, tier in RULES}
    for name, value in values.items():
        outcome, tier = outcomes[name.rsplit(".", 1)[1]]
        for ident, message, alternative in _elements(name, value):
            rule_id = f"rego:{name}:{ident}" if ident else f"rego:{name}"
            if rule_id in seen:
                continue
            seen.add(rule_id)
            matches.append(RuleMatch(rule_id, outcome, tier, message, alternative, None))
    return matches


def input_document(
    action: Action,
    principal: Principal,
    effects: Sequence[Effect],
    ctx: Context | None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``input`` document for Rego: action, principal, effects, context and ``extra``.

    ``extra`` adds top-level keys (e.g. ``change_type``, ``approval`` for CI change
    requests); it may not replace ``action``, ``principal``, ``effects`` or ``context``.
    """
    context: dict[str, Any] = {
        "cwd": ctx.cwd if ctx is not None else action.cwd,
        "workspace": ctx.workspace if ctx is not None else None,
        "environment": (ctx.environment if ctx is not None else None) or action.environment,
        "repo": action.repo if action.repo is not None else getattr(ctx, "repo", None),
    }
    branch = getattr(ctx, "branch", None)
    if branch:
        context["branch"] = branch
    doc: dict[str, Any] = {
        "action": action.to_dict(),
        "principal": principal.to_dict(),
        "effects": [e.to_dict() for e in effects],
        "context": context,
    }
    if extra:
        clash = _RESERVED_KEYS.intersection(extra)
        if clash:
            raise ValueError(f"extra input keys may not replace {', '.join(sorted(clash))}")
        doc.update(extra)
    return doc


# -- internals ---------------------------------------------------------------------------


def _import_regopy() -> Any:
    try:
        return importlib.import_module("regopy")
    except ImportError:
        raise PolicyError("Rego policies need the regopy package: pip install 'regopy>=1.5,<2'") from None


def _package_of(text: str) -> str | None:
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = _PACKAGE_LINE.match(line)
        return m.group(1) if m else None
    return None


def _normalise_entrypoint(entry: str) -> str:
    ref = entry.strip().removeprefix("data.").replace("/", ".").strip(".")
    if not _PKG_REF.fullmatch(ref):
        raise PolicyError(f"Rego entrypoint {entry!r} is not a package path (e.g. `policies` or `org/ci`)")
    return ref


def _elements(name: str, value: Any) -> list[tuple[str, str, str | None]]:
    """(id, message, alternative) for each element of a rule's value."""
    out: list[tuple[str, str, str | None]] = []
    if value is True:
        out.append(("", f"denied by Rego rule {name}", None))
    elif isinstance(value, str):
        out.append(_element(value))
    elif isinstance(value, list):
        out.extend(_element(v) for v in value)
    elif isinstance(value, dict):
        for key, v in value.items():
            if v is False or v is None:
                continue
            if v is True:
                out.append(_element(_maybe_json_object(key)))
            elif isinstance(v, str):
                out.append((key, _clip(v), None))
            elif isinstance(v, dict):
                ident, message, alternative = _element(v)
                out.append((ident if "id" in v else key, message, alternative))
            else:
                out.append(_element(key))
    return out


def _element(item: Any) -> tuple[str, str, str | None]:
    if isinstance(item, str):
        return item, _clip(item), None
    if isinstance(item, dict):
        msg = item.get("msg", item.get("message"))
        message = msg if isinstance(msg, str) else json.dumps(item, sort_keys=True)
        ident = item.get("id")
        alt = item.get("alternative")
        return (
            str(ident) if ident is not None else message,
            _clip(message),
            alt if isinstance(alt, str) else None,
        )
    text = json.dumps(item, sort_keys=True)
    return text, _clip(text), None


def _maybe_json_object(key: str) -> Any:
    """rego-cpp renders a v0 partial set of objects as an object keyed by their JSON."""
    if key.startswith("{"):
        try:
            return json.loads(key)
        except ValueError:
            return key
    return key


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _error_match(message: str) -> RuleMatch:
    return RuleMatch(
        "rego:error",
        Outcome.DENY,
        RiskTier.CRITICAL,
        f"Rego policy evaluation failed: {_clip(message)}",
        "Fix the Rego policy or its input; the gate denies until it evaluates.",
        None,
    )


def _error_node_text(rs: Any, node: Any) -> str:
    """The text of an ``ErrorSeq`` output node (its children print as s-expressions)."""
    parts: list[str] = []
    try:
        for i in range(int(rs.rego_node_size(node))):
            parts.append(str(rs.rego_node_json(rs.rego_node_get(node, i))))
    except Exception:
        return ""
    return "\n".join(parts)


def _describe_error(text: str, sources: Mapping[str, bytes], *, default: str) -> str:
    """``file:line:col: message`` for each error in an engine error s-expression."""
    raw = text.encode("utf-8", "surrogatepass")
    messages = [_take(raw, m.end(), int(m.group(1))) for m in _ERRORMSG.finditer(raw)]
    locations: list[str] = []
    for m in _ERROR_LOC.finditer(raw):
        name = _take(raw, m.end(), int(m.group(1)))
        rest = raw[m.end() + int(m.group(1)) :]
        pos = re.match(rb"\|(\d+)\|", rest)
        if name in sources and pos:
            line, col = _line_col(sources[name], int(pos.group(1)))
            locations.append(f"{name}:{line}:{col}")
        else:
            locations.append(name or default)
    if not messages:
        first = text.strip().splitlines()[0] if text.strip() else "unknown error"
        return f"{default}: {_clip(first)}"
    described = []
    for i, msg in enumerate(messages):
        where = locations[i] if i < len(locations) else default
        described.append(f"{where}: {msg}")
    return "; ".join(dict.fromkeys(described))


def _take(raw: bytes, start: int, length: int) -> str:
    return raw[start : start + length].decode("utf-8", "replace")


def _line_col(source: bytes, offset: int) -> tuple[int, int]:
    head = source[:offset]
    line = head.count(b"\n") + 1
    col = len(head) - (head.rfind(b"\n") + 1) + 1
    return line, col
