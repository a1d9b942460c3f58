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
    REVOKE_ROLE = "revoke_role"
    SET_USER_STATE = "set_user_state"
    REMOVE_MFA = "remove_mfa"
    SET_CONFLICTS = "set_conflicts"
    CREATE_TOKEN = "create_token"  # noqa: S105 - a proposal kind, not a secret
    REPLACE_LIST = "replace_list"
    """A screening list's format or publisher changes, or it shrinks (kinko.screening)."""
    ACTIVATE_POLICY = "activate_policy"
    """A withdrawal policy text may take over from the one in force (kinko.policy)."""
    REGISTER_ASSET = "register_asset"
    """An asset joins the registry (kinko.custody.proposals)."""
    REGISTER_WALLET = "register_wallet"
    """A wallet, with its tier, quorum and eligible roles, joins the registry (custody)."""
    REGISTER_KEY_SHARE = "register_key_share"
    """A key share joins a wallet's key inventory (kinko.custody.proposals)."""
    REGISTER_DELEGATION = "register_delegation"
    """A legal entity's signing for a wallet is delegated to another, until an end (custody)."""
    REGISTER_CHANGE = "register_change"
    """Records of the governance register change (kinko.inspection.register_proposals)."""
    RELEASE_FREEZE = "release_freeze"
    """A freeze is lifted (kinko.policy.freeze_release)."""
    RELEASE_RESPONSE = "release_response"
    """A monitor response (a freeze, a lock) is undone (kinko.monitor.release)."""
    ADDRESS_BOOK_ENTRY = "address_book_entry"
    """A destination joins the address book, or its entry changes (kinko.policy.addressbook)."""


class ProposalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


def asset_in(asset: str, scope: tuple[str, ...] | list[str]) -> bool:
    """Whether `asset` ("ETH" or "ethereum:ETH") is one of `scope`'s assets.

    A scope entry names an asset by symbol or by key (``chain:SYMBOL``); a bare symbol on
    either side matches any chain's asset of that symbol, two keys must be equal.
    """
    chain, _, symbol = asset.rpartition(":")
    for item in scope:
        item_chain, _, item_symbol = item.rpartition(":")
        if item_symbol == symbol and (not chain or not item_chain or chain == item_chain):
            return True
    return False


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """A role, optionally limited to some assets and/or wallets (empty tuple = all)."""

    role: Role
    assets: tuple[str, ...] = ()
    wallets: tuple[str, ...] = ()

    def covers(self, *, asset: str | None = None, wallet: str | None = None) -> bool:
        if asset is not None and self.assets and not asset_in(asset, self.assets):
            return False
        return not (wallet is not None and self.wallets and wallet not in self.wallets)

    @property
    def unscoped(self) -> bool:
        return not self.assets and not self.wallets

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
        if self.token_assets and asset is not None and not asset_in(asset, self.token_assets):
            return False
        return any(
            permission in ROLE_PERMISSIONS[g.role] and g.covers(asset=asset, wallet=wallet)
            for g in self.roles
        )

    def allows_any(
        self, permission: str, *, assets: list[str] | tuple[str, ...], wallet: str | None = None
    ) -> bool:
        """True if `permission` is held for `wallet` and at least one of `assets` (a wallet
        holding several assets is visible to someone scoped to one of them)."""
        if not assets:
            return self.allows(permission, wallet=wallet)
        return any(self.allows(permission, asset=a, wallet=wallet) for a in assets)

    def allows_asset_wide(self, permission: str, asset: str) -> bool:
        """True if `permission` is held for every wallet of `asset`.

        `allows(permission, asset=...)` accepts a grant limited to some wallets (it covers
        the asset in those wallets); an act on the whole asset (an asset freeze) reaches
        wallets outside such a grant, so it needs a grant without a wallet limit.
        """
        if permission not in self.permissions:
            return False
        if self.token_assets and not asset_in(asset, self.token_assets):
            return False
        return any(
            permission in ROLE_PERMISSIONS[g.role] and not g.wallets and g.covers(asset=asset)
            for g in self.roles
        )

    def unscoped(self, permission: str) -> bool:
        """True if `permission` is held for every asset and wallet (totals, plans, reports
        that span them all need this)."""
        return (
            permission in self.permissions
            and not self.token_assets
            and any(permission in ROLE_PERMISSIONS[g.role] and g.unscoped for g in self.roles)
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

    def require_unscoped(self, permission: str, what: str) -> None:
        """Raise `PermissionDenied` unless `unscoped(permission)`: `what` spans every asset
        and wallet, so a caller limited to some of them may not see it."""
        if not self.unscoped(permission):
            raise PermissionDenied(
                f"{what} covers every asset and wallet, and your {permission} is limited to "
                "some; ask for the figures of your own assets or wallets"
            )

    @property
    def actor(self) -> str:
        """The audit-log actor string: ``user:<id>`` or ``token:<id>``."""
        if self.kind == "token":
            return f"token:{self.token_id}"
        return f"user:{self.subject}"
