"""The log's tree hashing and proofs (publiclog/merkle.py) against the published RFC 6962 / 9162 test
vectors (transparency-dev/merkle's and Certificate Transparency's: the leaves, the root of every size
from 0 to 8, and their reference proofs), and over random trees: every proof verifies, and a proof,
leaf, index or root altered in any way does not."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publiclog import merkle

ENTRIES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                      "606162636465666768696a6b6c6d6e6f"]]
LEAVES = [merkle.leaf_hash(entry) for entry in ENTRIES]
ROOTS = [bytes.fromhex(h) for h in [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]]
INCLUSION = [  # (leaf index, tree size, proof)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (0, 1, []),
]
CONSISTENCY = [  # (old size, new size, proof)
    (2, 8, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]


def test_leaf_and_node_hashes_carry_the_rfc_prefixes():
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()


@pytest.mark.parametrize("size", range(9))
def test_the_root_of_every_size_is_the_published_one(size):
    assert merkle.root(LEAVES[:size]) == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_are_the_published_ones_and_verify(index, size, proof):
    expected = [bytes.fromhex(h) for h in proof]
    assert merkle.tree_inclusion_proof(LEAVES[:size], index) == expected
    assert merkle.inclusion_verified(leaf=LEAVES[index], index=index, size=size, proof=expected,
                                     root_hash=ROOTS[size])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_are_the_published_ones_and_verify(old, new, proof):
    expected = [bytes.fromhex(h) for h in proof]
    assert merkle.tree_consistency_proof(LEAVES[:new], old) == expected
    assert merkle.consistency_verified(old_size=old, new_size=new, old_root=ROOTS[old], new_root=ROOTS[new],
                                       proof=expected)


def test_a_consistency_proof_between_equal_sizes_is_empty_and_needs_equal_roots():
    assert merkle.consistency_verified(old_size=4, new_size=4, old_root=ROOTS[4], new_root=ROOTS[4], proof=[])
    assert not merkle.consistency_verified(old_size=4, new_size=4, old_root=ROOTS[4], new_root=ROOTS[5], proof=[])
    assert not merkle.consistency_verified(old_size=5, new_size=4, old_root=ROOTS[5], new_root=ROOTS[4], proof=[])


def test_a_proof_for_a_leaf_or_size_the_tree_lacks_is_refused():
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_ranges(8, 8)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_ranges(9, 8)


def _tree(seed: int, size: int) -> list[bytes]:
    return [merkle.leaf_hash(hashlib.sha256(f"{seed}:{i}".encode()).digest()) for i in range(size)]


def _altered(proof: list[bytes], position: int) -> list[bytes]:
    changed = list(proof)
    changed[position] = bytes([changed[position][0] ^ 1]) + changed[position][1:]
    return changed


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 1000), size=st.integers(1, 300), data=st.data())
def test_every_inclusion_proof_verifies_and_an_altered_one_does_not(seed, size, data):
    leaves = _tree(seed, size)
    index = data.draw(st.integers(0, size - 1))
    root_hash = merkle.root(leaves)
    proof = merkle.tree_inclusion_proof(leaves, index)
    assert merkle.inclusion_verified(leaf=leaves[index], index=index, size=size, proof=proof, root_hash=root_hash)
    assert not merkle.inclusion_verified(leaf=merkle.leaf_hash(b"another record"), index=index, size=size,
                                         proof=proof, root_hash=root_hash)
    if size > 1:
        other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index))
        assert not merkle.inclusion_verified(leaf=leaves[index], index=other, size=size, proof=proof,
                                             root_hash=root_hash)
        position = data.draw(st.integers(0, len(proof) - 1))
        assert not merkle.inclusion_verified(leaf=leaves[index], index=index, size=size,
                                             proof=_altered(proof, position), root_hash=root_hash)
        assert not merkle.inclusion_verified(leaf=leaves[index], index=index, size=size, proof=proof[:-1],
                                             root_hash=root_hash)
        assert not merkle.inclusion_verified(leaf=leaves[index], index=index, size=size,
                                             proof=[*proof, bytes(32)], root_hash=root_hash)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 1000), new_size=st.integers(1, 300), data=st.data())
def test_every_consistency_proof_verifies_and_a_forked_tree_does_not(seed, new_size, data):
    leaves = _tree(seed, new_size)
    old_size = data.draw(st.integers(1, new_size))
    old_root, new_root = merkle.root(leaves[:old_size]), merkle.root(leaves)
    proof = merkle.tree_consistency_proof(leaves, old_size)
    assert merkle.consistency_verified(old_size=old_size, new_size=new_size, old_root=old_root, new_root=new_root,
                                       proof=proof)
    # A fork: the new tree's leaf changed in the old part (a rewritten history), or its root is another.
    changed = data.draw(st.integers(0, old_size - 1))
    forked = [*leaves[:changed], merkle.leaf_hash(b"rewritten"), *leaves[changed + 1:]]
    assert not merkle.consistency_verified(old_size=old_size, new_size=new_size, old_root=old_root,
                                           new_root=merkle.root(forked),
                                           proof=merkle.tree_consistency_proof(forked, old_size))
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        assert not merkle.consistency_verified(old_size=old_size, new_size=new_size, old_root=old_root,
                                               new_root=new_root, proof=_altered(proof, position))


@settings(max_examples=100, deadline=None)
@given(start_level=st.integers(0, 10), data=st.data())
def test_a_range_hash_from_its_perfect_parts_is_the_ranges_root(start_level, data):
    leaves = _tree(7, 1200)
    start = data.draw(st.integers(0, 1200 // (1 << start_level) - 1)) << start_level
    end = data.draw(st.integers(start + 1, min(1200, start + (1 << start_level) if start else 1200)))
    assert merkle.range_hash(start, end, merkle._in_memory(leaves)) == merkle.root(leaves[start:end])
