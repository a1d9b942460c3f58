"""The bounded replays' hot wallet: registered in custody, funded with exactly its cap
(the exchange's rebalancing keeps it there), its key the one the thief holds."""

from __future__ import annotations

from kinko.chains.ethereum.address import keccak256
from kinko.custody.wallets import NewWallet, unsafe_register_wallet
from kinko.replays.bench import Bench

CAPPED_HOT = "wal_eth_hot_capped"
# The stolen key: made up for the replay, never used anywhere else.
STOLEN_KEY = keccak256(b"kinko replay: the hot wallet key the thief holds")


def fund_capped_hot_wallet(bench: Bench, cap: int) -> tuple[str, bytes]:
    """Register the hot wallet (first setup's direct path, audited) and fund it with `cap`
    from another of the chain's accounts; returns (address, the key)."""
    w3 = bench.w3
    address = str(w3.eth.account.from_key(STOLEN_KEY).address)
    spec = NewWallet(
        name="ETH hot (capped)",
        chain="ethereum",
        network="devnet",
        assets=("ethereum:ETH",),
        tier="hot",
        owner_class="customer",
        purpose="operational",
        quorum_m=2,
        quorum_n=3,
        eligible_roles=("approver", "senior_approver"),
        address=address,
    )
    with bench.ctx.db.transaction() as session:
        unsafe_register_wallet(
            bench.ctx, session, spec, actor="system:replay", wallet_id=CAPPED_HOT
        )
    bench.book(address, "ETH hot (capped): the exchange's own")
    funder = w3.eth.accounts[2]
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": funder, "to": address, "value": cap})
    )
    if bench.balance(address) != cap:
        raise RuntimeError(f"the capped hot wallet holds {bench.balance(address)}, not {cap}")
    return address, STOLEN_KEY
