"""The software authenticator produces what the WebAuthn spec and py_webauthn expect."""

from __future__ import annotations

import base64
import hashlib
import json

import cbor2

from kinko.identity.model import UserId, WebAuthnCredential
from kinko.identity.softauthn import FLAG_AT, FLAG_UP, FLAG_UV, SoftAuthenticator
from kinko.identity.webauthn import RelyingParty, verify_assertion, verify_registration

RP = RelyingParty("kinko.example", "Kinko", "https://kinko.example")


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_registration_layout_follows_webauthn_6_1() -> None:
    auth = SoftAuthenticator.generate(RP.rp_id)
    response = auth.register(challenge=b"c" * 32, origin=RP.origin)
    attestation = cbor2.loads(_b64(response["response"]["attestationObject"]))
    assert attestation["fmt"] == "none" and attestation["attStmt"] == {}
    data = attestation["authData"]
    assert data[:32] == hashlib.sha256(b"kinko.example").digest()
    assert data[32] == FLAG_UP | FLAG_UV | FLAG_AT
    assert int.from_bytes(data[33:37], "big") == 0
    cred_len = int.from_bytes(data[53:55], "big")
    assert data[55 : 55 + cred_len] == auth.credential_id
    assert data[55 + cred_len :] == auth.public_key_cose
    client = json.loads(_b64(response["response"]["clientDataJSON"]))
    assert client["type"] == "webauthn.create" and client["origin"] == RP.origin


def test_py_webauthn_accepts_registration_and_assertions_with_rising_counter() -> None:
    auth = SoftAuthenticator.generate(RP.rp_id)
    reg = verify_registration(
        RP,
        auth.register(challenge=b"r" * 32, origin=RP.origin),
        challenge=b"r" * 32,
        require_uv=True,
    )
    cred = WebAuthnCredential(reg.credential_id, UserId("u"), reg.public_key_cose, reg.sign_count)
    for expected in (1, 2):
        result = verify_assertion(
            RP,
            auth.assert_(challenge=b"a" * 32, origin=RP.origin),
            challenge=b"a" * 32,
            credential=cred,
            require_uv=True,
        )
        assert result.new_sign_count == expected and result.user_verified
        cred = WebAuthnCredential(cred.credential_id, cred.user_id, cred.public_key_cose, expected)


def test_tampered_signature_is_refused() -> None:
    import pytest

    from kinko.core.errors import AuthenticationError

    auth = SoftAuthenticator.generate(RP.rp_id)
    reg = verify_registration(
        RP,
        auth.register(challenge=b"r" * 32, origin=RP.origin),
        challenge=b"r" * 32,
        require_uv=True,
    )
    cred = WebAuthnCredential(reg.credential_id, UserId("u"), reg.public_key_cose, 0)
    response = auth.assert_(challenge=b"a" * 32, origin=RP.origin)
    other = SoftAuthenticator.generate(RP.rp_id).assert_(challenge=b"a" * 32, origin=RP.origin)
    response["response"]["signature"] = other["response"]["signature"]
    with pytest.raises(AuthenticationError, match="signature"):
        verify_assertion(RP, response, challenge=b"a" * 32, credential=cred, require_uv=True)
