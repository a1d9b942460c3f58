"""W3C WebAuthn Level 3 §16.2 test vector (tests/vectors/webauthn_l3_none_es256.json).

Checks our ceremonies (kinko.identity.webauthn over py_webauthn) accept the
specification's own registration and assertion, refuse them when altered, and that the
software authenticator encodes a COSE key byte for byte as in the vector.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from kinko.core.errors import AuthenticationError
from kinko.identity.model import UserId, WebAuthnCredential
from kinko.identity.softauthn import b64url, cose_es256_key
from kinko.identity.webauthn import RelyingParty, verify_assertion, verify_registration

V = json.loads(
    (Path(__file__).parents[2] / "vectors" / "webauthn_l3_none_es256.json").read_text("utf-8")
)
RP = RelyingParty(V["rp_id"], "Example", V["origin"])
CRED_ID = bytes.fromhex(V["credential_id"])


def _h(name: str, part: str) -> bytes:
    return bytes.fromhex(V[part][name])


def _registration() -> dict[str, Any]:
    return {
        "id": b64url(CRED_ID),
        "rawId": b64url(CRED_ID),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url(_h("client_data_json", "registration")),
            "attestationObject": b64url(_h("attestation_object", "registration")),
        },
        "clientExtensionResults": {},
    }


def _assertion(signature: bytes | None = None) -> dict[str, Any]:
    return {
        "id": b64url(CRED_ID),
        "rawId": b64url(CRED_ID),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url(_h("client_data_json", "authentication")),
            "authenticatorData": b64url(_h("authenticator_data", "authentication")),
            "signature": b64url(signature or _h("signature", "authentication")),
        },
        "clientExtensionResults": {},
    }


def _spec_cose_key() -> bytes:
    x, y = (int(V[f"credential_public_key_{c}"], 16) for c in "xy")
    return cose_es256_key(ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key())


def test_registration_vector_is_accepted_and_yields_the_spec_key() -> None:
    reg = verify_registration(
        RP, _registration(), challenge=_h("challenge", "registration"), require_uv=False
    )
    assert reg.credential_id == CRED_ID
    assert reg.sign_count == 0
    # Our COSE encoding of the vector's public key is byte-identical to the vector's.
    assert reg.public_key_cose == _spec_cose_key()
    assert _spec_cose_key() in _h("attestation_object", "registration")


def test_registration_vector_fails_with_another_challenge_or_required_uv() -> None:
    with pytest.raises(AuthenticationError):
        verify_registration(RP, _registration(), challenge=b"\x00" * 32, require_uv=False)
    with pytest.raises(AuthenticationError):  # the vector's flags carry no UV bit
        verify_registration(
            RP, _registration(), challenge=_h("challenge", "registration"), require_uv=True
        )


def _credential() -> WebAuthnCredential:
    return WebAuthnCredential(CRED_ID, UserId("ada"), _spec_cose_key(), 0)


def test_authentication_vector_is_accepted() -> None:
    result = verify_assertion(
        RP,
        _assertion(),
        challenge=_h("challenge", "authentication"),
        credential=_credential(),
        require_uv=False,
    )
    assert result.credential_id == CRED_ID and result.new_sign_count == 0


def test_authentication_vector_with_one_bit_changed_is_refused() -> None:
    signature = bytearray(_h("signature", "authentication"))
    signature[-1] ^= 1
    with pytest.raises(AuthenticationError, match="signature"):
        verify_assertion(
            RP,
            _assertion(bytes(signature)),
            challenge=_h("challenge", "authentication"),
            credential=_credential(),
            require_uv=False,
        )


def test_authentication_vector_for_another_origin_is_refused() -> None:
    other = RelyingParty(V["rp_id"], "Example", "https://evil.example")
    with pytest.raises(AuthenticationError, match="origin"):
        verify_assertion(
            other,
            _assertion(),
            challenge=_h("challenge", "authentication"),
            credential=_credential(),
            require_uv=False,
        )
