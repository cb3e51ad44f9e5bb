"""The RFC 9162 Merkle tree against a reference written from the RFC text and fixed vectors."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

import pytest

from ringfence.ledger import merkle
from ringfence.ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    nodes_to_store,
    root,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)

# ---------------------------------------------------------------------------
# Reference: RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1, transcribed recursively over the
# entries themselves. Shares no code with ringfence.ledger.merkle.


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return _h(b"")
    if n == 1:
        return _h(b"\x00" + d[0])
    k = _k(n)
    return _h(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


# ---------------------------------------------------------------------------
# Fixed vectors: the certificate-transparency test data (8 entries, roots for sizes 0..8).

CT_ENTRIES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, PATH) from the same data set.
CT_INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
# (old size, new size, PROOF) from the same data set.
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def entries(n: int) -> list[bytes]:
    return [f"entry-{i}".encode() for i in range(n)]


def tree_of(d: list[bytes]) -> MemoryTree:
    t = MemoryTree()
    for e in d:
        t.append(e)
    return t


@pytest.fixture(scope="module")
def big() -> tuple[list[bytes], MemoryTree]:
    d = entries(130)
    return d, tree_of(d)


def flip(b: bytes) -> bytes:
    return bytes([b[0] ^ 1]) + b[1:]


# ---------------------------------------------------------------------------
# Hashing and known answers


def test_hash_primitives_domain_separated() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"x") == _h(b"\x00x")
    assert node_hash(b"a" * 32, b"b" * 32) == _h(b"\x01" + b"a" * 32 + b"b" * 32)
    assert leaf_hash(b"") != EMPTY_ROOT


def test_ct_roots_known_answers() -> None:
    t = MemoryTree()
    assert t.root().hex() == CT_ROOTS[0]
    for i, e in enumerate(CT_ENTRIES):
        assert t.append(e) == i
        assert t.root().hex() == CT_ROOTS[i + 1]
        assert ref_mth(CT_ENTRIES[: i + 1]).hex() == CT_ROOTS[i + 1]
    for size in range(9):
        assert t.root(size).hex() == CT_ROOTS[size]


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_ct_inclusion_known_answers(index: int, size: int, path: list[str]) -> None:
    t = tree_of(CT_ENTRIES)
    assert [p.hex() for p in t.inclusion_proof(index, size)] == path
    proof = [bytes.fromhex(p) for p in path]
    assert verify_inclusion(index, size, leaf_hash(CT_ENTRIES[index]), proof, bytes.fromhex(CT_ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "proof_hex"), CT_CONSISTENCY)
def test_ct_consistency_known_answers(old: int, new: int, proof_hex: list[str]) -> None:
    t = tree_of(CT_ENTRIES)
    assert [p.hex() for p in t.consistency_proof(old, new)] == proof_hex
    proof = [bytes.fromhex(p) for p in proof_hex]
    assert verify_consistency(old, new, bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new]), proof)


# ---------------------------------------------------------------------------
# Exhaustive agreement with the reference


def test_roots_and_inclusion_every_index_sizes_1_to_130(big: tuple[list[bytes], MemoryTree]) -> None:
    d, t = big
    checked = 0
    for size in range(1, 131):
        head = ref_mth(d[:size])
        assert t.root(size) == head
        assert root(size, t.get) == head
        for index in range(size):
            proof = t.inclusion_proof(index, size)
            assert proof == ref_path(index, d[:size]), (index, size)
            leaf = leaf_hash(d[index])
            assert verify_inclusion(index, size, leaf, proof, head)
            # Tampering: another leaf, another index, another root, an altered proof.
            assert not verify_inclusion(index, size, leaf_hash(b"forged"), proof, head)
            assert not verify_inclusion(index, size, leaf, proof, flip(head))
            if size > 1:
                other = (index + 1) % size
                assert not verify_inclusion(other, size, leaf, proof, head)
                assert not verify_inclusion(index, size, leaf, [flip(proof[0]), *proof[1:]], head)
                assert not verify_inclusion(index, size, leaf, proof[:-1], head)
            assert not verify_inclusion(index, size, leaf, [*proof, b"\x00" * 32], head)
            checked += 1
    assert checked == 130 * 131 // 2


def test_consistency_all_pairs_up_to_64(big: tuple[list[bytes], MemoryTree]) -> None:
    d, t = big
    heads = [ref_mth(d[:n]) for n in range(65)]
    for new in range(1, 65):
        for old in range(1, new + 1):
            proof = t.consistency_proof(old, new)
            assert proof == ref_proof(old, d[:new]), (old, new)
            assert verify_consistency(old, new, heads[old], heads[new], proof), (old, new)
            assert not verify_consistency(old, new, flip(heads[old]), heads[new], proof)
            assert not verify_consistency(old, new, heads[old], flip(heads[new]), proof)
            if old < new:
                assert not verify_consistency(old, new, heads[old], heads[new], [*proof, heads[0]])
                assert not verify_consistency(old, new, heads[old], heads[new], proof[:-1])
                for i in range(len(proof)):
                    bad = list(proof)
                    bad[i] = flip(bad[i])
                    assert not verify_consistency(old, new, heads[old], heads[new], bad), (old, new, i)
                # Swapped sizes.
                assert not verify_consistency(new, old, heads[new], heads[old], proof)


def test_consistency_from_empty_tree(big: tuple[list[bytes], MemoryTree]) -> None:
    _, t = big
    assert t.consistency_proof(0, 5) == []
    assert verify_consistency(0, 5, EMPTY_ROOT, t.root(5), [])
    assert not verify_consistency(0, 5, t.root(1), t.root(5), [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, t.root(5), [t.root(1)])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])


def test_a_rewritten_entry_breaks_consistency() -> None:
    d = entries(40)
    honest = tree_of(d)
    forged = tree_of([*d[:17], b"rewritten", *d[18:]])
    for old in (5, 17, 18, 30):
        proof = forged.consistency_proof(old, 40)
        ok = verify_consistency(old, 40, honest.root(old), forged.root(40), proof)
        assert ok == (old <= 17), old


# ---------------------------------------------------------------------------
# Malformed input: False, never an exception


@pytest.mark.parametrize(
    ("index", "size", "leaf", "proof", "head"),
    [
        (3, 3, b"\x00" * 32, [b"\x00" * 32] * 2, b"\x00" * 32),  # index == size
        (5, 3, b"\x00" * 32, [b"\x00" * 32] * 2, b"\x00" * 32),  # index > size
        (0, 0, b"\x00" * 32, [], EMPTY_ROOT),  # empty tree
        (-1, 3, b"\x00" * 32, [b"\x00" * 32] * 2, b"\x00" * 32),  # negative index
        (0, 1, b"\x00" * 31, [], b"\x00" * 32),  # short leaf
        (0, 1, b"\x00" * 32, [], b"\x00" * 33),  # long root
        (0, 2, b"\x00" * 32, [b"\x00" * 31], b"\x00" * 32),  # short proof element
        (0, 2, b"\x00" * 32, ["not bytes"], b"\x00" * 32),  # wrong type
        (True, 2, b"\x00" * 32, [b"\x00" * 32], b"\x00" * 32),  # bool index
        (0, 2, b"\x00" * 32, None, b"\x00" * 32),  # no proof at all
    ],
)
def test_verify_inclusion_rejects_malformed(
    index: object, size: object, leaf: object, proof: object, head: object
) -> None:
    assert verify_inclusion(index, size, leaf, proof, head) is False  # type: ignore[arg-type]


def test_verify_inclusion_single_leaf() -> None:
    leaf = leaf_hash(b"only")
    assert verify_inclusion(0, 1, leaf, [], leaf)
    assert not verify_inclusion(0, 1, leaf, [leaf], leaf)


@pytest.mark.parametrize(
    ("old", "new", "proof"),
    [
        (5, 3, [b"\x00" * 32]),  # old > new
        (3, 5, []),  # empty proof for 0 < old < new
        (3, 3, [b"\x00" * 32]),  # non-empty proof for equal sizes
        (-1, 3, [b"\x00" * 32]),
        (1, 2, [b"\x00" * 7]),
        (1, 2, "abc"),
        (1, 2, None),
    ],
)
def test_verify_consistency_rejects_malformed(old: int, new: int, proof: object) -> None:
    h = b"\x00" * 32
    assert verify_consistency(old, new, h, h, proof) is False  # type: ignore[arg-type]


def test_generators_reject_bad_arguments() -> None:
    t = tree_of(entries(5))
    with pytest.raises(ValueError):
        inclusion_proof(5, 5, t.get)
    with pytest.raises(ValueError):
        inclusion_proof(-1, 5, t.get)
    with pytest.raises(ValueError):
        consistency_proof(6, 5, t.get)
    with pytest.raises(ValueError):
        t.root(6)
    with pytest.raises(KeyError):
        root(6, t.get)  # a getter without the subtree raises KeyError
    with pytest.raises(KeyError):
        t.get(3, 0)
    with pytest.raises(ValueError):
        nodes_to_store(0, b"short", t.get)


# ---------------------------------------------------------------------------
# The storage contract: nodes_to_store, O(log n) reads


def test_nodes_to_store_over_1000_appends() -> None:
    store: dict[tuple[int, int], bytes] = {}

    def get(level: int, index: int) -> bytes:
        return store[(level, index)]

    reference = MemoryTree()
    d = entries(1000)
    for i, e in enumerate(d):
        rows = nodes_to_store(i, leaf_hash(e), get)
        assert rows[0] == (0, i, leaf_hash(e))
        # The leaf, plus one row per trailing one-bit of i (each level the leaf completes).
        assert len(rows) == 1 + ((i + 1) & -(i + 1)).bit_length() - 1
        for level, index, h in rows:
            assert (level, index) not in store
            assert index == i >> level
            store[(level, index)] = h
        reference.append(e)
        assert root(i + 1, get) == reference.root()
    # Every complete subtree is stored exactly once, with the reference's hash.
    assert len(store) == sum(1000 >> level for level in range(10))
    for (level, index), h in store.items():
        assert h == subtree_hash(index << level, (index + 1) << level, reference.get)
    assert root(1000, get) == ref_mth(d)
    for size in (1, 2, 3, 500, 513, 999):
        assert root(size, get) == ref_mth(d[:size])


class CountingGetter:
    def __init__(self, tree: MemoryTree) -> None:
        self.tree = tree
        self.calls = 0

    def __call__(self, level: int, index: int) -> bytes:
        self.calls += 1
        return self.tree.get(level, index)


def _bound(n: int) -> int:
    return 2 * math.ceil(math.log2(max(n, 2))) + 4


@pytest.mark.parametrize("n", [2, 3, 7, 64, 100, 127, 130, 1000, 1023, 4097])
def test_reads_are_logarithmic(n: int) -> None:
    t = tree_of(entries(n))
    get = CountingGetter(t)
    indices = sorted({0, 1, n // 3, n // 2, n - 2, n - 1})
    for index in indices:
        get.calls = 0
        proof = inclusion_proof(index, n, get)
        assert get.calls <= _bound(n), (index, get.calls)
        assert verify_inclusion(index, n, t.leaf(index), proof, t.root())
    for old in sorted({1, 2, n // 3, n // 2 + 1, n - 1}):
        get.calls = 0
        proof = consistency_proof(old, n, get)
        assert get.calls <= _bound(n), (old, get.calls)
        assert verify_consistency(old, n, t.root(old), t.root(), proof)
    get.calls = 0
    root(n, get)
    assert get.calls <= _bound(n)
    get.calls = 0
    nodes_to_store(n, leaf_hash(b"next"), get)
    assert get.calls <= _bound(n)


def test_reads_logarithmic_at_every_size_up_to_300() -> None:
    d = entries(300)
    t = tree_of(d)
    get = CountingGetter(t)
    worst = 0
    for n in range(1, 301):
        for index in range(0, n, 7):
            get.calls = 0
            inclusion_proof(index, n, get)
            worst = max(worst, get.calls - _bound(n))
        for old in range(1, n, 5):
            get.calls = 0
            consistency_proof(old, n, get)
            worst = max(worst, get.calls - _bound(n))
    assert worst <= 0


def test_public_api_names() -> None:
    getter: Callable[[int, int], bytes] = MemoryTree().get
    assert callable(getter)
    for name in merkle.__all__:
        assert hasattr(merkle, name)
