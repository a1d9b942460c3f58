"""Wallets name their assets by key (``ethereum:ETH``, as `kinko wallet add` and custody
store them); rows from before that name the bare symbol. Withdrawals find the source
wallet and apply asset freezes the same way for both."""

from __future__ import annotations

from kinko.context import Context
from kinko.demo.exchange import devnet_eth_wallet
from kinko.policy.freeze import FreezeService
from kinko.policy.model import FreezeScope
from kinko.store.tables.custody import AssetRow
from kinko.withdrawals.lookup import choose_wallet, find_asset, find_wallet
from kinko.withdrawals.wiring import WalletFreezes
from tests.support.services import services_of

ADDRESS = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"


def test_keyed_and_bare_asset_wallets_both_serve_and_both_freeze(ctx: Context) -> None:
    now = ctx.clock.now()
    with ctx.db.transaction() as s:
        s.add(AssetRow(chain="ethereum", symbol="ETH", decimals=18, contract=None))
        keyed = devnet_eth_wallet(
            "wal_keyed",
            name="keyed",
            tier="hot",
            purpose="operational",
            address=ADDRESS,
            created_at=now,
        )
        assert keyed.assets == ["ethereum:ETH"]
        bare = devnet_eth_wallet(
            "wal_bare",
            name="bare",
            tier="warm",
            purpose="operational",
            address=ADDRESS,
            created_at=now,
        )
        bare.assets = ["ETH"]
        s.add_all([keyed, bare])
    with ctx.db.transaction() as s:
        eth = find_asset(s, "ETH")
        assert choose_wallet(s, eth, None).id == "wal_keyed"  # the hot one holding ETH
        assert choose_wallet(s, eth, "wal_bare").id == "wal_bare"
        assert find_wallet(s, eth, "wal_keyed").id == "wal_keyed"
        assert find_wallet(s, eth, "wal_bare").id == "wal_bare"
        FreezeService(ctx).freeze(
            s, scope=FreezeScope.ASSET, target="ethereum:ETH", reason="drain", actor="u_sec"
        )
    freezes = WalletFreezes(services_of(ctx).freezes)
    with ctx.db.transaction() as s:
        for wallet in ("wal_keyed", "wal_bare"):
            reason = freezes.frozen_reason_for_wallet(s, wallet)
            assert reason is not None and "ethereum:ETH" in reason, wallet
