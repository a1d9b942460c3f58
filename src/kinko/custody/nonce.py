"""The ECDSA nonce self-test (pure): find r values that repeat.

Two ECDSA signatures by one key over different messages with the same r reveal the
private key (k is shared, so two linear equations give k and then d). The same r under
two *different* keys means the nonce generator is broken or shared. Either is critical:
the Upbit 2025 incident is thought to have involved keys inferred from biased nonces.
The same key signing the same digest twice yields the same (r, s) under RFC 6979; that
is a re-signature, not a leak, and is not reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class FindingKind(StrEnum):
    SAME_KEY = "repeated_r_same_key"  # private key recoverable
    ACROSS_KEYS = "repeated_r_across_keys"  # broken or shared nonce generation


@dataclass(frozen=True, slots=True)
class SignatureRecord:
    chain: str
    txid: str
    public_key: str  # compressed SEC1 hex
    r: int
    s: int
    digest: str  # hex


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    r: int
    signatures: tuple[SignatureRecord, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "r": f"{self.r:064x}",
            "keys": sorted({s.public_key for s in self.signatures}),
            "transactions": sorted({f"{s.chain}:{s.txid}" for s in self.signatures}),
        }


def find_repeated_r(signatures: Iterable[SignatureRecord]) -> list[Finding]:
    by_r: dict[int, dict[tuple[str, str], SignatureRecord]] = {}
    for sig in signatures:
        # One entry per (key, digest): an identical re-signature is not a second use of k.
        by_r.setdefault(sig.r, {}).setdefault((sig.public_key, sig.digest), sig)
    findings = []
    for r, group in sorted(by_r.items()):
        if len(group) < 2:
            continue
        sigs = tuple(group.values())
        keys = {s.public_key for s in sigs}
        if len(keys) < len(sigs):
            findings.append(Finding(FindingKind.SAME_KEY, r, sigs))
        if len(keys) > 1:
            findings.append(Finding(FindingKind.ACROSS_KEYS, r, sigs))
    return findings
