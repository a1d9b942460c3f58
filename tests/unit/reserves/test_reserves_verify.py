"""The customer's verifier: a sound proof holds; each known attack on it is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kinko.core.errors import IntegrityError
from kinko.reserves import proof, sumtree
from kinko.reserves.proof import path_json
from kinko.reserves.verify import verify_document
from tests.unit.reserves.sample import held, log_roots, sample

S = sample()


def _btc(doc: dict[str, Any]) -> dict[str, Any]:
    leaf: dict[str, Any] = next(x for x in doc["leaves"] if x["asset"] == "bitcoin:BTC")
    return leaf


def _refused(doc: dict[str, Any], match: str, vkey: str = S.vkey) -> None:
    with pytest.raises(IntegrityError, match=match):
        verify_document(doc, vkey)


def test_a_sound_proof_holds_for_every_asset_of_the_account() -> None:
    result = verify_document(S.document("alice"), S.vkey)
    assert result.account == "alice"
    assert result.snapshot == "snap-1"
    assert result.values == (
        ("bitcoin:BTC", 150_000_000, 300_000_007),
        ("ethereum:ETH", 2 * 10**18, 2 * 10**18),
    )
    assert result.checkpoint_size == 3


def test_equal_balances_never_share_a_leaf() -> None:
    alice, bob = _btc(S.document("alice")), _btc(S.document("bob"))
    assert alice["value"] == bob["value"]
    assert alice["index"] != bob["index"]


def test_a_negative_sibling_sum_is_refused() -> None:
    doc = S.document("alice")
    _btc(doc)["path"][0]["sum"] = "-7"
    _refused(doc, "negative")


def test_a_sibling_sum_that_overflows_128_bits_is_refused() -> None:
    doc = S.document("alice")
    _btc(doc)["path"][0]["sum"] = str(1 << 128)
    _refused(doc, "overflows 128 bits")


def test_two_sums_whose_addition_overflows_are_refused() -> None:
    doc = S.document("alice")
    step = _btc(doc)["path"][0]
    step["sum"] = str(sumtree.MAX_SUM)
    step["parent"] = str(sumtree.MAX_SUM)
    _refused(doc, "overflows 128 bits")


def test_a_sibling_larger_than_its_parent_is_refused() -> None:
    """The "max" attack: a node claiming its sum is the larger child's, not both."""
    doc = S.document("alice")
    step = _btc(doc)["path"][1]
    step["sum"] = str(int(step["parent"]) + 1)
    _refused(doc, "larger than its parent")


def test_sums_that_do_not_add_up_are_refused() -> None:
    doc = S.document("alice")
    step = _btc(doc)["path"][0]
    step["parent"] = str(int(step["parent"]) - 1)
    _refused(doc, "do not add up")


def test_a_smaller_claimed_value_is_refused() -> None:
    doc = S.document("alice")
    leaf = _btc(doc)
    leaf["value"] = str(int(leaf["value"]) - 1)
    _refused(doc, "do not add up")


def test_hiding_value_by_moving_it_between_siblings_is_refused() -> None:
    """Hu-Zhang-Guo: shift value from the sibling into the parent's total unnoticed;
    the node hash covers both sums, so the root no longer matches."""
    doc = S.document("alice")
    leaf = _btc(doc)
    top = leaf["path"][-1]
    if int(top["sum"]):
        top["sum"], top["parent"] = str(int(top["sum"]) - 1), str(int(top["parent"]) - 1)
    else:
        below = leaf["path"][-2]
        below["sum"], below["parent"] = str(int(below["sum"]) + 1), str(int(below["parent"]) + 1)
        top["parent"] = str(int(top["parent"]) + 1)
    _refused(doc, "root")


def test_a_padding_leaf_with_a_value_is_not_an_accounts_leaf() -> None:
    """Giving a customer a padding leaf's position: its hash is not made from their id."""
    tree = S.trees.trees["bitcoin:BTC"]
    padding = next(i for i in range(1 << tree.height) if not tree.sums[0][i])
    doc = S.document("alice")
    leaf = _btc(doc)
    path = tree.path_at(padding)
    leaf["index"], leaf["value"] = padding, "0"
    leaf["path"] = path_json(path)["path"]
    _refused(doc, "value is 0")
    leaf["value"] = "5"
    _refused(doc, "do not add up|root")


def test_a_duplicated_account_commitment_is_refused() -> None:
    """The exchange shows bob alice's leaf (same balance): the leaf is made from alice's
    id and key, so bob's recomputed leaf is not on that path; nor may one proof list a
    leaf twice."""
    doc = S.document("bob")
    _btc(doc).update(_btc(S.document("alice")))
    _refused(doc, "root")
    doc = S.document("alice")
    doc["leaves"].append(_btc(S.document("alice")))
    _refused(doc, "second leaf of bitcoin:BTC")


def test_roots_not_in_the_audit_log_are_refused() -> None:
    other_vkey, other_audit = log_roots(S.roots, digest="00" * 32)
    doc = S.document("alice")
    doc["audit"] = other_audit.to_json()
    _refused(doc, "not the ones the audit log records", other_vkey)


def test_changed_roots_do_not_match_the_logged_digest() -> None:
    doc = S.document("carol")
    doc["snapshot"]["roots"]["assets"].pop()  # drop an asset's root from the list
    _refused(doc, "not the ones the audit log records")


def test_a_checkpoint_signed_by_another_key_is_refused() -> None:
    other_vkey, _ = log_roots(S.roots)
    _refused(S.document("alice"), "not signed by", other_vkey)


def test_an_entry_not_in_the_checkpoint_is_refused() -> None:
    doc = S.document("alice")
    doc["audit"]["index"] = 0
    _refused(doc, "inclusion proof")


@pytest.mark.parametrize("where", ["sibling", "root", "key", "nonce"])
def test_a_truncated_hash_is_refused(where: str) -> None:
    doc = S.document("alice")
    if where == "sibling":
        _btc(doc)["path"][0]["hash"] = _btc(doc)["path"][0]["hash"][:-2]
    elif where == "root":
        doc["snapshot"]["roots"]["assets"][0]["root"] = "ab" * 31
    elif where == "key":
        doc["key"] = doc["key"][:62]
    else:
        doc["snapshot"]["roots"]["nonce"] = doc["snapshot"]["roots"]["nonce"][:30]
    _refused(doc, "hex digits")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.pop("audit"), "audit must be a JSON object"),
        (lambda d: d.update(format="v0"), "format"),
        (lambda d: d.update(leaves=[]), "non-empty list"),
        (lambda d: _btc(d).update(index=1 << 30), "index"),
        (lambda d: _btc(d)["path"].pop(), "steps"),
        (lambda d: _btc(d).update(value=150000000), "decimal string"),
        (lambda d: _btc(d).update(value="0150000000"), "decimal string"),
        (lambda d: d.update(account="mallory"), "root"),
    ],
)
def test_malformed_documents_fail_closed(change: Any, match: str) -> None:
    doc = S.document("alice")
    change(doc)
    _refused(doc, match)


def test_the_verifier_runs_as_a_program(tmp_path: Path) -> None:
    proof_file, key_file = tmp_path / "proof.json", tmp_path / "log.vkey"
    proof_file.write_text(json.dumps(S.document("alice")))
    key_file.write_text(S.vkey)
    command = [sys.executable, "-m", "kinko.reserves.verify", str(proof_file), "--vkey"]
    ok = subprocess.run([*command, str(key_file)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "bitcoin:BTC: 150000000 of 300000007 base units" in ok.stdout
    doc = S.document("alice")
    _btc(doc)["path"][0]["sum"] = "-1"
    proof_file.write_text(json.dumps(doc))
    bad = subprocess.run([*command, str(key_file)], capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "negative" in bad.stderr


def test_the_encoded_document_is_the_documented_json_value() -> None:
    paths = proof.account_paths(S.trees, "alice", held("alice"))
    encoded = proof.Envelope.of("snap-1", S.roots, S.audit).encode(
        "alice", S.trees.keys["alice"], paths
    )
    value = json.loads(encoded)
    assert value["leaves"] == [path_json(p) for p in paths]
    assert value["snapshot"] == {"id": "snap-1", "roots": S.roots.to_json()}
    assert value["audit"] == S.audit.to_json()
    assert list(value) == ["format", "snapshot", "controls", "account", "key", "leaves", "audit"]
    assert value["controls"] == []
