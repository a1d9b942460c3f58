"""TOTP sign-in: skew window, single use, brute-force throttling, encryption at rest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import AuthenticationError, PermissionDenied, RateLimited, Unavailable
from kinko.identity import totp
from kinko.identity.service import IdentityService
from kinko.store.tables.identity import TotpFactorRow
from tests.support.identity import ensure_secret_key

IP = "198.51.100.4"


def _enrol(ctx: Context, username: str = "dave", roles: tuple[str, ...] = ("requester",)) -> str:
    from kinko.identity.model import RoleGrant
    from kinko.identity.permissions import Role

    ensure_secret_key(ctx)
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        user_id, secret = ids.users.add_user(session, username, actor="system:test")
        for role in roles:
            ids.roles.unsafe_direct_grant(session, user_id, RoleGrant(Role(role)), reason="t")
    with ctx.db.transaction() as session:
        totp_secret, uri, codes = ids.enrol_totp(session, username, secret)
    assert uri.startswith("otpauth://totp/") and len(codes) == 10
    return totp_secret


def _code(secret: str, clock: FixedClock, offset_steps: int = 0) -> str:
    return totp.code_at_step(secret, totp.step_at(clock.now()) + offset_steps)


def _login(ctx: Context, code: str, username: str = "dave", ip: str = IP) -> str:
    return IdentityService(ctx).login.login_totp(username, code, source_ip=ip).username


def test_current_code_signs_in_and_cannot_be_used_twice(ctx: Context, clock: FixedClock) -> None:
    secret = _enrol(ctx)
    code = _code(secret, clock)
    assert _login(ctx, code) == "dave"
    with pytest.raises(AuthenticationError, match="invalid credentials"):
        _login(ctx, code)


def test_an_earlier_step_is_refused_after_a_later_one_was_used(
    ctx: Context, clock: FixedClock
) -> None:
    secret = _enrol(ctx)
    assert _login(ctx, _code(secret, clock, +1)) == "dave"
    with pytest.raises(AuthenticationError):
        _login(ctx, _code(secret, clock, 0))


@pytest.mark.parametrize(("offset", "ok"), [(-1, True), (1, True), (-2, False), (2, False)])
def test_skew_of_one_step_is_accepted_two_is_not(
    ctx: Context, clock: FixedClock, offset: int, ok: bool
) -> None:
    secret = _enrol(ctx)
    code = _code(secret, clock, offset)
    if ok:
        assert _login(ctx, code) == "dave"
    else:
        with pytest.raises(AuthenticationError):
            _login(ctx, code)


def test_brute_force_delays_the_account_even_for_the_right_code(
    ctx: Context, clock: FixedClock
) -> None:
    """A guessable code is refused unverified while the account waits; each further
    failure doubles the wait, and the code works once the wait is over."""
    secret = _enrol(ctx)
    good = _code(secret, clock)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            _login(ctx, wrong)
    with pytest.raises(RateLimited) as fifth:
        _login(ctx, wrong)
    assert fifth.value.retry_after == 1
    with pytest.raises(RateLimited) as info:
        _login(ctx, good)
    assert info.value.code == "rate_limited" and info.value.retry_after == 1
    clock.advance(timedelta(seconds=1))
    with pytest.raises(RateLimited) as sixth:
        _login(ctx, wrong)
    assert sixth.value.retry_after == 2
    clock.advance(timedelta(seconds=2))
    assert _login(ctx, _code(secret, clock)) == "dave"


def test_source_address_is_throttled_across_accounts(ctx: Context) -> None:
    _enrol(ctx)
    for i in range(19):
        with pytest.raises(AuthenticationError):
            _login(ctx, "000000", username=f"guess{i}")
    with pytest.raises(RateLimited):
        _login(ctx, "000000", username="guess19")
    with pytest.raises(RateLimited) as info:
        _login(ctx, "000000", username="dave")
    assert info.value.code == "rate_limited"
    with pytest.raises(AuthenticationError) as other:
        _login(ctx, "000000", username="dave", ip="198.51.100.5")
    assert other.value.code == "unauthenticated"


def test_unknown_user_and_wrong_code_fail_the_same_way(ctx: Context) -> None:
    _enrol(ctx)
    with pytest.raises(AuthenticationError) as unknown:
        _login(ctx, "123456", username="nobody")
    with pytest.raises(AuthenticationError) as wrong:
        _login(ctx, "123456")
    assert (unknown.value.message, unknown.value.code) == (wrong.value.message, wrong.value.code)


def test_secret_is_encrypted_at_rest(ctx: Context) -> None:
    secret = _enrol(ctx)
    with ctx.db.transaction() as session:
        row = session.execute(select(TotpFactorRow)).scalar_one()
    assert secret.encode() not in row.secret_enc


def test_missing_secret_key_refuses_enrolment(ctx: Context) -> None:
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        _, secret = ids.users.add_user(session, "erin", actor="system:test")
    with pytest.raises(Unavailable, match="secret key"), ctx.db.transaction() as session:
        ids.enrol_totp(session, "erin", secret)


def test_privileged_roles_cannot_use_totp(ctx: Context) -> None:
    with pytest.raises(PermissionDenied, match="WebAuthn is the only factor"):
        _enrol(ctx, "frank", ("approver",))


def test_recovery_code_signs_in_once(ctx: Context) -> None:
    ensure_secret_key(ctx)
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        _, secret = ids.users.add_user(session, "gina", actor="system:test")
        _, _, codes = ids.enrol_totp(session, "gina", secret)
    assert ids.login.login_recovery("gina", codes[3], source_ip=IP).username == "gina"
    with pytest.raises(AuthenticationError):
        ids.login.login_recovery("gina", codes[3], source_ip=IP)


def test_weakened_configuration_allows_totp_for_privileged_roles(ctx: Context) -> None:
    ctx.settings = ctx.settings.model_copy(update={"allow_weak_mfa_for_privileged": True})
    secret = _enrol(ctx, "hank", ("approver",))
    code = totp.code_at_step(secret, totp.step_at(ctx.clock.now()))
    assert _login(ctx, code, username="hank") == "hank"


def test_privileged_user_cannot_sign_in_with_a_recovery_code(ctx: Context) -> None:
    from kinko.identity.model import RoleGrant
    from kinko.identity.permissions import Role

    ensure_secret_key(ctx)
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        user_id, secret = ids.users.add_user(session, "ivy", actor="system:test")
        _, _, codes = ids.enrol_totp(session, "ivy", secret)
        ids.roles.unsafe_direct_grant(session, user_id, RoleGrant(Role.CISO), reason="t")
    with pytest.raises(AuthenticationError):
        ids.login.login_recovery("ivy", codes[0], source_ip=IP)


def test_the_same_code_used_concurrently_signs_in_once(ctx: Context, clock: FixedClock) -> None:
    from concurrent.futures import ThreadPoolExecutor

    secret = _enrol(ctx)
    code = _code(secret, clock)

    def attempt(i: int) -> bool:
        try:
            _login(ctx, code, ip=f"198.51.100.{10 + i}")
        except (AuthenticationError, RateLimited):  # the account waits after 4 failures
            return False
        return True

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(attempt, range(6)))
    assert results.count(True) == 1


def test_concurrent_failures_are_all_counted(ctx: Context) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from kinko.store.tables.identity import AuthThrottleRow

    _enrol(ctx)

    def attempt(i: int) -> str:
        try:
            _login(ctx, "000000", ip=f"203.0.113.{i}")
        except AuthenticationError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(attempt, range(4)))
    assert codes == ["unauthenticated"] * 4
    with ctx.db.transaction() as session:
        row = session.get(AuthThrottleRow, "user:dave")
        assert row is not None and row.failures == 4
