"""Finding the asset and the source wallet a request names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kinko.core.amount import Asset
from kinko.core.errors import InputError
from kinko.custody.model import Tier
from kinko.store.tables.custody import AssetRow, WalletRow
from kinko.store.work import UnitOfWork


def find_asset(session: Session, text: str) -> Asset:
    """The asset `text` ("ETH" or "ethereum:ETH") names; looked up once per session."""
    known: dict[str, Asset] = UnitOfWork.of(session).memo("assets")
    found = known.get(text)
    if found is None:
        found = _find_asset(session, text)
        known[text] = known[found.key] = found
    return found


def remember_asset(session: Session, asset: Asset) -> None:
    """Let `find_asset` answer from `asset` in this session (already read elsewhere)."""
    UnitOfWork.of(session).memo("assets")[asset.key] = asset


def _find_asset(session: Session, text: str) -> Asset:
    chain, _, symbol = text.rpartition(":")
    query = _ASSETS_BY_SYMBOL if not chain else _ASSETS_BY_KEY
    rows = session.execute(query, {"symbol": symbol, "chain": chain}).all()
    if not rows:
        raise InputError("asset", f"unknown asset {text!r}; register it first")
    if len(rows) > 1:
        chains = ", ".join(sorted(f"{r.chain}:{r.symbol}" for r in rows))
        raise InputError("asset", f"{text!r} is on several chains; write one of {chains}")
    r = rows[0]
    return Asset(r.symbol, r.chain, r.decimals, r.contract)


def holds(wallet_assets: Sequence[str], asset: Asset) -> bool:
    """A wallet names its assets by key, ``chain:SYMBOL`` (as `kinko wallet add` stores
    them); rows written before that by the bare symbol still count."""
    return asset.key in wallet_assets or asset.symbol in wallet_assets


@dataclass(frozen=True, slots=True)
class WalletChoice:
    """The source wallet a request names (or the default hot one), as read before the
    write lock: the write transaction loads the wallet itself again by `id`."""

    id: str
    chain: str
    network: str


def choose_wallet(session: Session, asset: Asset, wallet_id: str | None) -> WalletChoice:
    """The named wallet, checked; without a name the first active hot wallet (by id) that
    holds `asset`. Columns only, no ORM objects: this runs on every request."""
    if wallet_id is not None:
        row = session.execute(_WALLET, {"id": wallet_id}).first()
        if row is None or not row.active:
            raise InputError("source_wallet", f"no active wallet {wallet_id!r}")
        if row.chain != asset.chain or not holds(row.assets, asset):
            raise InputError("source_wallet", f"wallet {wallet_id} does not hold {asset.key}")
        return WalletChoice(row.id, row.chain, row.network)
    for row in session.execute(_HOT_WALLETS, {"chain": asset.chain}):
        if holds(row.assets, asset):
            return WalletChoice(row.id, row.chain, row.network)
    raise InputError(
        "source_wallet", f"no active hot wallet holds {asset.key}; name a source wallet"
    )


def find_wallet(session: Session, asset: Asset, wallet_id: str) -> WalletRow:
    """Wallet `wallet_id` as the ORM row (from this session's identity map when the
    transaction already has it), checked again: active, and holding `asset`."""
    # Held for the transaction: the identity map keeps rows only while something refers
    # to them, and a group commit's requests (kinko.withdrawals.group_commit) come one
    # after another in one transaction.
    held: dict[str, WalletRow] = UnitOfWork.of(session).memo("wallets")
    wallet = held.get(wallet_id) or session.get(WalletRow, wallet_id)
    if wallet is None or not wallet.active:
        raise InputError("source_wallet", f"no active wallet {wallet_id!r}")
    held[wallet_id] = wallet
    if wallet.chain != asset.chain or not holds(wallet.assets, asset):
        raise InputError("source_wallet", f"wallet {wallet_id} does not hold {asset.key}")
    return wallet


_ASSET_COLUMNS = (AssetRow.symbol, AssetRow.chain, AssetRow.decimals, AssetRow.contract)
_ASSETS_BY_SYMBOL = select(*_ASSET_COLUMNS).where(AssetRow.symbol == bindparam("symbol"))
_ASSETS_BY_KEY = _ASSETS_BY_SYMBOL.where(AssetRow.chain == bindparam("chain"))
_WALLET_COLUMNS = (
    WalletRow.id,
    WalletRow.chain,
    WalletRow.network,
    WalletRow.assets,
    WalletRow.active,
)
_WALLET = select(*_WALLET_COLUMNS).where(WalletRow.id == bindparam("id"))
_HOT_WALLETS = (
    select(*_WALLET_COLUMNS)
    .where(
        WalletRow.chain == bindparam("chain"),
        WalletRow.tier == Tier.HOT.value,
        WalletRow.active.is_(True),
    )
    .order_by(WalletRow.id)
)
