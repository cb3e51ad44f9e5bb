"""The Merkle tree of RFC 9162 §2.1, over stored complete subtrees.

Hashes are SHA-256 with domain separation: a leaf is ``H(0x00 || entry)`` and an interior
node is ``H(0x01 || left || right)``; the tree of no leaves hashes to ``H("")``.

Storage model. A store keeps, for every *complete* subtree that exists, its hash: the
subtree at ``(level, index)`` covers the ``2**level`` leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 holds the leaf hashes. Such a
subtree never changes once complete, so a store only ever inserts. A store exposes them
through a :data:`Getter` (``get(level, index)``, raising :class:`KeyError` if absent), and
every function here needs O(log n) reads of it:

* :func:`nodes_to_store` — the rows an append inserts (the leaf, plus one per level the
  new leaf completes);
* :func:`root`, :func:`subtree_hash` — a tree head from the "peaks" of the tree;
* :func:`inclusion_proof`, :func:`consistency_proof` — RFC 9162 §2.1.3.1 PATH and
  §2.1.4.1 PROOF, each sibling read as one stored subtree (or, once per proof, a ragged
  right edge assembled from its peaks).

:func:`verify_inclusion` and :func:`verify_consistency` are the iterative algorithms of
§2.1.3.2 and §2.1.4.2; they need no store and return ``False`` (never raise) for any
malformed input. :class:`MemoryTree` is an in-memory store for tests and verification.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Getter",
    "MemoryTree",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "nodes_to_store",
    "root",
    "subtree_hash",
    "verify_consistency",
    "verify_inclusion",
]

Getter = Callable[[int, int], bytes]
"""``get(level, index)``: the hash of the complete subtree of ``2**level`` leaves covering
``[index * 2**level, (index + 1) * 2**level)``; raises :class:`KeyError` if absent."""

HASH_SIZE = 32
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(entry: bytes) -> bytes:
    """``H(0x00 || entry)`` — the hash of a leaf (RFC 9162 §2.1.1)."""
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``H(0x01 || left || right)`` — the hash of an interior node (RFC 9162 §2.1.1)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``): RFC 9162's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_size(size: int, what: str = "size") -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {size!r}")


def nodes_to_store(size_before: int, leaf: bytes, get: Getter) -> list[tuple[int, int, bytes]]:
    """Every ``(level, index, hash)`` that becomes complete when leaf hash ``leaf`` is
    appended at index ``size_before``: the leaf itself at level 0, then one node per level
    for as long as the new subtree is a right child. Reads ``get`` once per such level."""
    _check_size(size_before, "size_before")
    if len(leaf) != HASH_SIZE:
        raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, got {len(leaf)}")
    rows = [(0, size_before, leaf)]
    level, index, h = 0, size_before, leaf
    while index & 1:
        h = node_hash(get(level, index - 1), h)
        level += 1
        index >>= 1
        rows.append((level, index, h))
    return rows


def subtree_hash(start: int, end: int, get: Getter) -> bytes:
    """``MTH(D[start:end])``. O(log n) reads when ``start`` is a multiple of the smallest
    power of two >= ``end - start`` — true of every subtree the RFC recursions visit; any
    other range is still computed correctly, from more reads."""
    _check_size(start, "start")
    _check_size(end, "end")
    if end < start:
        raise ValueError(f"subtree [{start}, {end}) is empty or reversed")
    if end == start:
        return EMPTY_ROOT
    n = end - start
    if n & (n - 1) == 0 and start % n == 0:
        level = n.bit_length() - 1
        return get(level, start >> level)
    k = _split(n)
    return node_hash(subtree_hash(start, start + k, get), subtree_hash(start + k, end, get))


def root(size: int, get: Getter) -> bytes:
    """``MTH`` of the first ``size`` leaves: the right fold of the tree's peaks, one read each."""
    _check_size(size)
    if size == 0:
        return EMPTY_ROOT
    peaks: list[bytes] = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            peaks.append(get(level, start >> level))
            start += 1 << level
    h = peaks[-1]
    for peak in reversed(peaks[:-1]):
        h = node_hash(peak, h)
    return h


def inclusion_proof(index: int, size: int, get: Getter) -> list[bytes]:
    """RFC 9162 §2.1.3.1 ``PATH(index, D[size])``, leaf-side first."""
    _check_size(index, "index")
    _check_size(size)
    if index >= size:
        raise ValueError(f"no leaf {index} in a tree of size {size}")
    proof: list[bytes] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            proof.append(subtree_hash(lo + k, hi, get))
            hi = lo + k
        else:
            proof.append(subtree_hash(lo, lo + k, get))
            lo += k
            m -= k
    proof.reverse()
    return proof


def consistency_proof(old: int, new: int, get: Getter) -> list[bytes]:
    """RFC 9162 §2.1.4.1 ``PROOF(old, D[new])``. Empty when ``old`` is 0 or equals ``new``."""
    _check_size(old, "old size")
    _check_size(new, "new size")
    if old > new:
        raise ValueError(f"old size {old} is larger than new size {new}")
    if old == 0 or old == new:
        return []
    proof: list[bytes] = []
    lo, hi, m, complete = 0, new, old, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append(subtree_hash(lo + k, hi, get))
            hi = lo + k
        else:
            proof.append(subtree_hash(lo, lo + k, get))
            lo += k
            m -= k
            complete = False
    if not complete:
        proof.append(subtree_hash(lo, hi, get))
    proof.reverse()
    return proof


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show leaf hash ``leaf`` at ``index`` in the tree
    of ``size`` leaves whose head is ``root``? Any malformed input is ``False``."""
    if not (_is_count(index) and _is_count(size) and _is_hash(leaf) and _is_hash(root)):
        return False
    if not isinstance(proof, Sequence) or not all(_is_hash(p) for p in proof):
        return False
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show the tree of ``old`` leaves with head
    ``old_root`` is a prefix of the tree of ``new`` leaves with head ``new_root``?

    Outside the RFC algorithm's domain (``0 < old < new``): equal sizes are consistent
    with an empty proof and equal heads; an empty old tree (head ``H("")``) is a prefix of
    any tree, with an empty proof. Any malformed input is ``False``."""
    if not (_is_count(old) and _is_count(new) and _is_hash(old_root) and _is_hash(new_root)):
        return False
    if not isinstance(proof, Sequence) or not all(_is_hash(p) for p in proof):
        return False
    if old > new:
        return False
    if old == new:
        return len(proof) == 0 and old_root == new_root
    if old == 0:
        return len(proof) == 0 and old_root == EMPTY_ROOT
    path = list(proof)
    if not path:
        return False
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


class MemoryTree:
    """An append-only tree held in memory: the complete subtrees, one list per level."""

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = []

    @property
    def size(self) -> int:
        return len(self._levels[0]) if self._levels else 0

    def __len__(self) -> int:
        return self.size

    def get(self, level: int, index: int) -> bytes:
        """The :data:`Getter` of this tree; :class:`KeyError` for an absent subtree."""
        if level < 0 or index < 0 or level >= len(self._levels) or index >= len(self._levels[level]):
            raise KeyError((level, index))
        return self._levels[level][index]

    def append(self, entry: bytes) -> int:
        """Append ``entry`` (its leaf hash); return its index."""
        return self.append_leaf_hash(leaf_hash(entry))

    def append_leaf_hash(self, leaf: bytes) -> int:
        index = self.size
        for level, i, h in nodes_to_store(index, leaf, self.get):
            if level == len(self._levels):
                self._levels.append([])
            if i != len(self._levels[level]):  # pragma: no cover - nodes_to_store invariant
                raise AssertionError(f"subtree ({level}, {i}) stored out of order")
            self._levels[level].append(h)
        return index

    def leaf(self, index: int) -> bytes:
        return self.get(0, index)

    def root(self, size: int | None = None) -> bytes:
        return root(self.size if size is None else self._bounded(size), self.get)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self.size if size is None else self._bounded(size), self.get)

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        return consistency_proof(old, self.size if new is None else self._bounded(new), self.get)

    def _bounded(self, size: int) -> int:
        if size > self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")
        return size
