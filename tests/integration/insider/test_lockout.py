"""Issue 13, attack 7, replayed through the real API on SQLite and PostgreSQL: garbage
WebAuthn sign-ins in colleagues' names lock nobody out. The sign-ins are refused (401,
then 429 with a growing Retry-After), each person's own security key still gets through,
and spraying the approvers and admins from one workstation raises the credential-stuffing
alert naming that address (the sign-ins are anonymous: no person to name). A single
account hammered is throttled, not alerted: anonymous noise must not flood the monitor.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from webauthn.helpers import base64url_to_bytes

from kinko.context import Context
from kinko.identity.softauthn import SoftAuthenticator
from tests.integration.insider.steps import INSIDER_IP, Watch
from tests.support.alerts import evidence
from tests.support.identity import make_user


def sign_in(api: TestClient, ctx: Context, username: str, key: SoftAuthenticator) -> Any:
    begun = api.post("/v1/auth/login/webauthn/begin", json={"username": username}).json()
    challenge = base64url_to_bytes(begun["options"]["challenge"])
    credential = key.assert_(challenge=challenge, origin=ctx.settings.webauthn_origin)
    body = {"challenge_id": begun["challenge_id"], "credential": credential}
    return api.post("/v1/auth/login/webauthn/finish", json=body)


def test_7_garbage_sign_ins_lock_nobody_out(ctx: Context, api: TestClient, watch: Watch) -> None:
    colleagues = {
        f"{role}{i}": make_user(ctx, f"{role}{i}", [role])[1]
        for role in ("approver", "security_admin")
        for i in range(5)
    }
    stranger = SoftAuthenticator.generate(ctx.settings.webauthn_rp_id)
    for name in colleagues:
        garbage = sign_in(api, ctx, name, stranger)
        assert (garbage.status_code, garbage.json()["error"]) == (401, "unauthenticated")
    [stuffing] = evidence(ctx, "kinko-credential-stuffing")
    assert stuffing["source_ip"] == INSIDER_IP
    # One colleague hammered: throttled with growing delays, never locked out.
    answers = [sign_in(api, ctx, "approver0", stranger) for _ in range(7)]
    assert [a.json()["error"] for a in answers] == ["unauthenticated"] * 3 + ["rate_limited"] * 4
    assert [int(a.headers["Retry-After"]) for a in answers[3:]] == [1, 2, 4, 8]
    key = colleagues["approver0"]
    assert key is not None
    genuine = sign_in(api, ctx, "approver0", key)
    assert genuine.status_code == 200 and genuine.json()["username"] == "approver0"
    watch.quiet()  # anonymous refusals are not the insider-refused rule's
