"""The server-side binding of a TOTP approval to a digest (`totp_server_attested`).

A TOTP code proves only that the approver was present; it signs nothing. So the server,
after verifying the code, binds the approval with an HMAC-SHA256 under the data
directory's secret key over a domain-separated, length-prefixed message:
"kinko/totp-approval/v1" ‖ withdrawal id ‖ digest ‖ approver ‖ time.

This is weaker than WebAuthn: whoever holds the server's secret key can make one. Only
the online signer (which has the key) can verify it; the offline signer cannot.
"""

from __future__ import annotations

import hashlib
import hmac

BINDING_WEBAUTHN = "webauthn"
BINDING_TOTP = "totp_server_attested"
BINDINGS = (BINDING_WEBAUTHN, BINDING_TOTP)
_DOMAIN = b"kinko/totp-approval/v1"


def _message(withdrawal_id: str, digest_hex: str, approver: str, time: str) -> bytes:
    parts = [_DOMAIN] + [p.encode("utf-8") for p in (withdrawal_id, digest_hex, approver, time)]
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def attest(key: bytes, *, withdrawal_id: str, digest_hex: str, approver: str, time: str) -> str:
    """The attestation MAC (lower-case hex)."""
    return hmac.new(
        key, _message(withdrawal_id, digest_hex, approver, time), hashlib.sha256
    ).hexdigest()


def attestation_valid(
    key: bytes, mac: str, *, withdrawal_id: str, digest_hex: str, approver: str, time: str
) -> bool:
    expected = attest(
        key, withdrawal_id=withdrawal_id, digest_hex=digest_hex, approver=approver, time=time
    )
    return hmac.compare_digest(expected.encode("ascii"), mac.encode("utf-8"))
