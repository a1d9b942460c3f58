"""Pure approval rules shared by the withdrawal service and the signer.

Both sides run the same code: the service to decide when a withdrawal is approved, the
signer to re-check it independently from the bundle.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from webauthn import verify_authentication_response
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidCBORData

from kinko.core.errors import ApprovalError, IntegrityError
from kinko.signer.bundle import b64url


def verify_approval_assertion(
    response: Mapping[str, Any],
    *,
    challenge: bytes,
    withdrawal_id: str,
    digest: bytes,
    public_key_cose: bytes,
    rp_id: str,
    origin: str,
    who: str,
) -> int:
    """WebAuthn §7.2 via py_webauthn with `challenge` = the approval challenge
    (`kinko.signer.binding.approval_challenge`: withdrawal, digest, expiry, nonce,
    approver); returns the authenticator's new signature counter (§6.1.1) for the caller
    to record.

    User verification is required: an approval moves money.
    """
    try:
        verified = verify_authentication_response(
            credential=dict(response),
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=public_key_cose,
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except (InvalidAuthenticationResponse, InvalidCBORData, ValueError, KeyError, TypeError) as exc:
        raise ApprovalError(
            f"{who}: the WebAuthn assertion does not verify over the approval challenge of "
            f"withdrawal {withdrawal_id} (digest {digest.hex()}): {exc}",
            code="assertion_invalid",
        ) from None
    return int(verified.new_sign_count)


def assertion_json(
    *,
    credential_id: bytes,
    authenticator_data: bytes,
    client_data_json: bytes,
    signature: bytes,
    user_handle: bytes | None,
) -> dict[str, Any]:
    """An AuthenticationResponseJSON from its parts (as the bundle stores them)."""
    response: dict[str, Any] = {
        "authenticatorData": b64url(authenticator_data),
        "clientDataJSON": b64url(client_data_json),
        "signature": b64url(signature),
    }
    if user_handle is not None:
        response["userHandle"] = b64url(user_handle)
    return {
        "id": b64url(credential_id),
        "rawId": b64url(credential_id),
        "type": "public-key",
        "response": response,
        "clientExtensionResults": {},
    }


def check_eligible(approver: str, roles: Collection[str], eligible: Collection[str]) -> None:
    if not eligible:
        raise ApprovalError("no roles are eligible to approve for this wallet: refusing")
    if not set(roles) & set(eligible):
        raise ApprovalError(
            f"{approver} holds none of the roles eligible for this wallet "
            f"({', '.join(sorted(eligible))})",
            code="approver_ineligible",
        )


def quorum_shortfall(
    required: int, required_roles: Mapping[str, int], roles: Mapping[str, Collection[str]]
) -> str | None:
    """None when distinct approvers `roles` (approver -> roles) meet the requirement, else
    why not, e.g. "approved by 1/2 required approvers"."""
    if required < 1 and required_roles:
        return "the decision names roles but no approvals: refusing"
    if len(roles) < required:
        return f"approved by {len(roles)}/{required} required approvers"
    for role, count in sorted(required_roles.items()):
        have = sum(1 for held in roles.values() if role in held)
        if have < count:
            return f"approved by {have}/{count} required approvers with role {role}"
    return None


def check_logged_quorum(decision: Mapping[str, Any], roles: Mapping[str, frozenset[str]]) -> int:
    """The signer's quorum check against the proven `withdrawal.decided` entry's details:
    the outcome allows signing, every approver holds an eligible role, and the distinct
    approvers (`roles`: approver -> roles the log recorded) meet the requirement.
    Returns the number of approvals required."""
    policy = decision.get("policy")
    if not isinstance(policy, dict):
        raise IntegrityError("the decision entry has no policy decision")
    required = policy.get("required_approvals")
    required_roles = policy.get("required_roles")
    eligible = decision.get("eligible_roles")
    if not isinstance(required, int) or not isinstance(required_roles, dict):
        raise IntegrityError("the decision entry has no approval requirement")
    outcome = policy.get("outcome")
    if outcome not in ("allow", "require_approvals"):
        raise ApprovalError(
            f"the policy decided {outcome!r} for this withdrawal; only allowed or approved "
            "withdrawals are signed",
            code="policy_refused",
        )
    if outcome == "require_approvals" and required < 1:
        raise IntegrityError("the decision requires approvals but names no quorum")
    if not isinstance(eligible, list) or not eligible:
        raise IntegrityError("the decision entry names no eligible roles: refusing (fail closed)")
    for approver, held in roles.items():
        check_eligible(approver, held, [str(e) for e in eligible])
    shortfall = quorum_shortfall(
        required, {str(k): int(v) for k, v in required_roles.items()}, roles
    )
    if shortfall is not None:
        raise ApprovalError(shortfall, code="quorum_not_met")
    return required
