"""WebAuthn ceremonies (W3C WebAuthn Level 2 §7.1, §7.2) on top of py_webauthn.

Pure: challenges, the relying party and the stored credential come in; a result or an
`AuthenticationError` comes out. The sign counter is checked here rather than inside
py_webauthn so that a genuine signature over a fresh challenge whose counter did not
advance is reported as a suspected clone (§6.1.1), not as a generic failure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from kinko.core.errors import AuthenticationError, InputError
from kinko.identity.model import WebAuthnCredential


@dataclass(frozen=True, slots=True)
class RelyingParty:
    rp_id: str
    name: str
    origin: str


@dataclass(frozen=True, slots=True)
class Registered:
    credential_id: bytes
    public_key_cose: bytes
    sign_count: int
    user_verified: bool


@dataclass(frozen=True, slots=True)
class Asserted:
    credential_id: bytes
    new_sign_count: int
    user_verified: bool


def registration_options(
    rp: RelyingParty,
    *,
    user_handle: bytes,
    username: str,
    challenge: bytes,
    require_uv: bool,
    exclude: list[bytes],
) -> dict[str, Any]:
    options = generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=rp.name,
        user_name=username,
        user_id=user_handle,
        challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.REQUIRED
            if require_uv
            else UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=c) for c in exclude],
    )
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result


def authentication_options(
    rp: RelyingParty, *, challenge: bytes, allow: list[bytes], require_uv: bool
) -> dict[str, Any]:
    options = generate_authentication_options(
        rp_id=rp.rp_id,
        challenge=challenge,
        allow_credentials=[PublicKeyCredentialDescriptor(id=c) for c in allow],
        user_verification=UserVerificationRequirement.REQUIRED
        if require_uv
        else UserVerificationRequirement.PREFERRED,
    )
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result


def credential_id_of(response: object) -> bytes:
    """The raw credential id a response names, or `InputError` if it names none."""
    if not isinstance(response, dict) or not isinstance(response.get("rawId"), str):
        raise InputError("credential", "must be a WebAuthn response object with a rawId")
    try:
        return base64url_to_bytes(response["rawId"])
    except (ValueError, TypeError):
        raise InputError("credential.rawId", "is not base64url") from None


def verify_registration(
    rp: RelyingParty, response: object, *, challenge: bytes, require_uv: bool
) -> Registered:
    """§7.1 Registering a new credential; "none" attestation is accepted (no AAGUID trust)."""
    if not isinstance(response, dict):
        raise InputError("credential", "must be a RegistrationResponseJSON object")
    try:
        verified = verify_registration_response(
            credential=response,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
            require_user_verification=require_uv,
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
        if require_uv and "user verification" in str(exc).lower():
            raise AuthenticationError(
                "this authenticator did not verify you (no PIN, fingerprint or face check), "
                "and your roles need one that does: set a PIN on the security key, or use a "
                "passkey",
                code="webauthn_uv_required",
            ) from None
        raise AuthenticationError(
            f"WebAuthn registration refused: {exc}", code="webauthn_refused"
        ) from None
    return Registered(
        credential_id=verified.credential_id,
        public_key_cose=verified.credential_public_key,
        sign_count=verified.sign_count,
        user_verified=verified.user_verified,
    )


def verify_assertion(
    rp: RelyingParty,
    response: object,
    *,
    challenge: bytes,
    credential: WebAuthnCredential,
    require_uv: bool,
) -> Asserted:
    """§7.2 Verifying an authentication assertion against one enrolled credential.

    The caller must make sure `challenge` is fresh and single-use: that is what defeats
    replay. Raises `AuthenticationError`; code ``webauthn_clone_suspected`` when the
    signature is genuine but the counter did not advance (§6.1.1).
    """
    if credential_id_of(response) != credential.credential_id:
        raise AuthenticationError("WebAuthn assertion is for another credential")
    try:
        verified = verify_authentication_response(
            credential=response,  # type: ignore[arg-type]
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
            credential_public_key=credential.public_key_cose,
            credential_current_sign_count=0,
            require_user_verification=require_uv,
        )
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as exc:
        raise AuthenticationError(
            f"WebAuthn assertion refused: {exc}", code="webauthn_refused"
        ) from None
    new, old = verified.new_sign_count, credential.sign_count
    # §6.1.1: a counter that is in use must strictly increase.
    if (new > 0 or old > 0) and new <= old:
        raise AuthenticationError(
            f"WebAuthn sign count went from {old} to {new}: authenticator may be cloned",
            code="webauthn_clone_suspected",
        )
    return Asserted(
        credential_id=verified.credential_id,
        new_sign_count=new,
        user_verified=verified.user_verified,
    )
