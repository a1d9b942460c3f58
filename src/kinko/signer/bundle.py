"""The approval bundle: everything the signer needs to re-check a withdrawal on its own.

Version 3, documented in docs/bundle.md: each WebAuthn approval signs a challenge that
commits to the withdrawal (id, digest, expiry, a one-time server nonce:
`kinko.signer.binding`), and the bundle carries the nonce and the expiry. Versions 1 and 2
(approvals over the bare digest, replayable on another withdrawal with the same digest)
are refused. The bundle is canonical JSON (RFC 8785) so two exports of the same
withdrawal are byte-identical.
Binary values are lower-case hex (transaction, digest, proof hashes) or unpadded
base64url (WebAuthn fields, audit entries), as WebAuthn itself writes them.

A bundle is untrusted input to the signer: `parse_bundle` checks only its shape; the meaning
(digest, assertions, quorum, proofs) is checked by `kinko.signer.checks.verify_bundle`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kinko.core.canonical import canonical_json
from kinko.core.errors import InputError
from kinko.signer.attestation import BINDING_TOTP, BINDING_WEBAUTHN
from kinko.signer.binding import NONCE_BYTES

BUNDLE_FORMAT = "kinko.approval-bundle"
BUNDLE_VERSION = 3
READABLE_VERSIONS = (3,)
_REPLAYABLE_VERSIONS = (1, 2)  # approvals signed the bare digest

# Audit actions whose entries the bundle proves (and the signer reads).
ACTION_REQUESTED = "withdrawal.requested"
ACTION_DECIDED = "withdrawal.decided"
ACTION_APPROVAL = "withdrawal.approval"
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str, field: str) -> bytes:
    # b64decode silently skips characters outside the alphabet: check them first.
    if not _B64URL.match(text) or len(text) % 4 == 1:
        raise InputError(field, "is not unpadded base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InputError(field, "is not unpadded base64url") from None


@dataclass(frozen=True, slots=True)
class AuditProof:
    """One audit-log entry and its RFC 9162 inclusion proof in the bundle's checkpoint."""

    index: int
    entry: bytes
    hashes: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "entry": b64url(self.entry),
            "hashes": [h.hex() for h in self.hashes],
        }


@dataclass(frozen=True, slots=True)
class BundleCredential:
    """An enrolled WebAuthn credential's public key, as enrolment stored it (COSE)."""

    credential_id: bytes
    user: str
    public_key_cose: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "credential_id": b64url(self.credential_id),
            "user": self.user,
            "public_key_cose": b64url(self.public_key_cose),
        }


@dataclass(frozen=True, slots=True)
class ServerAttestation:
    """A `totp_server_attested` approval's binding: the server's HMAC over the digest."""

    digest: str
    time: str
    mac: str

    def to_json(self) -> dict[str, Any]:
        return {"digest": self.digest, "time": self.time, "mac": self.mac}


@dataclass(frozen=True, slots=True)
class BundleApproval:
    """One approval and the proof it was logged: a WebAuthn assertion over the approval
    challenge made with `nonce`, or (binding `totp_server_attested`, weaker) the server's
    attestation; then the WebAuthn fields are empty."""

    approver: str
    credential_id: bytes
    authenticator_data: bytes
    client_data_json: bytes
    signature: bytes
    user_handle: bytes | None
    audit: AuditProof
    binding: str = BINDING_WEBAUTHN
    attestation: ServerAttestation | None = None
    nonce: bytes = b""  # WebAuthn: the server's one-time nonce in the signed challenge

    def to_json(self) -> dict[str, Any]:
        if self.attestation is not None:
            return {
                "approver": self.approver,
                "binding": self.binding,
                "attestation": self.attestation.to_json(),
                "audit": self.audit.to_json(),
            }
        return {
            "approver": self.approver,
            "binding": self.binding,
            "credential_id": b64url(self.credential_id),
            "nonce": b64url(self.nonce),
            "assertion": {
                "authenticator_data": b64url(self.authenticator_data),
                "client_data_json": b64url(self.client_data_json),
                "signature": b64url(self.signature),
                "user_handle": None if self.user_handle is None else b64url(self.user_handle),
            },
            "audit": self.audit.to_json(),
        }


@dataclass(frozen=True, slots=True)
class ApprovalBundle:
    withdrawal_id: str
    wallet_id: str
    chain: str
    network: str
    unsigned_tx: bytes
    intent: Mapping[str, Any]
    digest: bytes
    policy: Mapping[str, Any]
    approvals: tuple[BundleApproval, ...]
    credentials: tuple[BundleCredential, ...]
    checkpoint: str
    request_proof: AuditProof
    decision_proof: AuditProof
    descriptor: str | None = None  # Bitcoin: the wallet's output descriptor (xpubs only)
    expires_at: str = ""  # the approval expiry, as the withdrawal.decided entry records it

    def to_json(self) -> dict[str, Any]:
        withdrawal = {
            "id": self.withdrawal_id,
            "wallet": self.wallet_id,
            "chain": self.chain,
            "network": self.network,
            "expires_at": self.expires_at,
        }
        if self.descriptor is not None:
            withdrawal["descriptor"] = self.descriptor
        return {
            "format": BUNDLE_FORMAT,
            "version": BUNDLE_VERSION,
            "withdrawal": withdrawal,
            "unsigned_tx": self.unsigned_tx.hex(),
            "intent": dict(self.intent),
            "digest": self.digest.hex(),
            "policy": dict(self.policy),
            "approvals": [a.to_json() for a in self.approvals],
            "credentials": [c.to_json() for c in self.credentials],
            "audit": {
                "checkpoint": self.checkpoint,
                "request": self.request_proof.to_json(),
                "decision": self.decision_proof.to_json(),
            },
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())


def parse_bundle(raw: bytes | str | Mapping[str, Any]) -> ApprovalBundle:
    """Parse a bundle's shape, naming the first field that is missing or malformed."""
    if isinstance(raw, bytes | str):
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError("bundle", f"is not JSON: {exc}") from None
    else:
        data = raw
    doc = _obj(data, "bundle")
    if doc.get("format") != BUNDLE_FORMAT:
        raise InputError("bundle.format", f"must be {BUNDLE_FORMAT!r}")
    version = doc.get("version")
    if not isinstance(version, bool) and version in _REPLAYABLE_VERSIONS:
        raise InputError(
            "bundle.version",
            f"version {version} is refused: its approvals sign the transaction digest alone, "
            "so an approval of one withdrawal could count on another with the same digest. "
            f"Export the bundle again with this Kinko (version {BUNDLE_VERSION}, approvals "
            "bound to their withdrawal: docs/bundle.md); approvals given before the upgrade "
            "must be given again",
            code="bundle_version_refused",
        )
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise InputError(
            "bundle.version",
            f"{version!r} is not supported; this Kinko reads "
            + ", ".join(str(v) for v in READABLE_VERSIONS),
        )
    wd = _obj(doc.get("withdrawal"), "bundle.withdrawal")
    audit = _obj(doc.get("audit"), "bundle.audit")
    return ApprovalBundle(
        withdrawal_id=_str(wd, "id", "bundle.withdrawal"),
        wallet_id=_str(wd, "wallet", "bundle.withdrawal"),
        chain=_str(wd, "chain", "bundle.withdrawal"),
        network=_str(wd, "network", "bundle.withdrawal"),
        unsigned_tx=_hex(doc.get("unsigned_tx"), "bundle.unsigned_tx"),
        intent=_obj(doc.get("intent"), "bundle.intent"),
        digest=_hex(doc.get("digest"), "bundle.digest", length=32),
        policy=_obj(doc.get("policy"), "bundle.policy"),
        approvals=tuple(
            _approval(item, f"bundle.approvals[{i}]")
            for i, item in enumerate(_list(doc.get("approvals"), "bundle.approvals"))
        ),
        credentials=tuple(
            _credential(item, f"bundle.credentials[{i}]")
            for i, item in enumerate(_list(doc.get("credentials"), "bundle.credentials"))
        ),
        checkpoint=_str(audit, "checkpoint", "bundle.audit"),
        request_proof=_proof(audit.get("request"), "bundle.audit.request"),
        decision_proof=_proof(audit.get("decision"), "bundle.audit.decision"),
        descriptor=None
        if wd.get("descriptor") is None
        else _str(wd, "descriptor", "bundle.withdrawal"),
        expires_at=_str(wd, "expires_at", "bundle.withdrawal"),
    )


def _obj(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError(field, "must be a JSON object")
    return value


def _list(value: object, field: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise InputError(field, "must be a JSON array")
    return value


def _str(doc: Mapping[str, Any], key: str, where: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(f"{where}.{key}", "must be a non-empty string")
    return value


def _hex(value: object, field: str, *, length: int | None = None) -> bytes:
    if not isinstance(value, str) or value != value.lower():
        raise InputError(field, "must be a lower-case hex string")
    try:
        data = bytes.fromhex(value)
    except ValueError:
        raise InputError(field, "must be a lower-case hex string") from None
    if length is not None and len(data) != length:
        raise InputError(field, f"must be {length} bytes, got {len(data)}")
    return data


def _b64(doc: Mapping[str, Any], key: str, where: str) -> bytes:
    return unb64url(_str(doc, key, where), f"{where}.{key}")


def _proof(value: object, field: str) -> AuditProof:
    doc = _obj(value, field)
    index = doc.get("index")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InputError(f"{field}.index", "must be a non-negative integer")
    hashes = tuple(
        _hex(h, f"{field}.hashes[{i}]", length=32)
        for i, h in enumerate(_list(doc.get("hashes"), f"{field}.hashes"))
    )
    return AuditProof(index=index, entry=_b64(doc, "entry", field), hashes=hashes)


def _credential(value: object, field: str) -> BundleCredential:
    doc = _obj(value, field)
    return BundleCredential(
        credential_id=_b64(doc, "credential_id", field),
        user=_str(doc, "user", field),
        public_key_cose=_b64(doc, "public_key_cose", field),
    )


def _approval(value: object, field: str) -> BundleApproval:
    doc = _obj(value, field)
    binding = doc.get("binding")
    if binding not in (BINDING_WEBAUTHN, BINDING_TOTP):
        raise InputError(
            f"{field}.binding",
            f"must be {BINDING_WEBAUTHN!r} or {BINDING_TOTP!r}, got {binding!r}",
        )
    if binding == BINDING_TOTP:
        attestation = _obj(doc.get("attestation"), f"{field}.attestation")
        where = f"{field}.attestation"
        return BundleApproval(
            approver=_str(doc, "approver", field),
            credential_id=b"",
            authenticator_data=b"",
            client_data_json=b"",
            signature=b"",
            user_handle=None,
            audit=_proof(doc.get("audit"), f"{field}.audit"),
            binding=BINDING_TOTP,
            attestation=ServerAttestation(
                digest=_str(attestation, "digest", where),
                time=_str(attestation, "time", where),
                mac=_str(attestation, "mac", where),
            ),
        )
    assertion = _obj(doc.get("assertion"), f"{field}.assertion")
    where = f"{field}.assertion"
    handle = assertion.get("user_handle")
    return BundleApproval(
        approver=_str(doc, "approver", field),
        credential_id=_b64(doc, "credential_id", field),
        authenticator_data=_b64(assertion, "authenticator_data", where),
        client_data_json=_b64(assertion, "client_data_json", where),
        signature=_b64(assertion, "signature", where),
        user_handle=None if handle is None else _b64(assertion, "user_handle", where),
        audit=_proof(doc.get("audit"), f"{field}.audit"),
        nonce=_nonce(doc, field),
    )


def _nonce(doc: Mapping[str, Any], field: str) -> bytes:
    nonce = _b64(doc, "nonce", field)
    if len(nonce) != NONCE_BYTES:
        raise InputError(f"{field}.nonce", f"must be {NONCE_BYTES} bytes, got {len(nonce)}")
    return nonce
