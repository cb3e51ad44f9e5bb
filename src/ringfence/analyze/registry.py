"""Routing from a command name to the domain classifiers that understand it.

Each domain module exposes ``COMMANDS`` (the command names it understands; ``None``
means it looks at every command) and ``classify(cmd, ctx)`` yielding effects. Modules
are imported on first use, once per process.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Protocol

from ringfence.analyze.command import Command
from ringfence.analyze.context import Context
from ringfence.model import AttrValue, Effect

Classifier = Callable[[Command, Context], Iterable[Effect]]

# Domain modules under ringfence.analyze, in the order their effects are reported.
DOMAINS: tuple[str, ...] = (
    "git",
    "fs",
    "db",
    "cloud",
    "k8s",
    "deploy",
    "credentials",
    "secrets",
    "gate",
)


class _Domain(Protocol):
    COMMANDS: frozenset[str] | None

    def classify(self, cmd: Command, ctx: Context) -> Iterable[Effect]: ...


_by_name: dict[str, list[Classifier]] | None = None
_for_all: list[Classifier] = []


def _load() -> dict[str, list[Classifier]]:
    global _by_name
    if _by_name is None:
        table: dict[str, list[Classifier]] = {}
        every: list[Classifier] = []
        for name in DOMAINS:
            module: _Domain = importlib.import_module(f"ringfence.analyze.{name}")
            if module.COMMANDS is None:
                every.append(module.classify)
            else:
                for command in module.COMMANDS:
                    table.setdefault(command, []).append(module.classify)
        _for_all[:] = every
        _by_name = table
    return _by_name


def classifiers_for(name: str) -> list[Classifier]:
    """The classifiers for a command name, followed by those that see every command."""
    return _load().get(name, []) + _for_all


def effect(kind: str, cmd: Command, **attrs: AttrValue) -> Effect:
    """Build an effect found in ``cmd``, carrying its evidence, wrappers and remote host."""
    if cmd.remote is not None and "remote" not in attrs:
        attrs["remote"] = cmd.remote
    return Effect(kind=kind, attrs=attrs, evidence=cmd.evidence, via=cmd.via)
