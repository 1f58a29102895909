"""RFC 9162 Merkle tree hashing: leaf and node hashes, roots, inclusion and consistency proofs.

Hashing by hand on ``hashlib``: pymerkle is kept for cross-checks in the tests only, because
the audit verifier must depend on the standard library and ``cryptography`` alone and the
log should produce exactly what it verifies. Verification lives in
:mod:`fedsift.privacy.verifier` (standalone, so an officer can read it in one sitting);
this module generates.

References
----------
RFC 9162, Certificate Transparency Version 2.0, section 2.1 (Merkle Hash Trees):
leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right), MTH({}) = SHA-256("").
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from fedsift.privacy.errors import ProvenanceError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(entry: bytes) -> bytes:
    """Hash one log entry as a leaf.

    Parameters
    ----------
    entry : bytes
        The entry exactly as stored.

    Returns
    -------
    bytes
        SHA-256(0x00 || entry), 32 bytes.
    """
    return hashlib.sha256(_LEAF + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child hashes into their parent, SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE + left + right).digest()


def root_hash(leaf_hashes: Iterable[bytes]) -> bytes:
    """Compute the tree head of a sequence of leaf hashes in O(n) time and O(log n) memory.

    A stack holds the roots of the complete subtrees seen so far (sizes are distinct powers
    of two, largest at the bottom); equal-sized neighbours merge as leaves arrive, and the
    leftover subtrees fold from right to left, which is RFC 9162's left-balanced shape.

    Parameters
    ----------
    leaf_hashes : Iterable[bytes]
        Leaf hashes in log order (a generator is fine).

    Returns
    -------
    bytes
        The root hash; ``EMPTY_ROOT`` for no leaves.
    """
    stack: list[tuple[int, bytes]] = []  # (subtree size, hash)
    sha = hashlib.sha256
    for h in leaf_hashes:
        size = 1
        while stack and stack[-1][0] == size:
            _, left = stack.pop()
            h = sha(_NODE + left + h).digest()
            size *= 2
        stack.append((size, h))
    if not stack:
        return EMPTY_ROOT
    root = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        root = sha(_NODE + left + root).digest()
    return root


def _subtree_root(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) by levels (list comprehensions keep per-node overhead low)."""
    level = list(leaves[lo:hi])
    if not level:
        return EMPTY_ROOT
    sha = hashlib.sha256
    while len(level) > 1:
        paired = [sha(_NODE + a + b).digest() for a, b in zip(level[0::2], level[1::2])]
        if len(level) % 2:
            paired.append(level[-1])  # left-balanced: the odd node is promoted unchanged
        level = paired
    return level[0]


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """Build the audit path of leaf ``index`` in the tree of ``leaves`` (RFC 9162 2.1.3.1).

    Parameters
    ----------
    index : int
        Zero-based leaf index, ``0 <= index < len(leaves)``.
    leaves : Sequence[bytes]
        Leaf hashes of the tree the proof is for (its size is ``len(leaves)``).

    Returns
    -------
    list[bytes]
        Sibling hashes from the leaf up, ``ceil(log2(n))`` of them at most.

    Raises
    ------
    ProvenanceError
        If ``index`` is outside the tree.
    """
    n = len(leaves)
    if not 0 <= index < n:
        raise ProvenanceError(f"inclusion proof: index {index} is outside a tree of size {n}")
    path: list[bytes] = []
    lo, hi, m = 0, n, index
    # Walk down from the root; each step records the sibling subtree (appended root-first,
    # reversed at the end so the path reads leaf-first as RFC 9162 orders it).
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            path.append(_subtree_root(leaves, lo + k, hi))
            hi = lo + k
        else:
            path.append(_subtree_root(leaves, lo, lo + k))
            lo, m = lo + k, m - k
    path.reverse()
    return path


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """Build the proof that the tree of ``old_size`` leaves is a prefix of ``leaves``.

    RFC 9162 2.1.4.1: PROOF(m, D[n]) = SUBPROOF(m, D[n], true).

    Parameters
    ----------
    old_size : int
        Size of the earlier tree, ``0 <= old_size <= len(leaves)``.
    leaves : Sequence[bytes]
        Leaf hashes of the later tree.

    Returns
    -------
    list[bytes]
        The proof nodes; empty when ``old_size`` is 0 or equals the new size.

    Raises
    ------
    ProvenanceError
        If ``old_size`` is negative or larger than the tree.
    """
    n = len(leaves)
    if not 0 <= old_size <= n:
        raise ProvenanceError(f"consistency proof: old size {old_size} is outside 0..{n}")
    if old_size in (0, n):
        return []
    path: list[bytes] = []
    lo, hi, m, whole = 0, n, old_size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            path.append(_subtree_root(leaves, lo + k, hi))
            hi = lo + k
        else:
            path.append(_subtree_root(leaves, lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        path.append(_subtree_root(leaves, lo, hi))
    path.reverse()
    return path
