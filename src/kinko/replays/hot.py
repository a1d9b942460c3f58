"""The wallets the raw-key replays rob: registered in custody (first setup's direct path,
audited), funded on the chain, their key the one the thief holds."""

from __future__ import annotations

from dataclasses import dataclass

from kinko.chains.ethereum.address import keccak256
from kinko.custody.wallets import NewWallet, unsafe_register_wallet
from kinko.replays.bench import Bench

CAPPED_HOT = "wal_eth_hot_capped"
# The stolen key: made up for the replay, never used anywhere else.
STOLEN_KEY = keccak256(b"kinko replay: the hot wallet key the thief holds")


@dataclass(frozen=True, slots=True)
class Robbed:
    """A wallet to register: its id, name, tier, purpose and quorum m-of-n."""

    wallet_id: str
    name: str
    tier: str
    purpose: str
    quorum: tuple[int, int]


def register_and_fund(bench: Bench, wallet: Robbed, key: bytes, amount: int, funder: int) -> str:
    """Register `wallet` at `key`'s address and fund it with `amount` from the chain's
    account `funder`; its address."""
    w3 = bench.w3
    address = str(w3.eth.account.from_key(key).address)
    spec = NewWallet(
        name=wallet.name,
        chain="ethereum",
        network="devnet",
        assets=("ethereum:ETH",),
        tier=wallet.tier,
        owner_class="customer",
        purpose=wallet.purpose,
        quorum_m=wallet.quorum[0],
        quorum_n=wallet.quorum[1],
        eligible_roles=("approver", "senior_approver"),
        address=address,
    )
    with bench.ctx.db.transaction() as session:
        unsafe_register_wallet(
            bench.ctx, session, spec, actor="system:replay", wallet_id=wallet.wallet_id
        )
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": w3.eth.accounts[funder], "to": address, "value": amount})
    )
    if bench.balance(address) != amount:
        raise RuntimeError(f"{wallet.wallet_id} holds {bench.balance(address)}, not {amount}")
    return address


def fund_capped_hot_wallet(bench: Bench, cap: int) -> tuple[str, bytes]:
    """The hot wallet holding `cap` (the exchange's rebalancing keeps it there), booked in
    the address book as the exchange's own; (address, the key the thief holds)."""
    wallet = Robbed(CAPPED_HOT, "ETH hot (capped)", "hot", "operational", (2, 3))
    address = register_and_fund(bench, wallet, STOLEN_KEY, cap, funder=2)
    bench.book(address, "ETH hot (capped): the exchange's own")
    return address, STOLEN_KEY
