"""Identity helpers for every engineer's tests: users, authenticators, tokens, sessions.

They run the real flows (enrolment with the one-time secret and a software WebAuthn
authenticator, real token creation, real sign-in). Role grants use
`RoleService.unsafe_direct_grant`, which skips four eyes (it logs a warning and audits
``identity.role_unsafe_grant``) but still enforces separation of duties.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta

from kinko.context import Context
from kinko.identity.model import RoleGrant, UserId
from kinko.identity.permissions import PERMISSIONS, ROLE_PERMISSIONS, Role
from kinko.identity.service import IdentityService
from kinko.identity.sessions import csrf_token_for
from kinko.identity.softauthn import SoftAuthenticator
from tests.support.votes import remember_key


def ensure_secret_key(ctx: Context) -> None:
    """Create the 32-byte secret key `kinko init` would create (TOTP seeds need it)."""
    path = ctx.settings.resolved_secret_key_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)


def _grants(roles: Iterable[Role | str | RoleGrant]) -> list[RoleGrant]:
    out = []
    for role in roles:
        out.append(role if isinstance(role, RoleGrant) else RoleGrant(Role(role)))
    return out


def make_user(
    ctx: Context,
    username: str,
    roles: Iterable[Role | str | RoleGrant] = (),
    *,
    with_authenticator: bool = True,
) -> tuple[UserId, SoftAuthenticator | None]:
    """An active user holding `roles`, enrolled with a software authenticator if asked."""
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        user_id, secret = ids.users.add_user(session, username, actor="system:test")
        for grant in _grants(roles):
            ids.roles.unsafe_direct_grant(session, user_id, grant, reason="test fixture")
    if not with_authenticator:
        with ctx.db.transaction() as session:
            ids.users.consume_enrolment(session, ids.users.user_row(session, user_id))
        return user_id, None
    authenticator = SoftAuthenticator.generate(ctx.settings.webauthn_rp_id)
    enrol_authenticator(ctx, username, secret, authenticator)
    remember_key(ctx, user_id, authenticator)
    return user_id, authenticator


def enrol_authenticator(
    ctx: Context, username: str, secret: str, authenticator: SoftAuthenticator
) -> str:
    """Run the enrolment ceremony with `secret`; returns the new session cookie value."""
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        challenge_id, options = ids.enrol_webauthn_begin(session, username, secret)
    challenge = _challenge(options)
    response = authenticator.register(challenge=challenge, origin=ctx.settings.webauthn_origin)
    with ctx.db.transaction() as session:
        signed_in = ids.enrol_webauthn_finish(
            session, username, secret, challenge_id, response, source_ip="127.0.0.1"
        )
    return signed_in.session_token


def _challenge(options: dict[str, object]) -> bytes:
    from webauthn.helpers import base64url_to_bytes

    return base64url_to_bytes(str(options["challenge"]))


def sign_in(
    ctx: Context, username: str, authenticator: SoftAuthenticator, *, ip: str = "127.0.0.1"
) -> tuple[str, str]:
    """Sign in with WebAuthn; returns (session cookie value, CSRF token)."""
    login = IdentityService(ctx).login
    challenge_id, options = login.begin_webauthn(username, source_ip=ip)
    response = authenticator.assert_(
        challenge=_challenge(options), origin=ctx.settings.webauthn_origin
    )
    signed_in = login.finish_webauthn(challenge_id, response, source_ip=ip)
    return signed_in.session_token, csrf_token_for(signed_in.session_token)


def _roles_covering(permissions: set[str]) -> list[Role]:
    """A small set of roles whose permissions include `permissions` (greedy cover)."""
    chosen: list[Role] = []
    remaining = set(permissions)
    while remaining:
        best = max(Role, key=lambda r: len(ROLE_PERMISSIONS[r] & remaining))
        if not ROLE_PERMISSIONS[best] & remaining:
            raise ValueError(f"no role grants {sorted(remaining)}")
        chosen.append(best)
        remaining -= ROLE_PERMISSIONS[best]
    return chosen


def make_token(
    ctx: Context,
    *,
    roles_or_permissions: Iterable[str | Role],
    assets: list[str] | None = None,
    ip_allowlist: list[str] | None = None,
    ttl: timedelta = timedelta(days=30),
    owner: str | None = None,
) -> str:
    """A bearer token for a new service user holding the named roles (or covering roles).

    Pass role names (``"requester"``) or permission names (``"withdrawals:create"``).
    """
    items = [str(x) for x in roles_or_permissions]
    perms = {p for p in items if p in PERMISSIONS}
    roles = [Role(r) for r in items if r not in PERMISSIONS]
    if perms:
        roles += [r for r in _roles_covering(perms) if r not in roles]
    token_perms = perms or set().union(*(ROLE_PERMISSIONS[r] for r in roles))
    name = owner or f"svc-{secrets.token_hex(4)}"
    user_id, _ = make_user(ctx, name, roles, with_authenticator=False)
    with ctx.db.transaction() as session:
        tokens = IdentityService(ctx).tokens
        terms = tokens.terms(
            session,
            owner_id=user_id,
            name=f"{name} token",
            permissions=sorted(token_perms),
            assets=assets,
            ip_allowlist=ip_allowlist,
            ttl=ttl,
        )
        _, token = tokens.create(session, terms, actor="system:test")
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def person_headers(ctx: Context, username: str, authenticator: SoftAuthenticator) -> dict[str, str]:
    """Headers of a fresh console session for `username` (cookie + CSRF token): what a
    person signed in with their own authenticator sends."""
    cookie, csrf = sign_in(ctx, username, authenticator)
    return {"Cookie": f"__Host-kinko_session={cookie}", "X-CSRF-Token": csrf}


def owned_token(
    ctx: Context, owner: UserId, permissions: list[str], *, assets: list[str] | None = None
) -> str:
    """A token owned by `owner` (a person), minted by the service directly (test set-up)."""
    with ctx.db.transaction() as session:
        tokens = IdentityService(ctx).tokens
        terms = tokens.terms(
            session, owner_id=owner, name="own token", permissions=permissions, assets=assets
        )
        _, token = tokens.create(session, terms, actor="system:test")
    return token
