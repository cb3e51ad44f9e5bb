"""Conditions and Argo-style analysis semantics, with a scripted Prometheus and a fake clock."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ringfence.errors import GuardError
from ringfence.guard import analysis, spec
from ringfence.guard.expr import ExprError, compile_condition
from ringfence.guard.prometheus import QueryError, QueryResult, parse_response

# --- conditions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "result", "expected"),
    [
        ("result[0] < 0.02", [0.01], True),
        ("result[0] < 0.02", [0.03], False),
        ("result < 0.02", 0.01, True),  # a scalar
        ("len(result) > 0 && result[0] <= 0.05", [0.05], True),
        ("result[0] >= 0.95 || isNaN(result)", [math.nan], True),
        ("!(result[0] > 1)", [0.5], True),
        ("result[0] != 0", [0.0], False),
        ("all(result, '<', 0.02)", [0.01, 0.019], True),
        ("all(result, '<', 0.02)", [0.01, 0.5], False),
        ("any(result, '>=', 0.5)", [0.01, 0.5], True),
        ("avg(result) < 0.11 and max(result) < 0.2", [0.05, 0.15], True),
        ("result[-1] * 100 < 2", [0.5, 0.01], True),
        ("0.01 < result[0] < 0.03", [0.02], True),
    ],
)
def test_conditions(text: str, result: Any, expected: bool) -> None:
    assert compile_condition(text)(result) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('id')", "unknown function \"__import__('os').system\""),
        ("__import__('os')", "unknown function '__import__'"),
        ("result.__class__", "Attribute is not allowed"),
        ("open('x')", "unknown function 'open'"),
        ("[x for x in result]", "ListComp is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("result[0] <", "does not parse"),
        ("", "must be a non-empty expression"),
        ("x > 1", "unknown name 'x'"),
    ],
)
def test_anything_but_the_language_is_refused(text: str, message: str) -> None:
    with pytest.raises(ExprError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_condition(text)


def test_evaluation_errors_are_expr_errors() -> None:
    with pytest.raises(ExprError, match="cannot evaluate"):
        compile_condition("result[3] < 1")([0.1])
    with pytest.raises(ExprError, match="not a yes/no condition"):
        compile_condition("result[0] + 1")([0.1])
    with pytest.raises(ExprError, match="compare an element"):
        compile_condition("result < 1")([0.1, 0.2])


@given(st.text(max_size=60), st.lists(st.floats(allow_nan=True), max_size=4))
def test_arbitrary_text_never_escapes(text: str, values: list[float]) -> None:
    """Whatever the text, a condition either refuses to compile, or evaluates to a bool, or
    raises ExprError: nothing else, and nothing is executed."""
    try:
        condition = compile_condition(text)
    except ExprError:
        return
    with contextlib.suppress(ExprError):
        assert isinstance(condition(values), bool)


# --- the Prometheus response -------------------------------------------------------------


def test_responses_are_parsed_as_prometheus_sends_them() -> None:
    vector = (
        b'{"status":"success","data":{"resultType":"vector",'
        b'"result":[{"metric":{"job":"web"},"value":[1733500000.1,"0.013"]}]}}'
    )
    assert parse_response(vector) == QueryResult("vector", (0.013,), ({"job": "web"},))
    scalar = b'{"status":"success","data":{"resultType":"scalar","result":[1733500000.1,"NaN"]}}'
    assert parse_response(scalar).has_nan
    empty = b'{"status":"success","data":{"resultType":"vector","result":[]}}'
    assert parse_response(empty).empty
    with pytest.raises(QueryError, match="bad_data: parse error"):
        parse_response(b'{"status":"error","errorType":"bad_data","error":"parse error at char 5"}')
    with pytest.raises(QueryError, match="not a range vector"):
        parse_response(b'{"status":"success","data":{"resultType":"matrix","result":[]}}')


# --- the analysis ------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def scripted(*values: Any) -> Any:
    """A query returning each value in turn: a float, None (no data), NaN, or an exception."""
    items = list(values)

    def query(_: str) -> QueryResult:
        item = items.pop(0) if len(items) > 1 else items[0]
        if isinstance(item, Exception):
            raise item
        if item is None:
            return QueryResult("vector", ())
        return QueryResult("vector", (float(item),))

    return query


def guard_spec(tmp_path: Path, **metric: Any) -> spec.GuardSpec:
    doc = {
        "version": 1,
        "prometheus": {"address": "http://127.0.0.1:1"},
        "metrics": [{"name": "m", "query": "q", "interval": "10s", "count": 5, "successCondition": "result[0] < 0.02",
                     "failureCondition": "result[0] >= 0.02", **metric}],
    }  # fmt: skip
    path = tmp_path / "guard.yaml"
    path.write_text(yaml.safe_dump(doc))
    return spec.load(path)


def run(tmp_path: Path, query: Any, **metric: Any) -> analysis.AnalysisResult:
    clock = Clock()
    return analysis.run_analysis(guard_spec(tmp_path, **metric), query, clock=clock, sleep=clock.sleep, wall=clock)


def test_all_good_is_successful_after_count(tmp_path: Path) -> None:
    result = run(tmp_path, scripted(0.01))
    assert result.phase is analysis.Phase.SUCCESSFUL
    assert len(result.metrics[0].measurements) == 5


def test_failures_beyond_the_limit_fail_at_once(tmp_path: Path) -> None:
    result = run(tmp_path, scripted(0.01, 0.05, 0.01, 0.05, 0.05), failureLimit=1)
    assert result.phase is analysis.Phase.FAILED
    assert len(result.metrics[0].measurements) == 4  # decided at the second failure; no fifth measurement
    assert "2 failed measurement(s), more than failureLimit 1" in result.message


def test_five_minutes_above_two_percent(tmp_path: Path) -> None:
    """The issue's example: roll back when the 5xx ratio is above 2 % for five minutes."""
    result = run(tmp_path, scripted(0.03), interval="1m", count=10, failureLimit=4)
    assert result.phase is analysis.Phase.FAILED and len(result.metrics[0].measurements) == 5


@pytest.mark.parametrize("value", [None, math.nan])
def test_no_data_and_nan_are_inconclusive_never_success(tmp_path: Path, value: Any) -> None:
    result = run(tmp_path, scripted(value))
    assert result.phase is analysis.Phase.INCONCLUSIVE
    assert result.metrics[0].measurements[0].phase is analysis.Phase.INCONCLUSIVE


def test_inconclusive_limit(tmp_path: Path) -> None:
    assert run(tmp_path, scripted(None, 0.01), inconclusiveLimit=1).phase is analysis.Phase.SUCCESSFUL
    assert run(tmp_path, scripted(None, None, 0.01), inconclusiveLimit=1).phase is analysis.Phase.INCONCLUSIVE


def test_neither_condition_holding_is_inconclusive(tmp_path: Path) -> None:
    result = run(tmp_path, scripted(0.5), successCondition="result[0] < 0.02", failureCondition="result[0] > 0.9")
    assert result.phase is analysis.Phase.INCONCLUSIVE
    assert "neither" in result.metrics[0].measurements[0].message


def test_only_a_success_condition_fails_when_it_does_not_hold(tmp_path: Path) -> None:
    doc = guard_spec(tmp_path).metrics[0]
    assert doc.failure is not None
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "prometheus": {"address": "http://x:1"},
                                    "metrics": [{"name": "m", "query": "q", "count": 1,
                                                 "successCondition": "result[0] < 0.02"}]}))  # fmt: skip
    clock = Clock()
    result = analysis.run_analysis(spec.load(path), scripted(0.5), clock=clock, sleep=clock.sleep, wall=clock)
    assert result.phase is analysis.Phase.FAILED


def test_consecutive_errors_beyond_the_limit_are_inconclusive(tmp_path: Path) -> None:
    down = QueryError("cannot reach Prometheus at http://127.0.0.1:1: refused")
    result = run(tmp_path, scripted(down, down, 0.01), consecutiveErrorLimit=2, count=5)
    assert result.phase is analysis.Phase.SUCCESSFUL  # two errors, then data
    result = run(tmp_path, scripted(down), consecutiveErrorLimit=2)
    assert result.phase is analysis.Phase.INCONCLUSIVE
    assert "3 consecutive measurement errors" in result.message


def test_measurements_are_spaced_by_interval_after_the_initial_delay(tmp_path: Path) -> None:
    clock = Clock()
    times: list[float] = []
    result = analysis.run_analysis(
        guard_spec(tmp_path, initialDelay="30s", count=3),
        scripted(0.01),
        clock=clock,
        sleep=clock.sleep,
        wall=clock,
        progress=lambda m: times.append(clock.now),
    )
    assert result.phase is analysis.Phase.SUCCESSFUL and times == [1030.0, 1040.0, 1050.0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"count": 0}, "count must be a whole number ≥ 1"),
        ({"interval": "soon"}, "interval must be a duration"),
        ({"successCondition": "result[0] <"}, "does not parse"),
        ({"frobnicate": 1}, "unknown field 'frobnicate'"),
    ],
)
def test_a_bad_spec_names_the_field(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    with pytest.raises(GuardError, match=message):
        guard_spec(tmp_path, **change)


def test_a_spec_needs_a_condition_and_an_address(tmp_path: Path) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "prometheus": {"address": "http://x:1"},
                                    "metrics": [{"name": "m", "query": "q"}]}))  # fmt: skip
    with pytest.raises(GuardError, match="needs successCondition or failureCondition"):
        spec.load(path)
    path.write_text(yaml.safe_dump({"version": 1, "prometheus": {"address": "prometheus:9090"}, "metrics": []}))
    with pytest.raises(GuardError, match="must start with http"):
        spec.load(path)
