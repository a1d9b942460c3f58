"""A small exchange's custody set-up shared by the custody integration tests."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kinko.context import Context
from kinko.core.amount import Asset
from kinko.custody import holdings, wallets
from kinko.custody.model import WalletId
from tests.support.clock import RUN_DAY
from tests.unit.chains.btc_fixtures import descriptor

ACTOR = "user:custodian"
BTC, ETH = "bitcoin:BTC", "ethereum:ETH"
DAY = RUN_DAY
ETH_COLD = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
ETH_HOT = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
ETH_GUARANTEE = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"


def proposal_in(output: str) -> str:
    """The proposal id a registration command printed (``prp_...``)."""
    found = re.search(r"\bprp_[0-9a-z]+\b", output)
    assert found is not None, output
    return found.group(0)


@dataclass(frozen=True)
class Wallets:
    btc_cold: WalletId
    btc_hot: WalletId
    eth_cold: WalletId
    eth_hot: WalletId
    eth_guarantee: WalletId


def _spec(name: str, chain: str, tier: str, owner: str, **kw: object) -> wallets.NewWallet:
    network = "regtest" if chain == "bitcoin" else "mainnet"
    asset = BTC if chain == "bitcoin" else ETH
    return wallets.NewWallet(
        name=name,
        chain=chain,
        network=network,
        assets=(asset,),
        tier=tier,
        owner_class=owner,
        purpose="long_term_cold" if tier == "cold" else "operational",
        quorum_m=kw.pop("m", 2),
        quorum_n=kw.pop("n", 3),
        **kw,  # type: ignore[arg-type]
    )


def set_up(ctx: Context) -> Wallets:
    with ctx.db.transaction() as s:
        wallets.unsafe_register_asset(ctx, s, Asset("BTC", "bitcoin", 8), actor=ACTOR)
        wallets.unsafe_register_asset(ctx, s, Asset("ETH", "ethereum", 18), actor=ACTOR)
        ids = Wallets(
            wallets.unsafe_register_wallet(
                ctx,
                s,
                _spec("btc-cold", "bitcoin", "cold", "customer", descriptor=descriptor((1, 2, 3))),
                actor=ACTOR,
            ),
            wallets.unsafe_register_wallet(
                ctx,
                s,
                _spec(
                    "btc-hot",
                    "bitcoin",
                    "hot",
                    "customer",
                    descriptor=descriptor((4, 5, 6)),
                    cap_base_units=10**8,
                    floor_base_units=10**7,
                ),
                actor=ACTOR,
            ),
            wallets.unsafe_register_wallet(
                ctx,
                s,
                _spec("eth-cold", "ethereum", "cold", "customer", address=ETH_COLD.lower()),
                actor=ACTOR,
            ),
            wallets.unsafe_register_wallet(
                ctx,
                s,
                _spec("eth-hot", "ethereum", "hot", "customer", address=ETH_HOT, m=1, n=1),
                actor=ACTOR,
            ),
            wallets.unsafe_register_wallet(
                ctx,
                s,
                _spec("eth-guarantee", "ethereum", "cold", "guarantee", address=ETH_GUARANTEE),
                actor=ACTOR,
            ),
        )
        holdings.set_prices(ctx, s, DAY, "JPY", {BTC: "15000000", ETH: "500000.5"}, actor=ACTOR)
    return ids


def fund(
    ctx: Context,
    ids: Wallets,
    *,
    btc_hot: int,
    btc_cold: int,
    eth_hot: int,
    eth_cold: int,
    eth_guarantee: int,
) -> None:
    with ctx.db.transaction() as s:
        for wallet, asset, units in (
            (ids.btc_hot, BTC, btc_hot),
            (ids.btc_cold, BTC, btc_cold),
            (ids.eth_hot, ETH, eth_hot),
            (ids.eth_cold, ETH, eth_cold),
            (ids.eth_guarantee, ETH, eth_guarantee),
        ):
            holdings.set_balance(ctx, s, wallet, asset, units, source="test", actor=ACTOR)
