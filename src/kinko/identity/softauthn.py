"""A software WebAuthn authenticator for tests, the demo and offline approvals.

It plays the part of both the authenticator and the browser: it builds the
authenticator data (WebAuthn Level 2 §6.1), the client data JSON (§5.8.1), a "none"
attestation object (§8.7) and an ES256 assertion signature (§6.3.3), and returns the
JSON a browser's ``PublicKeyCredential.toJSON()`` sends, with base64url fields.

It is *not* a security device: its private key lives in process memory. Never enrol
one for a real person.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

# §6.1 authenticator data flags.
FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40
# RFC 9053 §2.1 / §7.1: COSE key type EC2, algorithm ES256, curve P-256.
COSE_KTY_EC2 = 2
COSE_ALG_ES256 = -7
COSE_CRV_P256 = 1
ZERO_AAGUID = bytes(16)


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 4648 §5), as WebAuthn JSON uses."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def cose_es256_key(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """A P-256 public key as a COSE_Key map (RFC 9053 §7.1.1), CBOR-encoded.

    Keys in the order WebAuthn authenticators emit them (kty, alg, crv, x, y).
    """
    numbers = public_key.public_numbers()
    return bytes(
        cbor2.dumps(
            {
                1: COSE_KTY_EC2,
                3: COSE_ALG_ES256,
                -1: COSE_CRV_P256,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
    )


class SoftAuthenticator:
    """One P-256 credential scoped to one relying party id, with a signature counter."""

    def __init__(
        self, rp_id: str, private_key: ec.EllipticCurvePrivateKey, credential_id: bytes
    ) -> None:
        self.rp_id = rp_id
        self._key = private_key
        self.credential_id = credential_id
        self.sign_count = 0
        # False: the authenticator reports signature counter 0 on every assertion, as
        # synced passkeys do (WebAuthn L3 §6.1.1); nothing then tells a replay apart.
        self.counter_in_use = True
        self.user_handle: bytes = secrets.token_bytes(16)

    @classmethod
    def generate(cls, rp_id: str) -> SoftAuthenticator:
        return cls(rp_id, ec.generate_private_key(ec.SECP256R1()), secrets.token_bytes(32))

    def clone(self) -> SoftAuthenticator:
        """A copy sharing the key and the counter value: models a cloned authenticator."""
        twin = SoftAuthenticator(self.rp_id, self._key, self.credential_id)
        twin.sign_count = self.sign_count
        twin.counter_in_use = self.counter_in_use
        twin.user_handle = self.user_handle
        return twin

    @property
    def public_key_cose(self) -> bytes:
        return cose_es256_key(self._key.public_key())

    def _auth_data(self, rp_id: str, flags: int, attested: bytes = b"") -> bytes:
        # §6.1: rpIdHash (32) || flags (1) || signCount (4, big-endian) || attestedCredentialData
        rp_id_hash = hashlib.sha256(rp_id.encode("utf-8")).digest()
        return rp_id_hash + bytes([flags]) + struct.pack(">I", self.sign_count) + attested

    @staticmethod
    def _client_data(kind: str, challenge: bytes, origin: str) -> bytes:
        # §5.8.1 CollectedClientData, serialised as a browser does (§5.8.1.1).
        return json.dumps(
            {
                "type": kind,
                "challenge": b64url(challenge),
                "origin": origin,
                "crossOrigin": False,
            },
            separators=(",", ":"),
        ).encode("utf-8")

    @staticmethod
    def _flags(user_present: bool, user_verified: bool) -> int:
        return (FLAG_UP if user_present else 0) | (FLAG_UV if user_verified else 0)

    def register(
        self,
        *,
        challenge: bytes,
        origin: str,
        user_verified: bool = True,
        user_present: bool = True,
        rp_id: str | None = None,
    ) -> dict[str, Any]:
        """Answer ``navigator.credentials.create()``: a RegistrationResponseJSON."""
        # §6.5.1 attested credential data: aaguid || credentialIdLength (2) || id || key
        attested = (
            ZERO_AAGUID
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self.public_key_cose
        )
        flags = self._flags(user_present, user_verified) | FLAG_AT
        auth_data = self._auth_data(rp_id or self.rp_id, flags, attested)
        # §8.7 "none" attestation: empty statement.
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", challenge, origin)
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "cross-platform",
        }

    def assert_(
        self,
        *,
        challenge: bytes,
        origin: str,
        user_verified: bool = True,
        user_present: bool = True,
        rp_id: str | None = None,
    ) -> dict[str, Any]:
        """Answer ``navigator.credentials.get()``: an AuthenticationResponseJSON.

        Each call increments the signature counter first, as §6.1.1 describes (unless
        `counter_in_use` is off: then it stays 0).
        """
        if self.counter_in_use:
            self.sign_count += 1
        auth_data = self._auth_data(rp_id or self.rp_id, self._flags(user_present, user_verified))
        client_data = self._client_data("webauthn.get", challenge, origin)
        # §6.3.3 step 11: sign authenticatorData || SHA-256(clientDataJSON).
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self._key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(self.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "cross-platform",
        }
