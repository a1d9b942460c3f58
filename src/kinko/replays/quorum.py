"""Ronin 2022: a 5-of-9 quorum whose keys one organisation could reach (its own four and a
fifth whose signing it had been allowed, and the allowance never revoked). The replay
registers the key shares as the key inventory records them, then lets the holder of five
keys move the bridge's ETH outside Kinko, and reads what Kinko did."""

from __future__ import annotations

from datetime import UTC, datetime

from kinko.chains.ethereum.address import keccak256
from kinko.core.errors import KinkoError
from kinko.custody.keys import NewKeyShare, unsafe_register_share
from kinko.custody.wallets import NewWallet, unsafe_register_wallet
from kinko.replays import weak
from kinko.replays.bench import Bench
from kinko.replays.model import Result, Scenario
from kinko.replays.raw_key import drain

BRIDGE = "wal_ronin_bridge"
BRIDGE_KEY = keccak256(b"kinko replay: the bridge's quorum, as one key")
# (holder, legal entity, whose signing the holder's organisation reaches)
VALIDATORS = (
    *((f"skymavis-{i}", "Sky Mavis", "Sky Mavis") for i in range(1, 5)),
    ("axie-dao", "Axie DAO", "Sky Mavis (allowlisted 2021-11, never revoked)"),
    *((f"validator-{i}", f"Validator {i}", f"Validator {i}") for i in range(6, 10)),
)


def _bridge(bench: Bench, scenario: Scenario, observations: list[str]) -> tuple[str, bytes]:
    w3 = bench.w3
    address = str(w3.eth.account.from_key(BRIDGE_KEY).address)
    spec = NewWallet(
        name="Ronin bridge (5-of-9 validators)",
        chain="ethereum",
        network="devnet",
        assets=("ethereum:ETH",),
        tier="warm",
        owner_class="customer",
        purpose="short_term_cold",
        quorum_m=5,
        quorum_n=9,
        eligible_roles=("approver", "senior_approver"),
        address=address,
    )
    with bench.ctx.db.transaction() as session:
        unsafe_register_wallet(bench.ctx, session, spec, actor="system:replay", wallet_id=BRIDGE)
    registered = 0
    for n, (holder, entity, reached_by) in enumerate(VALIDATORS, start=1):
        share = NewKeyShare(
            wallet_id=BRIDGE,
            holder=bench.person(holder),
            device=f"hsm-{holder}",
            site=f"site-{entity}",
            legal_entity=entity,
            public_key=_public(n),
            ceremony={
                "performed_at": datetime(2021, 11, 1, tzinfo=UTC).isoformat(),
                "witnesses": ["replay"],
                "procedure": f"validator key; signing reachable by {reached_by}",
            },
        )
        try:
            with bench.ctx.db.transaction() as session:
                unsafe_register_share(bench.ctx, session, share, actor="system:replay")
            registered += 1
        except KinkoError as exc:
            observations.append(f"key share of {holder} refused: {exc.message}")
    reach = sum(1 for v in VALIDATORS if v[2].startswith("Sky Mavis"))
    observations.append(
        f"key inventory accepted {registered} of 9 shares; {reach} of them (quorum 5) are "
        "reachable by Sky Mavis"
    )
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction(
            {"from": w3.eth.accounts[3], "to": address, "value": scenario.attempted_units}
        )
    )
    return address, BRIDGE_KEY


def _public(n: int) -> str:
    point = weak.multiply(n + 1000)
    assert point is not None
    return ("02" if point[1] % 2 == 0 else "03") + f"{point[0]:064x}"


def ronin(scenario: Scenario, bench: Bench) -> Result:
    """The bridge's ETH in one transaction (the USDC, the second, is not replayed)."""
    return drain(scenario, bench, [(0, scenario.attempted_units)], wallet=_bridge, refill=False)
