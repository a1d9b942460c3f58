"""The nonce scan: repeated r under one key, across keys; re-signatures are not findings."""

from __future__ import annotations

from kinko.custody.nonce import FindingKind, SignatureRecord, find_repeated_r


def _s(key: str, r: int, digest: str, txid: str = "t") -> SignatureRecord:
    return SignatureRecord("ethereum", txid, key, r, 7, digest)


def test_clean_history_has_no_findings() -> None:
    assert find_repeated_r([_s("k1", 1, "d1"), _s("k1", 2, "d2"), _s("k2", 3, "d1")]) == []


def test_same_key_same_r_different_messages_is_a_key_leak() -> None:
    (finding,) = find_repeated_r(
        [_s("k1", 5, "d1", "a"), _s("k1", 5, "d2", "b"), _s("k2", 6, "d3")]
    )
    assert finding.kind is FindingKind.SAME_KEY
    assert finding.to_json()["transactions"] == ["ethereum:a", "ethereum:b"]


def test_same_r_under_two_keys_is_reported_as_across_keys() -> None:
    (finding,) = find_repeated_r([_s("k1", 9, "d1"), _s("k2", 9, "d2")])
    assert finding.kind is FindingKind.ACROSS_KEYS
    assert finding.to_json()["keys"] == ["k1", "k2"]


def test_the_same_signature_recorded_twice_is_not_a_finding() -> None:
    assert find_repeated_r([_s("k1", 4, "d1", "a"), _s("k1", 4, "d1", "a")]) == []
