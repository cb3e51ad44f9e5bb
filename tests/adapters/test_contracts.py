"""The hook process's last-resort denies and its check of a server's answer, per runtime."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.adapters.contracts import RUNTIMES, deny_line, is_answer
from ringfence.daemon.remote import valid_answer
from tests.adapters.runtimes import runtime_module


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_last_resort_deny_is_a_deny_the_runtime_reads(runtime: str) -> None:
    line = deny_line(runtime, 'quote " backslash \\ newline \n é')
    decision, reason = runtime_module(runtime).answer(line)
    assert decision == "deny" and reason == 'quote " backslash \\ newline \n é'
    assert is_answer(runtime, json.loads(line))
    assert valid_answer(line.encode(), b"{}", runtime) == line


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_another_runtimes_answer_is_not_taken(runtime: str) -> None:
    """A server answering in the wrong format (a proxy, a misrouted request) is not
    printed: the runtime could read it as allow."""
    for other in RUNTIMES:
        line = deny_line(other, "x")
        if json.loads(line) == json.loads(deny_line(runtime, "x")):
            continue
        assert valid_answer(line.encode(), b"{}", runtime) is None, (runtime, other)


def test_codex_never_gets_allow_or_ask() -> None:
    for decision in ("allow", "ask"):
        doc = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": decision}}
        assert not is_answer("codex", doc)
    assert is_answer("codex", {})


@given(st.text(max_size=200))
def test_any_reason_makes_valid_json(reason: str) -> None:
    for runtime in RUNTIMES:
        assert is_answer(runtime, json.loads(deny_line(runtime, reason)))
