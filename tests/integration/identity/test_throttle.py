"""Lockout without denial of service (issue #13, attack 7), on both databases.

Garbage WebAuthn sign-ins for someone's name slow down the source that sends them (and
guessable factors for that account) with growing delays; they never keep that person's
valid assertion out, from another address or from the same one. The attack through the
API (401, then 429 with a growing Retry-After, the person's key still let in, and the
spray alerted) is replayed in the insider suite, tests/integration/insider/test_lockout.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from webauthn.helpers import base64url_to_bytes

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
