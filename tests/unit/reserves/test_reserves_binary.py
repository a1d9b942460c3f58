"""The compact binary proof: the same document as the JSON one, in at most 1 KB per asset."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from kinko.core.errors import IntegrityError
from kinko.reserves import binary, control, ownership, proof
from kinko.reserves.verify import load, verify_document
from tests.unit.reserves.sample import held, sample

S = sample()
KEY = bytes([0x55]) * 32
ADDRESS = Account.from_key(KEY).address


def _control() -> ownership.Control:
    text = ownership.statement(
        "snap-1", S.roots.nonce, S.roots.digest(), "ethereum", ADDRESS.lower()
    )
    signature = bytes(Account.sign_message(encode_defunct(text=text), KEY).signature)
    return control.from_signature(signature, "snap-1", S.roots.nonce, S.roots.digest(), ADDRESS)


ENVELOPE = proof.Envelope.of("snap-1", S.roots, S.audit, [_control()])


def _encoded(account: str = "alice") -> bytes:
    leaves = S.trees.leaves(account, held(account))
    return ENVELOPE.encode_binary(account, S.trees.keys[account], leaves)


def test_the_binary_proof_decodes_to_the_json_document_and_verifies() -> None:
    for account in ("alice", "bob", "carol", "dave"):
        paths = proof.account_paths(S.trees, account, held(account))
        as_json = json.loads(ENVELOPE.encode(account, S.trees.keys[account], paths))
        encoded = _encoded(account)
        assert load(encoded) == as_json
        result = verify_document(load(encoded), S.vkey)
        assert result.controls == (("ethereum", ADDRESS.lower()),)


def test_a_path_of_20_levels_is_983_bytes() -> None:
    siblings = [bytes(range(32)) + (7).to_bytes(16, "big")] * 20
    assert len(binary.leaf(3, 10**18, (1 << 20) - 1, siblings)) == 983 <= 1024


def test_a_changed_sibling_hash_or_sum_is_refused() -> None:
    clean = _encoded("carol")
    start = clean.index(S.trees.keys["carol"]) + 32 + 2 + 2 + 16 + 5  # the first step
    for offset, match in ((0, "does not lead to the snapshot's root"), (47, "path sums to")):
        data = bytearray(clean)
        data[start + offset] ^= 1  # the hash's first byte, the sum's last
        with pytest.raises(IntegrityError, match=match):
            verify_document(load(bytes(data)), S.vkey)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d[:-1], "truncated"),
        (lambda d: d + b"\0", "1 bytes after its end"),
        (lambda d: b"KRP\x02" + d[4:], "version 1"),
        (lambda d: d[:40], "truncated"),
        (lambda d: b"{not json", "neither JSON nor"),
    ],
    ids=["truncated", "trailing byte", "version", "cut short", "garbage"],
)
def test_a_malformed_binary_proof_fails_closed(change: object, match: str) -> None:
    assert callable(change)
    with pytest.raises(IntegrityError, match=match):
        load(change(_encoded()))


def test_a_leaf_naming_an_asset_outside_the_roots_is_refused() -> None:
    data = bytearray(_encoded("carol"))
    at = data.index(S.trees.keys["carol"]) + 32 + 2  # after the key and the leaf count
    data[at : at + 2] = (99).to_bytes(2, "big")
    with pytest.raises(IntegrityError, match="not one of the snapshot's assets"):
        load(bytes(data))
