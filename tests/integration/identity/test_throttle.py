"""Lockout without denial of service (issue #13, attack 7), on both databases.

Garbage WebAuthn sign-ins for someone's name slow down the source that sends them (and
guessable factors for that account) with growing delays; they never keep that person's
valid assertion out, from another address or from the same one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from webauthn.helpers import base64url_to_bytes

from kinko.api.app import create_app
from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import AuthenticationError, RateLimited
from kinko.identity.service import IdentityService
from kinko.identity.softauthn import SoftAuthenticator
from kinko.identity.throttle import DEFAULT_POLICY
from tests.support.identity import make_user

ATTACKER = "203.0.113.66"
ELSEWHERE = "198.51.100.20"


def garbage(ctx: Context, username: str, ip: str) -> None:
    """A sign-in attempt for `username` with an authenticator nobody enrolled."""
    login = IdentityService(ctx).login
    challenge_id, options = login.begin_webauthn(username, source_ip=ip)
    stranger = SoftAuthenticator.generate(ctx.settings.webauthn_rp_id)
    response = stranger.assert_(
        challenge=base64url_to_bytes(options["challenge"]), origin=ctx.settings.webauthn_origin
    )
    login.finish_webauthn(challenge_id, response, source_ip=ip)


def genuine(ctx: Context, username: str, authenticator: SoftAuthenticator, ip: str) -> str:
    login = IdentityService(ctx).login
    challenge_id, options = login.begin_webauthn(username, source_ip=ip)
    response = authenticator.assert_(
        challenge=base64url_to_bytes(options["challenge"]), origin=ctx.settings.webauthn_origin
    )
    return login.finish_webauthn(challenge_id, response, source_ip=ip).username


def test_garbage_sign_ins_never_keep_out_a_valid_assertion(ctx: Context) -> None:
    _, bob = make_user(ctx, "bob", ["approver"])
    assert bob is not None
    waits: list[int] = []
    for attempt in range(1, 26):
        if attempt <= DEFAULT_POLICY.free_per_account:
            with pytest.raises(AuthenticationError) as refused:
                garbage(ctx, "bob", ATTACKER)
            assert refused.value.code == "unauthenticated"
            continue
        with pytest.raises(RateLimited) as throttled:
            garbage(ctx, "bob", ATTACKER)
        waits.append(throttled.value.retry_after)
    # Growing delays (the clock stands still here): 1 s, 2 s, 4 s, … up to the cap.
    assert waits[:6] == [1, 2, 4, 8, 16, 32]
    assert waits == sorted(waits) and waits[-1] == 15 * 60
    # Bob's own security key gets through, from elsewhere and from the attacker's address.
    assert genuine(ctx, "bob", bob, ELSEWHERE) == "bob"
    assert genuine(ctx, "bob", bob, ATTACKER) == "bob"
    # The attacker's address still waits, longer with each further failure.
    with pytest.raises(RateLimited):
        garbage(ctx, "alice", ATTACKER)


def test_the_counter_starts_again_after_a_quiet_hour(ctx: Context, clock: FixedClock) -> None:
    make_user(ctx, "bob", ["approver"])
    for _ in range(DEFAULT_POLICY.free_per_account):
        with pytest.raises(AuthenticationError):
            garbage(ctx, "bob", ATTACKER)
    with pytest.raises(RateLimited):
        garbage(ctx, "bob", ATTACKER)
    clock.advance(DEFAULT_POLICY.quiet + timedelta(seconds=1))
    with pytest.raises(AuthenticationError) as fresh:
        garbage(ctx, "bob", ATTACKER)
    assert fresh.value.code == "unauthenticated"


def _begin(client: TestClient, username: str) -> tuple[str, bytes]:
    begun = client.post("/v1/auth/login/webauthn/begin", json={"username": username}).json()
    return begun["challenge_id"], base64url_to_bytes(begun["options"]["challenge"])


def _finish(client: TestClient, challenge_id: str, credential: dict[str, Any]) -> Any:
    return client.post(
        "/v1/auth/login/webauthn/finish",
        json={"challenge_id": challenge_id, "credential": credential},
    )


def test_the_api_answers_429_with_a_growing_retry_after(ctx: Context) -> None:
    _, bob = make_user(ctx, "bob", ["approver"])
    assert bob is not None
    origin = ctx.settings.webauthn_origin
    stranger = SoftAuthenticator.generate(ctx.settings.webauthn_rp_id)
    statuses: list[int] = []
    retry_after: list[int] = []
    with TestClient(create_app(ctx)) as client:
        for _ in range(8):
            challenge_id, challenge = _begin(client, "bob")
            answer = _finish(
                client, challenge_id, stranger.assert_(challenge=challenge, origin=origin)
            )
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                assert answer.json()["error"] == "rate_limited"
                retry_after.append(int(answer.headers["Retry-After"]))
            else:
                assert answer.json() == {
                    "error": "unauthenticated",
                    "message": "invalid credentials",
                }
        assert statuses == [401] * 4 + [429] * 4
        assert retry_after == [1, 2, 4, 8]
        # The same client, with bob's security key: signed in at once.
        challenge_id, challenge = _begin(client, "bob")
        signed = _finish(client, challenge_id, bob.assert_(challenge=challenge, origin=origin))
        assert signed.status_code == 200, signed.text
        assert signed.json()["username"] == "bob"
