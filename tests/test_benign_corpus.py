"""The benign corpus: everyday developer and agent commands must all be allowed.

``tests/corpus/benign.txt`` holds what coding agents actually run — tests, builds,
linters, installs, git work on feature branches, reads, searches, deleting build output
inside the workspace, local database reads, planning and read-only cloud commands —
including commands that only *mention* dangerous commands as text (``echo``, ``grep``,
commit messages, heredocs written to files). Every one must be allowed.
"""

from __future__ import annotations

import pytest

from ringfence.model import Outcome
from tests.conftest import Sandbox
from tests.corpus import load

BENIGN = load("benign")


def test_corpus_size() -> None:
    assert len(BENIGN) >= 400
    assert len(set(BENIGN)) == len(BENIGN), "duplicate corpus lines"


@pytest.mark.parametrize("command", BENIGN, ids=[c.replace("\n", "⏎")[:100] for c in BENIGN])
def test_benign_is_allowed(sandbox: Sandbox, command: str) -> None:
    decision = sandbox.evaluate(command)
    assert decision.outcome is Outcome.ALLOW, f"{decision.outcome.value}: {decision.reason}"
