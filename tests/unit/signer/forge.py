"""Build real approval bundles without a database, for the signer's pure tests.

Everything is real: an EIP-1559 transaction from the Ethereum adapter, software WebAuthn
authenticators, an RFC 9162 tree of canonical audit entries and a checkpoint signed with
an Ed25519 note key. Tests then alter one thing, as an attacker would.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from kinko.audit.checkpoint import Checkpoint, sign_checkpoint
from kinko.audit.memtree import MemoryTree
from kinko.audit.note import Signer, generate_signer
from kinko.chains.ethereum.adapter import EthereumAdapter, Fees, Transfer
from kinko.core.canonical import canonical_json
from kinko.core.clock import isoformat
from kinko.identity.softauthn import SoftAuthenticator
from kinko.signer.binding import approval_challenge
from kinko.signer.bundle import (
    ACTION_APPROVAL,
    ACTION_DECIDED,
    ACTION_REQUESTED,
    ApprovalBundle,
    AuditProof,
    BundleApproval,
    BundleCredential,
    b64url,
    unb64url,
)

RP_ID = "localhost"
ORIGIN = "http://localhost:8000"
ORIGIN_NAME = "kinko.example/audit"
NOW = datetime.fromisoformat("2026-11-21T09:00:00+00:00")
HOT = "0x" + "11" * 20
DEST = "0x" + "22" * 20
ATTACKER = "0x" + "66" * 20
TOKEN = "0x" + "33" * 20
FEES = Fees(max_fee_per_gas=30 * 10**9, max_priority_fee_per_gas=10**9, gas_limit=21000)


def adapter() -> EthereumAdapter:
    return EthereumAdapter("devnet")


def eth_transfer(destination: str = DEST, amount: int = 10**18, nonce: int = 0) -> bytes:
    return adapter().build(
        Transfer(source=HOT, destination=destination, amount=amount, nonce=nonce, fees=FEES)
    )


@dataclass
class Approver:
    user: str
    roles: list[str]
    authenticator: SoftAuthenticator = field(
        default_factory=lambda: SoftAuthenticator.generate(RP_ID)
    )

    def credential(self) -> BundleCredential:
        return BundleCredential(
            self.authenticator.credential_id, self.user, self.authenticator.public_key_cose
        )


@dataclass
class Forge:
    """A withdrawal's audit trail, ready to be exported as a bundle."""

    unsigned_tx: bytes = field(default_factory=eth_transfer)
    requester: str = "user:alice"
    required: int = 2
    outcome: str = "require_approvals"
    required_roles: dict[str, int] = field(default_factory=dict)
    eligible: list[str] = field(default_factory=lambda: ["approver", "senior_approver"])
    skey: str = field(default_factory=lambda: generate_signer(ORIGIN_NAME)[0])
    withdrawal_id: str = "wd_test"
    expires_at: datetime = NOW + timedelta(hours=1)
    entries: list[bytes] = field(default_factory=list)

    @property
    def vkey(self) -> str:
        return Signer.parse(self.skey).verifier().text()

    @property
    def digest(self) -> bytes:
        return adapter().signing_digest(self.unsigned_tx)

    def policy(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "policy_version": "test-1",
            "policy_digest": "00" * 32,
            "required_approvals": self.required,
            "required_roles": dict(self.required_roles),
            "fired": [],
            "evaluated_at": isoformat(NOW),
        }

    def _append(self, actor: str, action: str, details: dict[str, Any]) -> int:
        index = len(self.entries)
        self.entries.append(
            canonical_json(
                {
                    "sequence": index,
                    "time": isoformat(NOW),
                    "actor": actor,
                    "action": action,
                    "subject": self.withdrawal_id,
                    "details": details,
                }
            )
        )
        return index

    def start(self) -> tuple[int, int]:
        request = self._append(self.requester, ACTION_REQUESTED, {"requester": self.requester})
        decided = self._append(
            "system:withdrawals",
            ACTION_DECIDED,
            {
                "wallet": "wal_hot",
                "digest": self.digest.hex(),
                "policy": self.policy(),
                "eligible_roles": self.eligible,
                "expires_at": isoformat(self.expires_at),
            },
        )
        return request, decided

    def challenge(self, approver: Approver, nonce: bytes, *, digest: bytes | None = None) -> bytes:
        """The approval challenge Kinko would issue (kinko.signer.binding)."""
        return approval_challenge(
            withdrawal_id=self.withdrawal_id,
            digest=digest or self.digest,
            expires_at=isoformat(self.expires_at),
            nonce=nonce,
            approver=approver.user,
        )

    def approve(
        self,
        approver: Approver,
        *,
        challenge: bytes | None = None,
        logged_digest: bytes | None = None,
        nonce: bytes | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """The approver's authenticator signs `challenge` (default: the approval challenge
        for this withdrawal with a fresh nonce, which the approval entry logs)."""
        nonce = nonce or secrets.token_bytes(32)
        signed = challenge or self.challenge(approver, nonce)
        response = approver.authenticator.assert_(challenge=signed, origin=ORIGIN)
        response["nonce"] = b64url(nonce)  # carried beside the assertion, as the bundle does
        index = self._append(
            approver.user,
            ACTION_APPROVAL,
            {
                "approver": approver.user,
                "binding": "webauthn",
                "credential_id": b64url(approver.authenticator.credential_id),
                "credential_key_sha256": hashlib.sha256(
                    approver.authenticator.public_key_cose
                ).hexdigest(),
                "digest": (logged_digest or self.digest).hex(),
                "roles": approver.roles,
                "nonce": b64url(nonce),
                "expires_at": isoformat(self.expires_at),
                "challenge": b64url(signed),
            },
        )
        return index, response

    def bundle(
        self,
        request: int,
        decided: int,
        approvals: list[tuple[Approver, int, dict[str, Any]]],
        *,
        skey: str | None = None,
    ) -> ApprovalBundle:
        tree = MemoryTree()
        tree.extend(self.entries)
        size = tree.size
        note = sign_checkpoint(
            Checkpoint(ORIGIN_NAME, size, tree.root(size)), Signer.parse(skey or self.skey)
        )

        def proof(index: int) -> AuditProof:
            return AuditProof(index, self.entries[index], tuple(tree.inclusion_proof(index, size)))

        items = []
        for approver, index, response in approvals:
            r = response["response"]
            items.append(
                BundleApproval(
                    approver=approver.user,
                    credential_id=approver.authenticator.credential_id,
                    authenticator_data=unb64url(r["authenticatorData"], "a"),
                    client_data_json=unb64url(r["clientDataJSON"], "c"),
                    signature=unb64url(r["signature"], "s"),
                    user_handle=unb64url(r["userHandle"], "u"),
                    audit=proof(index),
                    nonce=unb64url(response["nonce"], "n"),
                )
            )
        credentials = {a.authenticator.credential_id: a.credential() for a, _, _ in approvals}
        return ApprovalBundle(
            withdrawal_id=self.withdrawal_id,
            wallet_id="wal_hot",
            chain="ethereum",
            network="devnet",
            unsigned_tx=self.unsigned_tx,
            intent=adapter().decode(self.unsigned_tx).to_json(),
            digest=self.digest,
            policy=self.policy(),
            approvals=tuple(items),
            credentials=tuple(credentials.values()),
            checkpoint=note,
            request_proof=proof(request),
            decision_proof=proof(decided),
            expires_at=isoformat(self.expires_at),
        )


def with_tx(bundle: ApprovalBundle, unsigned_tx: bytes, *, consistent: bool) -> ApprovalBundle:
    """Swap the transaction; `consistent` also rewrites the bundle's intent and digest."""
    if not consistent:
        return replace(bundle, unsigned_tx=unsigned_tx)
    a = adapter()
    return replace(
        bundle,
        unsigned_tx=unsigned_tx,
        intent=a.decode(unsigned_tx).to_json(),
        digest=a.signing_digest(unsigned_tx),
    )
