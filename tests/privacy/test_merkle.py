"""RFC 9162 Merkle hashing and proofs against published test vectors and pymerkle."""

from __future__ import annotations

import hashlib
import math
import random

import pytest
from pymerkle import InmemoryTree

from fedsift.privacy import merkle
from fedsift.privacy.errors import ProvenanceError
from fedsift.privacy.verifier import _roots, root_from_inclusion, verify_consistency, VerifyError

# Test vectors: the standard 8 leaf inputs of Certificate Transparency and the tree heads,
# inclusion and consistency proofs published with them, as found in transparency-dev/merkle
# (testonly/constants.go: LeafInputs, RootHashes, NodeHashes; proof/verify_test.go:
# inclusionProofs, consistencyProofs, whose leaf numbers count from one). Values only.
LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # empty tree
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
H = {
    "96a2": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f08": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    "bc1a": "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "ca85": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37e": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "fac5": "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "6e34": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "0ebc": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "b086": "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
}
# (zero-based index, tree size, path)
INCLUSION = [
    (0, 8, ["96a2", "5f08", "6b47"]),
    (5, 8, ["bc1a", "ca85", "d37e"]),
    (2, 3, ["fac5"]),
    (1, 5, ["6e34", "5f08", "bc1a"]),
]
# (old size, new size, proof)
CONSISTENCY = [
    (1, 8, ["96a2", "5f08", "6b47"]),
    (6, 8, ["0ebc", "ca85", "d37e"]),
    (2, 5, ["5f08", "bc1a"]),
    (6, 7, ["0ebc", "b086", "d37e"]),
]


def _hashes(names: list[str]) -> list[bytes]:
    return [bytes.fromhex(H[n]) for n in names]


LEAF_HASHES = [merkle.leaf_hash(x) for x in LEAVES]


def _root_or_none(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes | None:
    try:
        return root_from_inclusion(index, size, leaf, proof)
    except VerifyError:
        return None


def test_empty_root_is_sha256_of_nothing():
    assert merkle.root_hash([]) == merkle.EMPTY_ROOT == ROOTS[0]


@pytest.mark.parametrize("size", range(9))
def test_roots_match_published_tree_heads(size):
    assert merkle.root_hash(LEAF_HASHES[:size]) == ROOTS[size]


def test_verifier_prefix_roots_match_published_tree_heads():
    roots = _roots(LEAF_HASHES, set(range(9)))
    assert [roots[m] for m in range(9)] == ROOTS


@pytest.mark.parametrize("index,size,path", INCLUSION)
def test_inclusion_proofs_match_published_vectors(index, size, path):
    proof = merkle.inclusion_proof(index, LEAF_HASHES[:size])
    assert proof == _hashes(path)
    assert root_from_inclusion(index, size, LEAF_HASHES[index], proof) == ROOTS[size]


@pytest.mark.parametrize("old,new,path", CONSISTENCY)
def test_consistency_proofs_match_published_vectors(old, new, path):
    proof = merkle.consistency_proof(old, LEAF_HASHES[:new])
    assert proof == _hashes(path)
    assert verify_consistency(old, new, proof, ROOTS[old], ROOTS[new])


@pytest.mark.parametrize("old,new,path", CONSISTENCY)
def test_corrupted_consistency_proofs_fail(old, new, path):
    proof = _hashes(path)
    r1, r2 = ROOTS[old], ROOTS[new]
    assert not verify_consistency(old, new, proof, r2, r1)
    assert not verify_consistency(old, new, proof[:-1], r1, r2)
    assert not verify_consistency(old, new, [*proof, r1], r1, r2)
    assert not verify_consistency(old, new, [], r1, r2)
    assert not verify_consistency(old + 1, new, proof, r1, r2)
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 16]) + bad[i][1:]
        assert not verify_consistency(old, new, bad, r1, r2)


def test_trivial_consistency_cases():
    assert verify_consistency(0, 5, [], ROOTS[0], ROOTS[5])
    assert verify_consistency(4, 4, [], ROOTS[4], ROOTS[4])
    assert not verify_consistency(4, 4, [], ROOTS[4], ROOTS[5])
    assert not verify_consistency(5, 4, [], ROOTS[5], ROOTS[4])


@pytest.mark.parametrize("size", [1, 2, 3, 5, 17, 64, 70, 129])
def test_roots_agree_with_pymerkle(size):
    rng = random.Random(size)
    data = [rng.randbytes(rng.randrange(0, 40)) for _ in range(size)]
    tree = InmemoryTree(algorithm="sha256")
    for d in data:
        tree.append_entry(d)
    leaves = [merkle.leaf_hash(d) for d in data]
    for m in {1, size // 2 or 1, size}:
        assert merkle.root_hash(leaves[:m]) == tree.get_root(m)


def test_every_proof_round_trips_for_small_trees():
    leaves = [merkle.leaf_hash(i.to_bytes(2, "big")) for i in range(33)]
    for n in range(1, 34):
        root = merkle.root_hash(leaves[:n])
        for i in range(n):
            proof = merkle.inclusion_proof(i, leaves[:n])
            assert root_from_inclusion(i, n, leaves[i], proof) == root
            if n > 1:
                assert _root_or_none((i + 1) % n, n, leaves[i], proof) != root
        for m in range(n + 1):
            proof = merkle.consistency_proof(m, leaves[:n])
            assert verify_consistency(m, n, proof, merkle.root_hash(leaves[:m]), root)


def test_inclusion_proof_of_wrong_length_is_rejected():
    proof = merkle.inclusion_proof(5, LEAF_HASHES)
    with pytest.raises(VerifyError):
        root_from_inclusion(5, 8, LEAF_HASHES[5], proof[:-1])
    with pytest.raises(VerifyError):
        root_from_inclusion(5, 8, LEAF_HASHES[5], [*proof, ROOTS[8]])
    with pytest.raises(VerifyError):
        root_from_inclusion(8, 8, LEAF_HASHES[5], proof)


def test_proofs_outside_the_tree_are_refused():
    with pytest.raises(ProvenanceError, match="index 8"):
        merkle.inclusion_proof(8, LEAF_HASHES)
    with pytest.raises(ProvenanceError, match="old size 9"):
        merkle.consistency_proof(9, LEAF_HASHES)


def test_proof_sizes_stay_logarithmic_for_ten_thousand_leaves():
    n = 10_007
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]
    depth = math.ceil(math.log2(n))
    root = merkle.root_hash(leaves)
    for i in (0, 1, 4095, 8191, 9999, n - 1):
        proof = merkle.inclusion_proof(i, leaves)
        assert len(proof) <= depth
        assert root_from_inclusion(i, n, leaves[i], proof) == root
    for m in (1, 1000, 4096, 8192, n - 1):
        proof = merkle.consistency_proof(m, leaves)
        assert len(proof) <= depth + 1
        assert verify_consistency(m, n, proof, merkle.root_hash(leaves[:m]), root)
