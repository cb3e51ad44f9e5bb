"""Full verification of a ledger: recompute everything, say exactly what is wrong.

One pass over the entries in sequence order:

1. every sequence number is present once, in order (a gap means a deleted entry, a
   repeat or a jump means an inserted or reordered one);
2. every entry's canonical bytes hash to its stored leaf (RFC 9162 ``H(0x00 || entry)``);
3. every complete subtree recomputed from the leaves equals the stored node, so a
   rewrite that also fixed the leaf and the nodes above it is caught at the lowest
   level it touched;
4. the root recomputed at each stored checkpoint's size equals the checkpoint's root,
   and the final root equals the stored tree's root;
5. optionally, an external checkpoint (from a witness) is consistent with the log.

Memory is O(log n): only the right frontier of the tree is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ringfence.ledger.merkle import leaf_hash, node_hash


@dataclass(frozen=True, slots=True)
class Problem:
    index: int | None
    message: str

    def __str__(self) -> str:
        return f"entry {self.index}: {self.message}" if self.index is not None else self.message


@dataclass(slots=True)
class Report:
    size: int = 0
    root: bytes = b""
    problems: list[Problem] = field(default_factory=list)
    checkpoints_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


MAX_PROBLEMS = 100


class _Frontier:
    """The compact range of leaves [0, n): one hash per set bit of n."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []  # (level, hash), levels strictly decreasing
        self.size = 0

    def push(self, leaf: bytes) -> Iterator[tuple[int, int, bytes]]:
        """Add a leaf; yield every complete subtree (level, index, hash) it completes."""
        level, h = 0, leaf
        index = self.size
        yield 0, index, h
        while self.stack and self.stack[-1][0] == level:
            _, left = self.stack.pop()
            h = node_hash(left, h)
            level += 1
            index //= 2
            yield level, index, h
        self.stack.append((level, h))
        self.size += 1

    def root(self) -> bytes:
        import hashlib

        if not self.stack:
            return hashlib.sha256(b"").digest()
        h = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            h = node_hash(left, h)
        return h


def verify(
    rows: Iterable[tuple[int, bytes, bytes]],
    get_node: Callable[[int, int], bytes],
    checkpoints: dict[int, bytes],
    *,
    stored_size: int,
    stored_root: bytes | None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Verify ``rows`` of ``(seq, canonical body, stored leaf hash)`` in seq order."""
    report = Report()
    frontier = _Frontier()

    def problem(index: int | None, message: str) -> None:
        if len(report.problems) < MAX_PROBLEMS:
            report.problems.append(Problem(index, message))

    expected = 0
    reported: list[int] = []  # indexes already reported: larger subtrees over them add nothing
    tree_aligned = True  # after a gap the recomputed tree is shifted against the stored one

    def covered(first: int, level: int) -> bool:
        return any(first <= i < first + (1 << level) for i in reported)

    for seq, body, stored_leaf in rows:
        if seq != expected:
            if seq > expected:
                problem(expected, f"missing: the sequence jumps from {expected - 1} to {seq} (deleted entries)")
                tree_aligned = False
            else:
                problem(seq, f"out of order or duplicated: seen after {expected - 1}")
                tree_aligned = False
                continue
        expected = seq + 1
        computed = leaf_hash(body)
        if computed != stored_leaf:
            problem(seq, "modified: its content does not hash to its stored leaf")
            reported.append(seq)
        for level, index, h in frontier.push(computed):
            if not tree_aligned or covered(index << level, level):
                continue
            try:
                stored = get_node(level, index)
            except Exception:  # KeyError from a memory tree, LedgerError from a store
                problem(seq, f"tree node ({level}, {index}) is missing")
                continue
            if stored != h:
                first = index << level
                reported.append(first)
                if level == 0:
                    problem(seq, "modified: its content and leaf were rewritten, but the tree still holds the original")
                else:
                    problem(
                        first,
                        f"the tree over entries {first}..{first + (1 << level) - 1} does not match "
                        "the stored node (entries rewritten together with their leaves)",
                    )
        size = frontier.size
        want = checkpoints.get(size)
        if want is not None:
            report.checkpoints_checked += 1
            if frontier.root() != want:
                problem(
                    None, f"checkpoint at size {size} does not match the log: the log was rewritten before that point"
                )
        if progress is not None and size % 10_000 == 0:
            progress(size)
    report.size = frontier.size
    report.root = frontier.root()
    if report.size != stored_size:
        problem(None, f"the log says it has {stored_size} entries but {report.size} were read")
    for size in sorted(checkpoints):
        if size > report.size:
            problem(
                None, f"checkpoint at size {size} is beyond the end of the log ({report.size}): entries were deleted"
            )
    if stored_root is not None and stored_root != report.root and not report.problems:
        problem(None, "the stored root does not match the root recomputed from the entries")
    if progress is not None:
        progress(report.size)
    return report
