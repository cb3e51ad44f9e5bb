"""The evasion matrix: every gated base command × every spelling must be gated.

``tests/corpus/gated.txt`` lists dangerous commands across all domains;
``tests/corpus/spellings.py`` lists ways to write a command so that it still runs
(wrappers, shells, interpreters, quoting, chaining, indirection). Every cell — a
spelling applied to a command — must come out as deny or require_approval.

Excluded cells (``Spelling.applies`` is false; about 1% of the matrix) are texts a shell
would not run as the same command:

- a wrapper that ``exec()``s a program (``sudo``, ``env``, ``nice``, ``xargs``,
  ``find -exec``, ``docker exec``, ``/usr/bin/NAME``, ...) cannot run a shell builtin
  (``unset``, ``export``);
- ``c='…'; $c`` only round-trips plain words (quotes, ``~``, globs, pipes and
  redirections are not processed again after expansion);
- ``find -exec`` needs to know where the first command ends (not across ``$(…)``/``<(…)``);
- a line continuation or ``${IFS}`` after the name needs an ordinary argument next
  (not a ``<(…)``), and an unquoted heredoc would expand ``$`` in the outer shell.
"""

from __future__ import annotations

import pytest

from ringfence.model import Outcome
from tests.conftest import Sandbox
from tests.corpus import load
from tests.corpus.spellings import BUILTINS, SPELLINGS, Spelling, lead

GATED = load("gated")

CELLS = [(s, cmd) for cmd in GATED for s in SPELLINGS if s.applies(cmd)]
EXCLUDED = [(s, cmd) for cmd in GATED for s in SPELLINGS if not s.applies(cmd)]


def test_matrix_size() -> None:
    assert len(GATED) >= 40
    assert len(SPELLINGS) >= 40
    assert len(CELLS) >= 40 * 40


def test_base_commands_are_gated(sandbox: Sandbox) -> None:
    allowed = [cmd for cmd in GATED if sandbox.evaluate(cmd).outcome is Outcome.ALLOW]
    assert allowed == []


def test_exclusions_are_rare() -> None:
    """Only the documented exclusions, and few of them."""
    for spelling, cmd in EXCLUDED:
        head = lead(cmd)
        builtin = head is not None and head.name in BUILTINS and spelling.needs_program
        unfit = spelling.when is not None and not spelling.when(cmd)
        assert builtin or unfit, (spelling.name, cmd)
    assert len(EXCLUDED) <= (len(CELLS) + len(EXCLUDED)) // 50


@pytest.mark.parametrize(("spelling", "command"), CELLS, ids=[f"{s.name} :: {c}" for s, c in CELLS])
def test_cell_is_gated(sandbox: Sandbox, spelling: Spelling, command: str) -> None:
    spelled = spelling(command)
    decision = sandbox.evaluate(spelled)
    assert decision.outcome is not Outcome.ALLOW, f"allowed: {spelled!r}"
