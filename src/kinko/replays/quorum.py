"""Ronin 2022: a 5-of-9 quorum whose keys one organisation could reach (its own four and a
fifth whose signing it had been allowed, and the allowance never revoked). The replay
registers the key shares as the key inventory records them, then lets the holder of five
keys move the bridge's ETH outside Kinko, and reads what Kinko did."""

from __future__ import annotations

from datetime import UTC, datetime

from kinko.chains.ethereum.address import keccak256
from kinko.core.errors import KinkoError
from kinko.custody.keys import NewKeyShare, unsafe_register_share
from kinko.replays import weak
from kinko.replays.bench import Bench
from kinko.replays.hot import Robbed, register_and_fund
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
    wallet = Robbed(BRIDGE, "Ronin bridge (5-of-9 validators)", "warm", "short_term_cold", (5, 9))
    address = register_and_fund(bench, wallet, BRIDGE_KEY, scenario.attempted_units, funder=3)
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
    return address, BRIDGE_KEY


def _public(n: int) -> str:
    point = weak.multiply(n + 1000)
    if point is None:
        raise ValueError("no public key for 0")
    return ("02" if point[1] % 2 == 0 else "03") + f"{point[0]:064x}"


def ronin(scenario: Scenario, bench: Bench) -> Result:
    """The bridge's ETH in one transaction (the USDC, the second, is not replayed)."""
    return drain(scenario, bench, [(0, scenario.attempted_units)], wallet=_bridge, refill=False)
