"""Creating API tokens: a person's own, a service account's by four eyes, and the mint.

A token belongs to its person. A person creates their own (`create_own`); one carrying a
privileged permission (`PRIVILEGED_PERMISSIONS`) needs a fresh WebAuthn assertion of
theirs (step-up) over a challenge that commits to exactly that token
(`kinko.identity.token_terms`: `begin_step_up`, checked again when it is minted). A
service account (a user who cannot sign in: no factor) gets its token from a
`create_token` proposal that a second security_admin approves
(`IdentityService.propose_service_token`); the proposer holds the
token text from the start and it works from the approval on. Nobody creates a token for
another person.
"""

from __future__ import annotations

import ipaddress
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from kinko.core.errors import InputError, PermissionDenied
from kinko.core.ids import new_id
from kinko.identity.base import sha256, user_actor
from kinko.identity.binding import StepUp
from kinko.identity.model import TokenId, UserId, UserState
from kinko.identity.people import roles_held
from kinko.identity.permissions import PRIVILEGED_PERMISSIONS, parse_permission, permissions_of
from kinko.identity.token_terms import TokenStepUps, TokenTerms
from kinko.store.tables.identity import ApiTokenRow, UserRow

MAX_TTL = timedelta(days=365)
PREFIX = "kko_"


def _new_token() -> tuple[str, bytes, str]:
    """A new token's id, its secret's SHA-256 (all that is stored) and the token text
    (shown once)."""
    token_id = new_id("tok")
    secret = secrets.token_hex(32)  # hex: no '_' to confuse the split
    return token_id, sha256(secret.encode()), f"{PREFIX}{token_id}_{secret}"


def parse_networks(values: list[str]) -> list[str]:
    out = []
    for i, value in enumerate(values):
        try:
            out.append(str(ipaddress.ip_network(value, strict=False)))
        except ValueError:
            raise InputError(
                f"ip_allowlist[{i}]", f"{value!r} is not an IP address or CIDR network"
            ) from None
    return out


class TokenIssuer(TokenStepUps):
    def _checked(
        self,
        session: Session,
        owner_id: str,
        name: str,
        permissions: list[str],
        *,
        ttl: timedelta,
        ip_allowlist: list[str] | None,
    ) -> tuple[UserRow, list[str], list[str]]:
        """The owner, the sorted permissions and the networks of a token that may exist."""
        if not name.strip():
            raise InputError("name", "give the token a name saying what uses it")
        if not permissions:
            raise InputError("permissions", "a token needs at least one permission")
        if not timedelta(0) < ttl <= MAX_TTL:
            raise InputError("ttl", f"must be between 1 second and {MAX_TTL.days} days")
        perms = sorted({parse_permission(p, field="permissions") for p in permissions})
        owner = self.user_row(session, owner_id)
        if owner.state != UserState.ACTIVE.value:
            raise PermissionDenied(
                f"{owner.username} is {owner.state}; tokens need an active owner"
            )
        held = permissions_of(tuple(g.role for g in roles_held(session, owner_id)))
        missing = [p for p in perms if p not in held]
        if missing:
            raise PermissionDenied(
                f"{owner.username} does not hold {', '.join(missing)}; a token "
                "cannot carry more than its owner",
                code="token_escalation",
            )
        return owner, perms, parse_networks(ip_allowlist or [])

    def terms(
        self,
        session: Session,
        *,
        owner_id: str,
        name: str,
        permissions: list[str],
        assets: list[str] | None = None,
        ip_allowlist: list[str] | None = None,
        ttl: timedelta = timedelta(days=90),
        request: str | None = None,
    ) -> TokenTerms:
        """The terms of a token `owner_id` may hold, checked and normalised: what a
        step-up commits to."""
        owner, perms, networks = self._checked(
            session, owner_id, name, permissions, ttl=ttl, ip_allowlist=ip_allowlist
        )
        return TokenTerms(
            owner=owner.id,
            name=name,
            permissions=tuple(perms),
            assets=tuple(sorted(set(assets or []))),
            ip_allowlist=tuple(sorted(set(networks))),
            ttl_seconds=int(ttl.total_seconds()),
            request=request,
        )

    def create(
        self, session: Session, terms: TokenTerms, *, actor: str, step_up: bool = False
    ) -> tuple[TokenId, str]:
        """Mint the token `terms` describe (from `terms`); returns (id, the token text —
        shown once, never stored). `step_up`: its owner's fresh WebAuthn assertion
        authorised exactly this token.

        The mechanism only, for Kinko's own set-up and tests: people go through
        `create_own` (their own token), `create_confirmed` (confirmed in the browser) or
        `IdentityService.propose_service_token` (four eyes)."""
        token_id, secret_hash, text = _new_token()
        self._insert(
            session, terms, token_id=token_id, secret_hash=secret_hash, actor=actor, step_up=step_up
        )
        return TokenId(token_id), text

    def create_own(
        self, session: Session, terms: TokenTerms, *, step_up: StepUp | None = None
    ) -> tuple[TokenId, str]:
        """A person's token for themselves (`terms.owner`). A privileged permission needs
        `step_up`, a fresh WebAuthn assertion of theirs over a challenge from
        `begin_step_up` for exactly these terms (code ``step_up_required`` without one)."""
        privileged = sorted(set(terms.permissions) & PRIVILEGED_PERMISSIONS)
        if privileged and step_up is None:
            raise PermissionDenied(
                f"a token carrying {', '.join(privileged)} needs a fresh WebAuthn assertion: "
                "POST /v1/auth/step-up/begin with this token's terms, answer it with your "
                "authenticator and send the answer as step_up (or run 'kinko token create "
                "... --browser' and confirm it in the browser with your WebAuthn key)",
                code="step_up_required",
            )
        if step_up is not None:
            self.verify_step_up(session, terms, step_up)
        return self.create(
            session, terms, actor=user_actor(terms.owner), step_up=step_up is not None
        )

    def create_confirmed(self, session: Session, terms: TokenTerms) -> tuple[TokenId, str]:
        """Mint the token whose terms its owner confirmed with a bound step-up (a console
        confirmation: `kinko.identity.token_requests`)."""
        return self.create(session, terms, actor=user_actor(terms.owner), step_up=True)

    def service_token(self, terms: TokenTerms) -> tuple[dict[str, Any], TokenId, str]:
        """A new token for a service account, as a `create_token` proposal carries it:
        (its payload, the token's id, the token text). The text is for the proposer only
        (stored nowhere: the payload keeps its SHA-256); it works once a second
        security_admin approves (`IdentityService.propose_service_token`)."""
        token_id, secret_hash, text = _new_token()
        payload = {
            "user_id": terms.owner,
            "token_id": token_id,
            "name": terms.name,
            "permissions": list(terms.permissions),
            "assets": list(terms.assets),
            "ip_allowlist": list(terms.ip_allowlist),
            "ttl_seconds": terms.ttl_seconds,
            "secret_sha256": secret_hash.hex(),
        }
        return payload, TokenId(token_id), text

    def check_service_payload(
        self, session: Session, payload: dict[str, Any], *, actor: UserId
    ) -> dict[str, Any]:
        """A `create_token` proposal's payload, checked (when proposed and when approved)."""
        owner_id = str(payload.get("user_id", ""))
        ttl = timedelta(seconds=int(payload.get("ttl_seconds", 0)))
        owner, perms, networks = self._checked(
            session,
            owner_id,
            str(payload.get("name", "")),
            list(payload.get("permissions") or []),
            ttl=ttl,
            ip_allowlist=list(payload.get("ip_allowlist") or []),
        )
        if owner.id == actor or self.mfa.has_factors(session, owner.id):
            raise PermissionDenied(
                f"{owner.username} can sign in, so only they create their tokens (with a "
                "fresh WebAuthn assertion for privileged permissions); four-eyes token "
                "proposals are for service accounts, which cannot sign in",
                code="not_a_service_account",
            )
        token_id, digest = str(payload.get("token_id", "")), str(payload.get("secret_sha256", ""))
        if not token_id.startswith("tok_") or len(digest) != 64:
            raise InputError("token", "a token proposal carries its id and secret digest")
        return {
            "user_id": owner.id,
            "token_id": token_id,
            "name": str(payload["name"]),
            "permissions": perms,
            "assets": sorted(set(payload.get("assets") or [])),
            "ip_allowlist": networks,
            "ttl_seconds": int(ttl.total_seconds()),
            "secret_sha256": digest,
        }

    def create_from_proposal(
        self, session: Session, payload: dict[str, Any], *, actor: str, proposal: str
    ) -> None:
        """Mint the token an approved `create_token` proposal describes."""
        terms = TokenTerms(
            owner=str(payload["user_id"]),
            name=str(payload["name"]),
            permissions=tuple(payload["permissions"]),
            assets=tuple(payload["assets"]),
            ip_allowlist=tuple(payload["ip_allowlist"]),
            ttl_seconds=int(payload["ttl_seconds"]),
        )
        self._insert(
            session,
            terms,
            token_id=str(payload["token_id"]),
            secret_hash=bytes.fromhex(str(payload["secret_sha256"])),
            actor=actor,
            proposal=proposal,
        )

    def _insert(
        self,
        session: Session,
        terms: TokenTerms,
        *,
        token_id: str,
        secret_hash: bytes,
        actor: str,
        step_up: bool = False,
        proposal: str | None = None,
    ) -> None:
        # Checked again as it is minted: the owner's roles and state may have changed.
        owner, perms, networks = self._checked(
            session,
            terms.owner,
            terms.name,
            list(terms.permissions),
            ttl=terms.ttl,
            ip_allowlist=list(terms.ip_allowlist),
        )
        owner_id, name, ttl = terms.owner, terms.name, terms.ttl
        now = self.now()
        scoped_assets = sorted(set(terms.assets))
        session.add(
            ApiTokenRow(
                id=token_id,
                owner_id=owner_id,
                name=name,
                secret_hash=secret_hash,
                permissions=perms,
                assets=scoped_assets,
                ip_allowlist=networks,
                created_by=actor,
                created_at=now,
                expires_at=now + ttl,
            )
        )
        self.audit(
            session,
            actor=actor,
            action="identity.token_create",
            subject=f"token:{token_id}",
            owner=owner_id,
            name=name,
            permissions=perms,
            assets=scoped_assets,
            ip_allowlist=networks,
            expires_at=(now + ttl).isoformat(),
            step_up=step_up,
            proposal=proposal,
        )
        privileged = bool(set(perms) & PRIVILEGED_PERMISSIONS)
        self.emit(
            session,
            "token.create",
            actor=actor,
            outcome="created",
            severity="high" if privileged else "medium",
            fields={
                "action": "token.create",
                "token": token_id,
                "owner": owner_id,
                "owner_username": owner.username,
                "scopes": perms,
                "assets": scoped_assets,
                "ip_allowlist": networks,
                "privileged": privileged,
                "step_up": step_up,
                "proposal": proposal,
            },
        )


__all__ = ["MAX_TTL", "PREFIX", "StepUp", "TokenIssuer", "parse_networks"]
