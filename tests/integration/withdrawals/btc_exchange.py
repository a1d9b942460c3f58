"""A cold Bitcoin 2-of-3 wallet (regtest) added to the test exchange: descriptor, imported
UTXOs, an allow-listed destination, and services wired with the Bitcoin gateway."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from embit.transaction import Transaction

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.custody.model import Tier
from kinko.policy.model import OwnerKind
from kinko.policy.service import PolicyService
from kinko.store.tables.custody import AssetRow, WalletRow
from kinko.withdrawals.approvals import ApprovalService
from kinko.withdrawals.bitcoin import BitcoinGateway, import_utxo
from kinko.withdrawals.service import WithdrawalRequest, WithdrawalService
from kinko.withdrawals.wiring import ChainRouter, EthereumGateway, default_ports
from kinko.withdrawals.records import WithdrawalView
from tests.integration.withdrawals.exchange import Exchange
from tests.support.identity import make_user
from tests.unit.chains.btc_fixtures import adapter, descriptor, funding

WALLET = "wal_btc_cold"
DEST = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
AMOUNTS = [100_000, 120_000, 90_000]


@dataclass
class BtcExchange:
    ex: Exchange
    withdrawals: WithdrawalService
    approvals: ApprovalService
    amounts: dict[str, int]  # imported txid -> amount


def add_btc_wallet(ex: Exchange) -> BtcExchange:
    ctx: Context = ex.ctx
    with ctx.db.transaction() as session:
        session.add(AssetRow(chain="bitcoin", symbol="BTC", decimals=8, contract=None))
        session.add(
            WalletRow(
                id=WALLET,
                name="BTC cold",
                chain="bitcoin",
                network="regtest",
                assets=["BTC"],
                tier="cold",
                owner_class="customer",
                purpose="long_term_cold",
                quorum_m=2,
                quorum_n=3,
                eligible_roles=["approver", "senior_approver"],
                address=None,
                descriptor=descriptor(),
                limits={},
                active=True,
                created_at=ctx.clock.now(),
            )
        )
    amounts = {}
    for utxo in funding(adapter(), AMOUNTS, salt=7):
        done = import_utxo(ctx, wallet_id=WALLET, prev_tx=utxo.prev_tx, vout=0, actor="ops")
        amounts[done.txid] = done.amount
    sec1 = str(make_user(ctx, "sec1", ["security_admin"])[0])
    sec2 = str(make_user(ctx, "sec2", ["security_admin"])[0])
    policy = PolicyService(ctx)
    with ctx.db.transaction() as session:
        proposal = policy.addresses.propose(
            session,
            chain="bitcoin",
            address=DEST,
            label="customer 2002 (verified)",
            owner_kind=OwnerKind.CUSTOMER_VERIFIED,
            tiers_allowed=[Tier.COLD],
            actor=f"user:{sec1}",
        )
    with ctx.db.transaction() as session:
        policy.addresses.approve(session, proposal_id=proposal.id, actor=f"user:{sec2}")
    assert isinstance(ctx.clock, FixedClock)
    ctx.clock.set(ctx.clock.now() + timedelta(hours=73))  # past the cold cooling-off
    router = ChainRouter(
        {"ethereum": EthereumGateway("devnet", web3=ex.w3), "bitcoin": BitcoinGateway()}
    )
    ports = default_ports(ctx, router, screener=ex.screener)
    return BtcExchange(ex, WithdrawalService(ctx, ports), ApprovalService(ctx, ports), amounts)


def approved(btc: BtcExchange, amount: str = "0.0025", key: str = "k-btc") -> WithdrawalView:
    ex = btc.ex
    wd = btc.withdrawals.request(
        WithdrawalRequest(asset="BTC", amount=amount, destination=DEST, source_wallet=WALLET),
        requester=ex.user("alice"),
        idempotency_key=key,
        channel="api",
    )
    assert wd.digest is not None, wd
    for name in ("bob", "carol"):
        wd = btc.approvals.approve(
            wd.id, approver=ex.user(name), assertion=ex.assert_digest(name, wd.digest)
        )
    return wd


def spent_amounts(btc: BtcExchange, raw_tx: bytes) -> list[int]:
    tx = Transaction.parse(raw_tx)
    return [btc.amounts[vin.txid.hex()] for vin in tx.vin]
