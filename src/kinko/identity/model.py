"""Identity values: ids, user states, scoped role grants and the authenticated principal."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, NewType

from kinko.core.errors import PermissionDenied
from kinko.identity.permissions import ROLE_PERMISSIONS, Role

UserId = NewType("UserId", str)
TokenId = NewType("TokenId", str)
ProposalId = NewType("ProposalId", str)


class UserState(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REMOVED = "removed"


class ProposalKind(StrEnum):
    GRANT_ROLE = "grant_role"
    REMOVE_MFA = "remove_mfa"
    SET_CONFLICTS = "set_conflicts"


class ProposalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """A role, optionally limited to some assets and/or wallets (empty tuple = all)."""

    role: Role
    assets: tuple[str, ...] = ()
    wallets: tuple[str, ...] = ()

    def covers(self, *, asset: str | None = None, wallet: str | None = None) -> bool:
        if asset is not None and self.assets and asset not in self.assets:
            return False
        return not (wallet is not None and self.wallets and wallet not in self.wallets)

    def to_dict(self) -> dict[str, object]:
        return {"role": self.role.value, "assets": list(self.assets), "wallets": list(self.wallets)}


@dataclass(frozen=True, slots=True)
class WebAuthnCredential:
    """An enrolled credential, as the signer needs it to verify an approval."""

    credential_id: bytes
    user_id: UserId
    public_key_cose: bytes
    sign_count: int


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a console user (session) or an API token."""

    kind: Literal["user", "token"]
    subject: UserId
    username: str
    roles: tuple[RoleGrant, ...]
    permissions: frozenset[str]
    token_id: TokenId | None = None
    source_ip: str | None = None
    token_assets: tuple[str, ...] = ()
    session_id: str | None = None

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    def allows(
        self, permission: str, *, asset: str | None = None, wallet: str | None = None
    ) -> bool:
        """True if `permission` is held for this asset/wallet.

        The permission must come from a role grant whose scope covers the asset and
        wallet; a token is further limited to its own permissions and assets.
        """
        if permission not in self.permissions:
            return False
        if self.token_assets and asset is not None and asset not in self.token_assets:
            return False
        return any(
            permission in ROLE_PERMISSIONS[g.role] and g.covers(asset=asset, wallet=wallet)
            for g in self.roles
        )

    def require_scope(
        self, permission: str, *, asset: str | None = None, wallet: str | None = None
    ) -> None:
        """Raise `PermissionDenied` unless `allows(...)`; routes call this for scoped data."""
        if not self.allows(permission, asset=asset, wallet=wallet):
            target = ", ".join(
                x for x in (asset and f"asset {asset}", wallet and f"wallet {wallet}") if x
            )
            raise PermissionDenied(f"{permission} is not granted for {target or 'this scope'}")

    @property
    def actor(self) -> str:
        """The audit-log actor string: ``user:<id>`` or ``token:<id>``."""
        if self.kind == "token":
            return f"token:{self.token_id}"
        return f"user:{self.subject}"
