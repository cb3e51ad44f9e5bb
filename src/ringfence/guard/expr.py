"""Success and failure conditions: a small, safe expression language over ``result``.

The conditions people write for Argo Rollouts analysis work here unchanged::

    result[0] < 0.02
    len(result) > 0 && result[0] <= 0.05
    result >= 0.95 || isNaN(result)
    all(result, "<", 0.02)            # every series of a vector below 2 %

Grammar (parsed with Python's :mod:`ast` in ``eval`` mode, then walked by a whitelist
evaluator — nothing is ever passed to ``eval``):

* literals: numbers, ``true``/``false``, ``nil``/``null``/``None``, strings;
* ``result`` (the query's value: a float for a scalar or a one-element vector, a list of
  floats for a vector), ``result[i]`` (negative indexes count from the end);
* comparisons ``< <= > >= == !=`` (chains allowed), arithmetic ``+ - * / %``, unary ``-``;
* ``&&`` / ``and``, ``||`` / ``or``, ``!`` / ``not``, parentheses;
* functions: ``len(x)``, ``isNaN(x)``, ``isInf(x)``, ``abs(x)``, ``min(x)``, ``max(x)``,
  ``sum(x)``, ``avg(x)``, ``all(x, "<", 0.02)`` and ``any(x, ">=", 0.5)`` (every / some
  element compared with the value).

A condition must evaluate to a boolean. An error (an index out of range, a vector compared
as a whole) raises :class:`ExprError`, which the analysis counts as an inconclusive
measurement, never as success.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 500
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne}
_ARITH: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
}
_NAMES = {"true": True, "false": False, "nil": None, "null": None, "None": None, "True": True, "False": False}


class ExprError(ValueError):
    """A condition that does not parse, or cannot be evaluated on this result."""


def _values(x: Any) -> list[float]:
    if isinstance(x, list):
        return [float(v) for v in x]
    if isinstance(x, int | float) and not isinstance(x, bool):
        return [float(x)]
    raise ExprError(f"expected a number or a list of numbers, got {type(x).__name__}")


def _avg(x: Any) -> float:
    values = _values(x)
    if not values:
        raise ExprError("avg() of no values")
    return sum(values) / len(values)


def _quantified(kind: Callable[[Any], bool]) -> Callable[[Any, Any, Any], bool]:
    def check(x: Any, op: Any, value: Any) -> bool:
        if op not in _OPS:
            raise ExprError(f"the comparison must be one of {', '.join(_OPS)}, not {op!r}")
        return kind(_OPS[op](v, value) for v in _values(x))

    return check


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": lambda x: len(x) if isinstance(x, list) else 1,
    "isNaN": lambda x: any(math.isnan(v) for v in _values(x)) if (not isinstance(x, list) or x) else False,
    "isInf": lambda x: any(math.isinf(v) for v in _values(x)),
    "abs": lambda x: abs(float(x)),
    "min": lambda x: min(_values(x)),
    "max": lambda x: max(_values(x)),
    "sum": lambda x: sum(_values(x)),
    "avg": _avg,
    "all": _quantified(all),
    "any": _quantified(any),
}


def _translate(text: str) -> str:
    """``&&``, ``||`` and ``!`` (not ``!=``) spelled as Python's words."""
    out = text.replace("&&", " and ").replace("||", " or ")
    return re.sub(r"!(?!=)", " not ", out)


@dataclass(frozen=True)
class Condition:
    text: str
    tree: ast.Expression

    def __call__(self, result: Any) -> bool:
        value = _eval(self.tree.body, result)
        if not isinstance(value, bool):
            raise ExprError(f"{self.text!r} is not a yes/no condition (it gave {value!r})")
        return value


def compile_condition(text: str, where: str = "condition") -> Condition:
    """Parse ``text`` once; raises :class:`ExprError` naming ``where`` and what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ExprError(f"{where} must be a non-empty expression over result, e.g. result[0] < 0.02")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"{where} is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(_translate(text).strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"{where} {text!r} does not parse: {exc.msg}") from None
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if id(node) not in called:  # a called name is checked by its call
            _check(node, where, text)
    return Condition(text, tree)


_ALLOWED = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Compare,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Subscript,
    *_COMPARE,
    *_ARITH,
)


def _check(node: ast.AST, where: str, text: str) -> None:
    if not isinstance(node, _ALLOWED):
        raise ExprError(f"{where} {text!r}: {type(node).__name__} is not allowed in a condition")
    if isinstance(node, ast.Name) and node.id != "result" and node.id not in _NAMES:
        raise ExprError(f"{where} {text!r}: unknown name {node.id!r} (conditions see only result)")
    if isinstance(node, ast.Call) and (
        not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS or node.keywords
    ):
        name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        raise ExprError(f"{where} {text!r}: unknown function {name!r} (only {', '.join(_FUNCTIONS)})")
    if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str | bool | type(None)):
        raise ExprError(f"{where} {text!r}: unsupported literal {node.value!r}")


def _eval(node: ast.AST, result: Any) -> Any:
    try:
        return _walk(node, result)
    except ExprError:
        raise
    except (IndexError, TypeError, ZeroDivisionError, ValueError) as exc:
        raise ExprError(f"cannot evaluate on result {result!r}: {exc}") from None


def _walk(node: ast.AST, result: Any) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return result if node.id == "result" else _NAMES[node.id]
    if isinstance(node, ast.BoolOp):
        values = (_walk(v, result) for v in node.values)
        if isinstance(node.op, ast.And):
            return all(_truth(v) for v in values)
        return any(_truth(v) for v in values)
    if isinstance(node, ast.UnaryOp):
        value = _walk(node.operand, result)
        if isinstance(node.op, ast.Not):
            return not _truth(value)
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BinOp):
        return _ARITH[type(node.op)](_walk(node.left, result), _walk(node.right, result))
    if isinstance(node, ast.Compare):
        left = _walk(node.left, result)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _walk(right_node, result)
            if isinstance(left, list) or isinstance(right, list):
                raise ExprError("compare an element (result[0]) or use all()/any(), not the whole vector")
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Subscript):
        target = _walk(node.value, result)
        index = _walk(node.slice, result)
        if not isinstance(target, list):
            target = [target]
        if isinstance(index, bool) or not isinstance(index, int):
            raise ExprError(f"an index must be a whole number, not {index!r}")
        return target[index]
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        return _FUNCTIONS[node.func.id](*(_walk(a, result) for a in node.args))
    raise ExprError(f"{type(node).__name__} is not allowed")


def _truth(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ExprError(f"&&, || and ! take yes/no values, not {value!r}")
    return value
