"""A CI file parsed as YAML, keeping its node tree so that findings can point at lines."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

MAX_NODES = 200_000

Key = str | int
Where = tuple[Key, ...]


@dataclass(frozen=True)
class Ref:
    """A GitLab ``!reference [job, key]`` tag, resolved when scripts and rules are read."""

    path: tuple[object, ...]


def _construct_tag(loader: Any, suffix: str, node: yaml.Node) -> object:
    """Any local tag (GitLab's ``!reference``, a vendor's ``!Ref``) is read as its plain value."""
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        items = loader.construct_sequence(node, deep=True)
        return Ref(tuple(items)) if suffix == "reference" else items
    return loader.construct_mapping(node, deep=True)


_LOADER: Any = type("_CiLoader", (getattr(yaml, "CSafeLoader", yaml.SafeLoader),), {})
_LOADER.add_multi_constructor("!", _construct_tag)
PARSE_ERRORS = (yaml.YAMLError, ValueError, TypeError, RecursionError)


@dataclass(frozen=True)
class Doc:
    """A parsed CI file: its data, its node tree (for line numbers) and its lines."""

    data: Any
    root: yaml.Node | None
    lines: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Doc:
        loader = _LOADER(text)
        try:
            nodes: list[yaml.Node] = []
            while loader.check_node():
                nodes.append(loader.get_node())
            docs = [loader.construct_document(n) for n in nodes]
        finally:
            loader.dispose()
        if len(docs) == 2 and isinstance(docs[0], Mapping) and "spec" in docs[0]:  # a GitLab `spec:` header
            docs, nodes = docs[1:], nodes[1:]
        if len(nodes) <= 1:
            return cls(docs[0] if docs else None, nodes[0] if nodes else None, tuple(text.splitlines()))
        seq = yaml.SequenceNode("tag:yaml.org,2002:seq", nodes, nodes[0].start_mark, nodes[-1].end_mark)
        return cls(docs, seq, tuple(text.splitlines()))

    def _walk(self, where: Where) -> tuple[yaml.Node | None, yaml.Node | None, bool]:
        mark: yaml.Node | None = None
        node = self.root
        for key in where:
            child = _child(node, key)
            if child is None:
                return mark, node, False
            mark, node = child
        return mark, node, True

    def line(self, where: Where) -> int | None:
        mark = self._walk(where)[0]
        return mark.start_mark.line + 1 if mark is not None else None

    def find(self, where: Where, pattern: re.Pattern[str]) -> int | None:
        _, node, complete = self._walk(where)
        if node is None or not complete:
            return None
        end = node.end_mark.line + (1 if node.end_mark.column else 0)
        for number in range(node.start_mark.line, min(max(end, node.start_mark.line + 1), len(self.lines))):
            if pattern.search(self.lines[number]):
                return number + 1
        return None


def _child(node: yaml.Node | None, key: Key) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == str(key):
                return k, v
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        item: yaml.Node = node.value[key]
        return item, item
    return None


def expanded_size(data: Any, cap: int) -> int:
    """How many values ``data`` holds with aliases expanded, counting at most to ``cap``."""
    count, stack = 0, [data]
    while stack and count < cap:
        value = stack.pop()
        count += 1
        if isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, Ref):
            stack.extend(value.path)
    return count
