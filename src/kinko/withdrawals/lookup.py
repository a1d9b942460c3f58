"""Finding the asset and the source wallet a request names."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.core.amount import Asset
from kinko.core.errors import InputError
from kinko.custody.model import Tier
from kinko.store.tables.custody import AssetRow, WalletRow


def find_asset(session: Session, text: str) -> Asset:
    """The asset `text` ("ETH" or "ethereum:ETH") names; looked up once per session."""
    known: dict[str, Asset] = session.info.setdefault("kinko_assets", {})
    found = known.get(text)
    if found is None:
        found = _find_asset(session, text)
        known[text] = known[found.key] = found
    return found


def remember_asset(session: Session, asset: Asset) -> None:
    """Let `find_asset` answer from `asset` in this session (already read elsewhere)."""
    session.info.setdefault("kinko_assets", {})[asset.key] = asset


def _find_asset(session: Session, text: str) -> Asset:
    chain, _, symbol = text.rpartition(":")
    query = select(AssetRow).where(AssetRow.symbol == symbol)
    if chain:
        query = query.where(AssetRow.chain == chain)
    rows = list(session.execute(query).scalars())
    if not rows:
        raise InputError("asset", f"unknown asset {text!r}; register it first")
    if len(rows) > 1:
        chains = ", ".join(sorted(f"{r.chain}:{r.symbol}" for r in rows))
        raise InputError("asset", f"{text!r} is on several chains; write one of {chains}")
    r = rows[0]
    return Asset(r.symbol, r.chain, r.decimals, r.contract)


def find_wallet(session: Session, asset: Asset, wallet_id: str | None) -> WalletRow:
    if wallet_id is not None:
        wallet = session.get(WalletRow, wallet_id)
        if wallet is None or not wallet.active:
            raise InputError("source_wallet", f"no active wallet {wallet_id!r}")
        if wallet.chain != asset.chain or asset.symbol not in wallet.assets:
            raise InputError("source_wallet", f"wallet {wallet_id} does not hold {asset.key}")
        return wallet
    candidates = session.execute(
        select(WalletRow)
        .where(WalletRow.chain == asset.chain, WalletRow.tier == Tier.HOT.value)
        .where(WalletRow.active.is_(True))
        .order_by(WalletRow.id)
    ).scalars()
    for wallet in candidates:
        if asset.symbol in wallet.assets:
            return wallet
    raise InputError(
        "source_wallet", f"no active hot wallet holds {asset.key}; name a source wallet"
    )
