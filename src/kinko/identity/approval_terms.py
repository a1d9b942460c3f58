"""What a four-eyes approval's step-up authorises: one person's vote on one thing, as shown.

The second pair of eyes on a privileged step (a role or custody proposal, lifting a
freeze, an address-book entry, releasing a monitor response) acts with a fresh WebAuthn
assertion over a challenge that commits to exactly that vote (`kinko.identity.binding`):

    {"approver": the voter's user id, "content": hex SHA-256 of the RFC 8785 canonical
     JSON of what is being approved, as its owner describes it, "kind": ApprovalKind,
     "subject": the proposal's (or response's) id, "nonce": ..., "purpose": "approve",
     "type": "kinko.four-eyes-approval.v1"}

`content` is what the approver was shown: a proposal whose payload changed after the
challenge was issued, an assertion made for a colleague's vote, or one made for another
proposal are all refused (``step_up_mismatch``). Pure: no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from kinko.core.canonical import canonical_json
from kinko.core.errors import InputError


class ApprovalKind(StrEnum):
    """The four-eyes steps whose second vote needs a bound step-up."""

    PROPOSAL = "proposal"  # identity's: roles, people, custody, lists, freezes, addresses
    RESPONSE_RELEASE = "response_release"

    @property
    def permission(self) -> str | None:
        """The permission a voter holds beside the owner's rules (None: the rules alone
        decide who may approve, e.g. an identity proposal's kind says)."""
        return _VOTE_PERMISSIONS.get(self)

    @classmethod
    def parse(cls, text: str, field: str = "kind") -> ApprovalKind:
        try:
            return cls(text.replace("-", "_"))
        except ValueError:
            names = ", ".join(k.value for k in cls)
            raise InputError(field, f"is not an approval kind: use one of {names}") from None


_VOTE_PERMISSIONS = {
    ApprovalKind.RESPONSE_RELEASE: "responses:release",
}


def content_digest(content: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the canonical JSON of what is being approved."""
    return hashlib.sha256(canonical_json(dict(content))).hexdigest()


@dataclass(frozen=True, slots=True)
class ApprovalTerms:
    """One vote: who approves what, and the digest of what they were shown."""

    TYPE: ClassVar[str] = "kinko.four-eyes-approval.v1"
    PURPOSE: ClassVar[str] = "approve"
    FIELDS: ClassVar[tuple[str, ...]] = ("kind", "subject", "approver", "content")
    NOUN: ClassVar[str] = "approval"

    kind: ApprovalKind
    subject: str
    approver: str
    content: str

    @classmethod
    def of(
        cls, kind: ApprovalKind, subject: str, approver: str, content: Mapping[str, Any]
    ) -> ApprovalTerms:
        """`approver` as a user id (``user:`` prefix or not), `content` digested."""
        return cls(kind, subject, approver.removeprefix("user:"), content_digest(content))

    def fields(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "subject": self.subject,
            "approver": self.approver,
            "content": self.content,
        }
