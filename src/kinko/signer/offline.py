"""Offline co-signing (`kinko cosign BUNDLE --key KEYFILE`) for warm and cold wallets.

No database and no network: the bundle, the key file and the log's verifier key are all
it reads. The enrolled credentials come from the bundle itself and are trusted only
because each one's key fingerprint is in an approval entry proven to be in a checkpoint
signed by the log key. Freeze state cannot be known offline; the operator is told so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kinko.chains.registry import get_adapter
from kinko.core.errors import ApprovalError, InputError
from kinko.signer.checks import VerifiedBundle, verify_bundle
from kinko.signer.online import SigningAdapter
from kinko.withdrawals.bundle import parse_bundle


@dataclass(frozen=True, slots=True)
class Cosigned:
    verified: VerifiedBundle
    signed_tx: bytes


def read_key_file(path: Path) -> bytes:
    """A key file holds the hex-encoded secret key on one line (mode 0600)."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("--key", f"cannot read {path}: {exc}") from None
    try:
        key = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise InputError("--key", f"{path} must hold one hex-encoded secret key") from None
    if len(key) != 32:
        raise InputError("--key", f"{path} holds {len(key)} bytes; a secret key is 32")
    return key


def cosign(
    raw_bundle: bytes,
    *,
    key: bytes,
    log_vkey: str,
    now: datetime,
    rp_id: str,
    origin: str,
) -> Cosigned:
    """Verify the bundle exactly as the online signer does, then sign. Raises on refusal."""
    bundle = parse_bundle(raw_bundle)
    adapter: SigningAdapter = get_adapter(bundle.chain, bundle.network)
    verified = verify_bundle(
        bundle,
        adapter=adapter,
        enrolled_credentials=None,
        log_vkey=log_vkey,
        now=now,
        frozen=None,
        expected_rp_id=rp_id,
        expected_origin=origin,
    )
    if verified.required_approvals < 1:
        # Only small hot-wallet withdrawals are auto-approved, and hot keys are online.
        raise ApprovalError(
            "the bundle needs no approvals; offline (warm/cold) keys sign only approved quorums",
            code="quorum_not_met",
        )
    return Cosigned(verified=verified, signed_tx=adapter.sign(bundle.unsigned_tx, key))
