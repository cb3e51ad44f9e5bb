"""Property tests for the shell analysis and the gate (hypothesis).

(a) Any random composition of 1-4 spellings of a gated command is still gated.
(b) Arbitrary text and bytes never crash ``analyze_shell`` (only ``AnalysisLimit`` may be
    raised) and never make ``Gate.evaluate`` raise.
(c) ``echo`` of arbitrary text, properly quoted, is always allowed.
"""

from __future__ import annotations

import contextlib
import shlex

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringfence.analyze import Context, analyze_shell
from ringfence.errors import AnalysisLimit
from ringfence.model import Outcome
from tests.conftest import Sandbox
from tests.corpus import load
from tests.corpus.spellings import SPELLINGS

GATED = load("gated")
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Shell-ish alphabet: weights the generator toward text the grammar finds interesting.
SHELL_CHARS = st.sampled_from(list("abcxyz019 \t\n'\"\\$`(){}[]<>|&;#*?!~=-+/.,:%@^"))
SHELLISH = st.lists(SHELL_CHARS, max_size=120).map("".join)
# Any str, lone surrogates included (a JSON payload may carry "\ud800").
ANY_CHAR = st.one_of(
    st.characters(exclude_categories=()),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
)
ANY_TEXT = st.one_of(st.text(max_size=300), st.text(alphabet=ANY_CHAR, max_size=100), SHELLISH)


@st.composite
def spelled_gated(draw: st.DrawFn) -> tuple[str, list[str]]:
    text = draw(st.sampled_from(GATED))
    names: list[str] = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        options = [s for s in SPELLINGS if s.applies(text)]
        spelling = draw(st.sampled_from(options))
        text = spelling(text)
        names.append(spelling.name)
    return text, names


@PROPERTY
@given(case=spelled_gated())
def test_random_wrapping_is_never_allowed(sandbox: Sandbox, case: tuple[str, list[str]]) -> None:
    text, names = case
    decision = sandbox.evaluate(text)
    assert decision.outcome is not Outcome.ALLOW, f"{names}: {text!r}"


def _analyze_never_crashes(ctx: Context, text: str) -> None:
    with contextlib.suppress(AnalysisLimit):  # the only exception the analysis may raise
        analyze_shell(text, ctx)


@PROPERTY
@given(text=ANY_TEXT)
def test_arbitrary_text_never_crashes(sandbox: Sandbox, text: str) -> None:
    ctx = sandbox.context()
    _analyze_never_crashes(ctx, text)
    decision = sandbox.evaluate(text)
    assert decision.error is None, decision.error


@PROPERTY
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(sandbox: Sandbox, data: bytes) -> None:
    ctx = sandbox.context()
    for text in (data.decode("utf-8", "surrogateescape"), data.decode("utf-8", "replace")):
        _analyze_never_crashes(ctx, text)
        decision = sandbox.evaluate(text)
        assert decision.error is None, decision.error


# A NUL byte cannot be part of a shell command: argv and `bash -c` strings are C strings
# that end at the first NUL, so no text with one can be "properly quoted".
NUL_FREE_TEXT = st.text(alphabet=ANY_CHAR.filter(lambda c: c != "\x00"), max_size=200)


@PROPERTY
@given(text=NUL_FREE_TEXT)
def test_echo_of_any_text_is_allowed(sandbox: Sandbox, text: str) -> None:
    command = f"echo {shlex.quote(text)}"
    decision = sandbox.evaluate(command)
    assert decision.outcome is Outcome.ALLOW, f"{command!r}: {decision.reason}"


def test_sandbox_paths(sandbox: Sandbox) -> None:
    ctx = sandbox.context()
    assert (ctx.home, ctx.workspace) == (str(sandbox.home), str(sandbox.workspace))


def test_lone_surrogates_are_analysed(sandbox: Sandbox) -> None:
    for text in ("echo '\ud800'", "echo '\udcff'", "rm -rf / # \ud800"):
        decision = sandbox.evaluate(text)
        assert decision.error is None, decision.error
    assert sandbox.evaluate("echo '\ud800'").outcome is Outcome.ALLOW
    assert sandbox.evaluate("rm -rf / # \ud800").outcome is Outcome.DENY
