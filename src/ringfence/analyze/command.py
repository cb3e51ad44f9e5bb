"""A simple command as the shell would execute it, after parsing and unwrapping.

The shell layer (:mod:`ringfence.analyze.shell`) turns source text into a sequence of
:class:`Command` values; the domain classifiers only ever see these. A classifier never
looks at raw text: quotes are removed, wrappers are peeled, and anything the analysis
could not resolve statically is marked in :attr:`Command.dynamic`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Redirect:
    """An output or input redirection: ``op`` is ``>``, ``>>``, ``<``, ``&>``, ``>|``..."""

    op: str
    target: str
    fd: int | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """One executed simple command.

    ``argv[0]`` is the command word after quote removal; :attr:`name` is its basename
    (``/usr/bin/git`` -> ``git``). ``dynamic`` holds the indexes of argv words whose value
    depends on something unknown at analysis time (``$VAR`` with no known value,
    ``$(cmd)``, globs). ``stdin`` is data fed to the command by a heredoc or here-string;
    ``stdin_from`` names the commands piped into it. ``remote`` is set when the command
    runs on another host or container (``ssh host cmd``, ``docker exec``,
    ``kubectl exec``). ``via`` is the chain of wrappers peeled to reach it.
    """

    argv: tuple[str, ...]
    text: str = ""
    via: tuple[str, ...] = ()
    dynamic: frozenset[int] = frozenset()
    stdin: str | None = None
    stdin_from: tuple[str, ...] = ()
    redirects: tuple[Redirect, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str = ""
    remote: str | None = None
    # derived once: classifiers ask for these many times per command
    _name: str = field(default="", init=False, repr=False, compare=False)
    _evidence: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        word = self.argv[0] if self.argv else ""
        object.__setattr__(self, "_name", word.rsplit("/", 1)[-1] if "/" in word else word)

    @property
    def name(self) -> str:
        return self._name

    @property
    def args(self) -> tuple[str, ...]:
        return self.argv[1:]

    @property
    def evidence(self) -> str:
        """The unwrapped command as one readable line (what a human should look at)."""
        if not self._evidence:
            object.__setattr__(self, "_evidence", " ".join(_quote(a) for a in self.argv) or self.text)
        return self._evidence

    def is_dynamic(self, index: int) -> bool:
        return index in self.dynamic


_PLAIN = re.compile(r"[\w@%+=:,./\-~*?\[\]{}]+")


def _quote(word: str) -> str:
    if _PLAIN.fullmatch(word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"
