"""Offline co-signing (`kinko cosign BUNDLE --key KEYFILE`) for warm and cold wallets.

No database and no network: the bundle, the key file and the log's verifier key are all
it reads. The enrolled credentials come from the bundle itself and are trusted only
because each one's key fingerprint is in an approval entry proven to be in a checkpoint
signed by the log key. Freeze state cannot be known offline; the operator is told so.

A `totp_server_attested` approval cannot be verified offline (its HMAC key is the
server's); it is refused unless the caller passes `UnsafeAcceptServerAttestedApprovals`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

import structlog
from embit import bip32

from kinko.chains.bitcoin import BitcoinAdapter
from kinko.chains.registry import get_adapter
from kinko.core.errors import ApprovalError, InputError, KinkoError
from kinko.core.secretfile import read_private
from kinko.signer.bundle import parse_bundle
from kinko.signer.checks import VerifiedBundle, verify_bundle
from kinko.signer.online import SigningAdapter

log = structlog.get_logger("kinko.signer")

_EXTENDED_PREFIXES = ("xprv", "tprv", "xpub", "tpub")
_XPRV_LENGTH = 78


@dataclass(frozen=True, slots=True)
class UnsafeAcceptServerAttestedApprovals:
    """The operator's explicit opt-in (`--unsafe-accept-server-attested-approvals`) to
    count `totp_server_attested` approvals offline, where only their proven audit entries
    (approver, digest, logged attestation) can be checked, not the server's HMAC: anyone
    holding the server's secret key and the log key could have made them."""


@dataclass(frozen=True, slots=True)
class Cosigned:
    """`signed_tx`: Ethereum, the signed transaction; Bitcoin, the PSBT with this
    cosigner's (and any earlier `partial`) signatures. `final_tx`: Bitcoin, the network
    transaction once the wallet's threshold of signatures is reached."""

    verified: VerifiedBundle
    signed_tx: bytes
    final_tx: bytes | None = None


def read_key_file(path: Path) -> bytes:
    """A key file holds one line (mode 0600): the hex-encoded secret key (Ethereum), or a
    BIP-32 extended private key, ``xprv...``/``tprv...`` (a Bitcoin cosigner's master key,
    returned in its 78-byte serialisation)."""
    try:
        text = read_private(path, field="--key").decode("ascii").strip()
    except UnicodeDecodeError:
        raise InputError("--key", f"{path} must hold one line of ASCII text") from None
    if text[:4] in _EXTENDED_PREFIXES:
        return _extended_key(text, path)
    try:
        key = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise InputError("--key", f"{path} must hold one hex-encoded secret key") from None
    if len(key) != 32:
        raise InputError("--key", f"{path} holds {len(key)} bytes; a secret key is 32")
    return key


def _extended_key(text: str, path: Path) -> bytes:
    try:
        key = bip32.HDKey.from_base58(text)
    except Exception:  # embit raises several types for bad base58
        raise InputError("--key", f"{path} holds no valid BIP-32 extended private key") from None
    if not key.is_private:
        raise InputError("--key", f"{path} holds a public key; a cosigner key is private")
    return bytes(key.serialize())


def cosign(
    raw_bundle: bytes,
    *,
    key: bytes,
    log_vkey: str,
    now: datetime,
    rp_id: str,
    origin: str,
    partial: bytes | None = None,
    unsafe: UnsafeAcceptServerAttestedApprovals | None = None,
) -> Cosigned:
    """Verify the bundle exactly as the online signer does, then sign. Raises on refusal.

    Bitcoin: `partial` is a PSBT another cosigner already signed; its signatures are
    merged into this cosigner's copy of the bundle's PSBT (a different transaction is
    refused), and the transaction is finalised once the threshold is reached."""
    bundle = parse_bundle(raw_bundle)
    bitcoin = bundle.chain == "bitcoin"
    if bitcoin and bundle.descriptor is None:
        raise InputError("bundle.withdrawal.descriptor", "a Bitcoin bundle must carry it")
    if bitcoin != (len(key) == _XPRV_LENGTH):
        wanted = "a BIP-32 extended private key (xprv/tprv)" if bitcoin else "a hex secret key"
        raise InputError("--key", f"a {bundle.chain} cosigner key file holds {wanted}")
    if partial is not None and not bitcoin:
        raise InputError("--psbt", "only Bitcoin withdrawals collect partial signatures")
    options = {"descriptor": bundle.descriptor} if bitcoin else {}
    adapter: SigningAdapter = get_adapter(bundle.chain, bundle.network, **options)
    verified = verify_bundle(
        bundle,
        adapter=adapter,
        enrolled_credentials=None,
        log_vkey=log_vkey,
        now=now,
        frozen=None,
        expected_rp_id=rp_id,
        expected_origin=origin,
        accept_server_attested=unsafe is not None,
    )
    if verified.server_attested:
        log.warning(
            "accepted server-attested TOTP approvals without verifying them",
            withdrawal=bundle.withdrawal_id,
            approvers=list(verified.server_attested),
        )
    if verified.required_approvals < 1:
        # Only small hot-wallet withdrawals are auto-approved, and hot keys are online.
        raise ApprovalError(
            "the bundle needs no approvals; offline (warm/cold) keys sign only approved quorums",
            code="quorum_not_met",
        )
    signed = adapter.sign(bundle.unsigned_tx, key)
    if not bitcoin:
        return Cosigned(verified=verified, signed_tx=signed)
    btc = cast(BitcoinAdapter, adapter)
    if partial is not None:
        signed = btc.combine([signed, partial])
    decoded = btc.decode(signed)
    counts = decoded.details["signatures"]
    if min(counts) < decoded.details["threshold"]:
        return Cosigned(verified=verified, signed_tx=signed)
    return Cosigned(verified=verified, signed_tx=signed, final_tx=btc.finalize(signed))


def cosign_in_turn(
    raw_bundle: bytes,
    keys: Sequence[bytes],
    *,
    log_vkey: str,
    now: datetime,
    rp_id: str,
    origin: str,
) -> Iterator[tuple[int, Cosigned | KinkoError]]:
    """The key holders (1, 2, …) run `cosign` one after another, each on the PSBT the last
    holder who signed wrote out, so that on Bitcoin their signatures add up. Each yields
    (holder, what they wrote out) or (holder, their refusal): a refusal is not raised,
    and the next holder starts from the last signed PSBT."""
    partial: bytes | None = None
    for holder, key in enumerate(keys, start=1):
        try:
            done = cosign(
                raw_bundle,
                key=key,
                log_vkey=log_vkey,
                now=now,
                rp_id=rp_id,
                origin=origin,
                partial=partial,
            )
        except KinkoError as exc:
            yield holder, exc
            continue
        partial = done.signed_tx
        yield holder, done
