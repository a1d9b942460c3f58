"""Asset and wallet scopes on every route, reads included: the one place that decides
whether a scoped caller may see, or act on, a record.

A record *concerns* some places, each an (asset, wallet) pair (`Concern`):

- a withdrawal: its asset in its wallet;
- a monitor alert: the asset and/or wallet of the event that fired it (its group's first);
- an address-book entry or proposal: every asset of every wallet on its chain;
- a record naming only a wallet: that wallet's assets in it; only an asset: that asset in
  every wallet holding it, or the asset as a whole;
- a record naming none of them (an alert about a person, a sign-in): no place at all.

A caller sees a record when its permission covers at least one of the record's places; a
record with no place is seen by whoever holds the permission. An unscoped caller sees
everything. A wallet or chain Kinko does not know has no known place: only an unscoped
caller sees it (fail closed). Lists filter with `Scopes.sees` and count, for their limit,
only what the caller sees (`kinko.store.paging.newest_visible`); one record outside the
caller's scope is refused with `Scopes.require` (403, naming the asset or wallet).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import PermissionDenied
from kinko.identity.model import Principal, asset_in
from kinko.policy.model import FreezeScope

__all__ = ["Concern", "Scopes"]


@dataclass(frozen=True, slots=True)
class Concern:
    """What a record is about: an asset, a wallet, a chain, or none of them."""

    asset: str | None = None
    wallet: str | None = None
    chain: str | None = None

    @property
    def nowhere(self) -> bool:
        return self.asset is None and self.wallet is None and self.chain is None

    def describe(self) -> str:
        parts = (
            self.asset and f"asset {self.asset}",
            self.wallet and f"wallet {self.wallet}",
            self.chain and f"chain {self.chain}",
        )
        return ", ".join(p for p in parts if p) or "this scope"


@dataclass(frozen=True, slots=True)
class _Wallet:
    id: str
    chain: str
    assets: tuple[str, ...]


class Scopes:
    """What `principal` may see or do with `permission`, record by record.

    The wallets (to place a wallet-only, asset-only or chain record) are read once, and
    only when a scoped caller meets such a record."""

    def __init__(
        self, principal: Principal, permission: str, wallets: Callable[[], Iterable[Any]]
    ) -> None:
        self.principal = principal
        self.permission = permission
        self._load = wallets
        self._wallets: list[_Wallet] | None = None
        self.everything = principal.unscoped(permission)

    @classmethod
    def within(cls, principal: Principal, permission: str, session: Session) -> Scopes:
        """Reading the wallets, if needed, in `session`."""
        from kinko.custody.wallets import list_wallets

        return cls(principal, permission, lambda: list_wallets(session))

    @classmethod
    def reading(cls, principal: Principal, permission: str, ctx: Context) -> Scopes:
        """Reading the wallets, if needed, in a read-only session of its own."""
        from kinko.custody.wallets import list_wallets

        def load() -> list[_Wallet]:
            with ctx.db.reading() as session:
                return [_Wallet(w.id, w.chain, tuple(w.assets)) for w in list_wallets(session)]

        return cls(principal, permission, load)

    def _known(self) -> list[_Wallet]:
        if self._wallets is None:
            self._wallets = [_Wallet(w.id, w.chain, tuple(w.assets)) for w in self._load()]
        return self._wallets

    def _places(self, concern: Concern) -> list[tuple[str, str]]:
        if concern.wallet is not None and concern.asset is not None:
            return [(concern.asset, concern.wallet)]
        wallets = self._known()
        if concern.wallet is not None:
            return [(a, w.id) for w in wallets if w.id == concern.wallet for a in w.assets]
        if concern.chain is not None:
            return [(a, w.id) for w in wallets if w.chain == concern.chain for a in w.assets]
        asset = concern.asset
        assert asset is not None
        return [(asset, w.id) for w in wallets if asset_in(asset, w.assets)]

    def sees(self, concern: Concern) -> bool:
        """Whether the permission covers at least one of `concern`'s places."""
        principal, permission = self.principal, self.permission
        if not principal.has(permission):
            return False
        if self.everything or concern.nowhere:
            return True
        if (
            concern.wallet is None
            and concern.chain is None
            and concern.asset is not None
            and principal.allows_asset_wide(permission, concern.asset)
        ):
            return True
        return any(
            principal.allows(permission, asset=asset, wallet=wallet)
            for asset, wallet in self._places(concern)
        )

    def require(self, concern: Concern) -> None:
        """`PermissionDenied` (403) unless the caller `sees` the record."""
        if not self.sees(concern):
            raise PermissionDenied(
                f"{self.permission} is not granted for {concern.describe()}",
            )

    def require_freeze(self, scope: FreezeScope | str, target: str | None) -> None:
        """Setting or lifting a freeze: a wallet freeze needs the permission for that
        wallet (one of its assets in it), an asset freeze for every wallet of the asset
        (a grant without a wallet limit), a chain-wide or global one an unscoped grant
        (they stop wallets outside any scoped grant too)."""
        scope = FreezeScope(scope)
        principal, permission = self.principal, self.permission
        if scope is FreezeScope.WALLET:
            self.require(Concern(wallet=target))
        elif scope is FreezeScope.ASSET:
            if target is None or not principal.allows_asset_wide(permission, target):
                raise PermissionDenied(
                    f"an asset freeze reaches every wallet of {target}, and your {permission} "
                    "is limited to some wallets or assets; freeze the wallets you hold it for"
                )
        else:
            principal.require_unscoped(permission, f"a {scope.value} freeze")

    def sees_freeze(self, scope: FreezeScope | str, target: str | None) -> bool:
        """Chain-wide and global freezes concern everyone; a wallet or asset freeze is seen
        by those who may read that wallet or asset."""
        scope = FreezeScope(scope)
        if scope is FreezeScope.WALLET:
            return self.sees(Concern(wallet=target))
        if scope is FreezeScope.ASSET and target is not None:
            return self.sees(Concern(asset=target))
        return self.principal.has(self.permission)
