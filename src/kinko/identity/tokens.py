"""API tokens for the exchange backend: shown once, stored hashed, scoped, expiring.

A token reads ``kko_<id>_<secret>``. It belongs to its person: a person creates their own
(`create_own`; a privileged permission needs a fresh WebAuthn assertion), and a service
account's comes from a four-eyes proposal (`IdentityService.propose_service_token`). Its
permissions must be a subset of its owner's and, at every use, are intersected with the
owner's current permissions, so revoking a role or suspending the owner takes effect at once.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from kinko.core.errors import AuthenticationError, NotFound
from kinko.identity.base import same_hash
from kinko.identity.issuing import MAX_TTL, PREFIX, StepUp, TokenIssuer, parse_networks
from kinko.identity.model import Principal, RoleGrant, TokenId, UserId, UserState
from kinko.identity.permissions import Role, permissions_of
from kinko.store.tables.identity import ApiTokenRow, RoleGrantRow, UserRow

LAST_USED_EVERY = timedelta(seconds=60)
__all__ = [
    "MAX_TTL",
    "PREFIX",
    "StepUp",
    "TokenInfo",
    "TokenService",
    "TokenUse",
    "parse_networks",
    "split_token",
]


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: TokenId
    owner_id: UserId
    name: str
    permissions: tuple[str, ...]
    assets: tuple[str, ...]
    ip_allowlist: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None


@dataclass(frozen=True, slots=True)
class TokenUse:
    """When and from where a token was last used, as `lookup` read it."""

    id: str
    last_used_at: datetime | None
    last_used_ip: str | None


_TOKENS = cast(Table, ApiTokenRow.__table__)
_USERS = cast(Table, UserRow.__table__)
_GRANTS = cast(Table, RoleGrantRow.__table__)
_TOKEN_WITH_OWNER = (
    select(
        _TOKENS,
        _USERS.c.state.label("owner_state"),
        _USERS.c.username.label("owner_username"),
    )
    .join(_USERS, _USERS.c.id == _TOKENS.c.owner_id)
    .where(_TOKENS.c.id == bindparam("id"))
)
_LIVE_GRANTS = (
    select(_GRANTS.c.role, _GRANTS.c.assets, _GRANTS.c.wallets)
    .where(_GRANTS.c.user_id == bindparam("user"), _GRANTS.c.revoked_at.is_(None))
    .order_by(_GRANTS.c.id)
)


def _info(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(
        TokenId(row.id),
        UserId(row.owner_id),
        row.name,
        tuple(row.permissions),
        tuple(row.assets),
        tuple(row.ip_allowlist),
        row.created_at,
        row.expires_at,
        row.revoked_at,
        row.last_used_at,
        row.last_used_ip,
    )


def split_token(text: str) -> tuple[str, str]:
    if not text.startswith(PREFIX) or text.count("_") < 3:
        raise AuthenticationError("invalid API token")
    body = text[len(PREFIX) :]
    token_id, _, secret = body.rpartition("_")
    if not token_id or not secret:
        raise AuthenticationError("invalid API token")
    return token_id, secret


class TokenService(TokenIssuer):
    def lookup(
        self, session: Session, text: str, *, source_ip: str | None
    ) -> tuple[Principal, TokenUse]:
        """Check a bearer token without writing anything (see `resolve`).

        Every API call does this, so it is two prebuilt Core queries (the token with its
        owner, then the owner's live role grants) rather than three ORM loads."""
        token_id, secret = split_token(text)
        connection = session.connection()
        row = connection.execute(_TOKEN_WITH_OWNER, {"id": token_id}).first()
        now = self.now()
        if row is None or not same_hash(secret.encode(), bytes(row.secret_hash)):
            raise AuthenticationError("invalid API token")
        if row.revoked_at is not None or row.expires_at <= now:
            raise AuthenticationError("API token expired or revoked", code="token_expired")
        if row.ip_allowlist and not _allowed(source_ip, row.ip_allowlist):
            raise AuthenticationError("API token is not valid from this address")
        if row.owner_state != UserState.ACTIVE.value:
            raise AuthenticationError("invalid API token")
        roles = tuple(
            RoleGrant(Role(g.role), tuple(g.assets), tuple(g.wallets))
            for g in connection.execute(_LIVE_GRANTS, {"user": row.owner_id})
        )
        perms = frozenset(row.permissions) & permissions_of(tuple(g.role for g in roles))
        principal = Principal(
            kind="token",
            subject=UserId(row.owner_id),
            username=row.owner_username,
            roles=roles,
            permissions=perms,
            token_id=TokenId(row.id),
            source_ip=source_ip,
            token_assets=tuple(row.assets),
        )
        return principal, TokenUse(row.id, row.last_used_at, row.last_used_ip)

    def needs_note(self, use: TokenUse | ApiTokenRow, ip: str | None) -> bool:
        """Whether this use must be recorded (new address, or last-used is stale)."""
        return (ip is not None and ip != use.last_used_ip) or (
            use.last_used_at is None or self.now() - use.last_used_at > LAST_USED_EVERY
        )

    def note_use(self, session: Session, token_id: str, ip: str | None) -> None:
        row = session.get(ApiTokenRow, token_id, with_for_update=True)
        if row is not None and self.needs_note(row, ip):
            self._note_use(session, row, ip, self.now())

    def resolve(self, session: Session, text: str, *, source_ip: str | None) -> Principal:
        """The principal a bearer token stands for, or `AuthenticationError` (generic).

        Records last use, and audits and emits ``token.use`` from a new address.
        """
        principal, use = self.lookup(session, text, source_ip=source_ip)
        if self.needs_note(use, source_ip):
            self.note_use(session, use.id, source_ip)
        return principal

    def _note_use(self, session: Session, row: ApiTokenRow, ip: str | None, now: datetime) -> None:
        new_address = ip is not None and ip != row.last_used_ip
        if new_address:
            self.audit(
                session,
                actor=f"token:{row.id}",
                action="identity.token_new_address",
                subject=f"token:{row.id}",
                source_ip=ip,
                previous_ip=row.last_used_ip,
            )
            self.emit(
                session,
                "token.use",
                actor=f"token:{row.id}",
                outcome="new_address",
                source_ip=ip,
                fields={"token": row.id, "owner": row.owner_id, "scopes": list(row.permissions)},
            )
        if new_address or row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
            row.last_used_at, row.last_used_ip = now, ip

    def revoke(self, session: Session, token_id: str, *, actor: str, reason: str) -> TokenInfo:
        row = session.get(ApiTokenRow, token_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no API token {token_id}")
        if row.revoked_at is None:
            row.revoked_at = self.now()
            self.audit(
                session,
                actor=actor,
                action="identity.token_revoke",
                subject=f"token:{token_id}",
                reason=reason,
            )
            self.emit(
                session,
                "admin.action",
                actor=actor,
                outcome="success",
                fields={"action": "token.revoke", "token": token_id},
            )
        return _info(row)

    def list_tokens(self, session: Session, owner_id: str | None = None) -> list[TokenInfo]:
        q = select(ApiTokenRow).order_by(ApiTokenRow.created_at, ApiTokenRow.id)
        if owner_id is not None:
            q = q.where(ApiTokenRow.owner_id == owner_id)
        return [_info(r) for r in session.execute(q).scalars()]


def _allowed(ip: str | None, networks: list[str]) -> bool:
    if ip is None:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n) for n in networks)
