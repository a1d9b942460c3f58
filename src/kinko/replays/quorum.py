"""Ronin 2022: a 5-of-9 quorum whose keys one organisation could reach (its own four and a
fifth whose signing it had been allowed, the allowance never revoked). The replay
registers the nine validators' key shares and the allowance as a delegation through the
key inventory's four-eyes proposals (an operator proposes, a security admin approves with
their key), reads from Kinko's records which keys one legal entity can reach, and gives
the thief, who holds Sky Mavis's, what that reach allows: the bridge's ETH, outside Kinko,
only if the inventory let one entity reach the quorum."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from kinko.chains.ethereum.address import keccak256
from kinko.core.errors import KinkoError
from kinko.custody.delegations import delegations, value
from kinko.custody.reach import reach
from kinko.identity.model import ProposalKind
from kinko.replays import weak
from kinko.replays.bench import Bench
from kinko.replays.hot import Robbed, register_and_fund
from kinko.replays.model import Control, Result, Scenario
from kinko.replays.raw_key import drain
from kinko.replays.reading import judge
from kinko.store.tables.custody import KeyShareRow

BRIDGE = "wal_ronin_bridge"
BRIDGE_KEY = keccak256(b"kinko replay: the bridge's quorum, as one key")
QUORUM = (5, 9)
THIEF_ENTITY = "Sky Mavis"  # whose keys the thief took (a phished employee)
# (holder, legal entity): Sky Mavis's four validators, Axie DAO's, four independent ones
VALIDATORS = (
    *((f"skymavis-{i}", "Sky Mavis") for i in range(1, 5)),
    ("axie-dao", "Axie DAO"),
    *((f"validator-{i}", f"Validator {i}") for i in range(6, 10)),
)
# Axie DAO allowlisted Sky Mavis to sign for it in November 2021, to end in December 2021.
ALLOWED_FROM = datetime(2021, 11, 1, tzinfo=UTC)
MEANT_TO_END = datetime(2021, 12, 31, tzinfo=UTC)


def _register(
    bench: Bench, kind: ProposalKind, payload: dict[str, Any], what: str, seen: list[str]
) -> str | None:
    """Register through four eyes; the refusal's code, or None when registered."""
    try:
        proposal = bench.register(kind, payload)
    except KinkoError as exc:
        seen.append(f"{what} refused ({exc.code}): {exc.message}")
        return exc.code
    seen.append(f"{what} registered (proposal {proposal})")
    return None


def _shares(bench: Bench, seen: list[str]) -> list[str]:
    refused = []
    for n, (holder, entity) in enumerate(VALIDATORS, start=1):
        share = {
            "wallet_id": BRIDGE,
            "holder": bench.person(holder),
            "device": f"hsm-{holder}",
            "site": f"site-{entity}",
            "legal_entity": entity,
            "public_key": _public(n),
            "ceremony": {
                "performed_at": ALLOWED_FROM.isoformat(),
                "witnesses": ["replay"],
                "procedure": "validator key",
            },
        }
        code = _register(bench, ProposalKind.REGISTER_KEY_SHARE, share, f"{holder}'s key", seen)
        refused += [code] if code else []
    return refused


def _allowance(bench: Bench, seen: list[str]) -> list[str]:
    """Axie DAO's signing delegated to Sky Mavis: as given (ended in December 2021), then
    as it really stood (never revoked: open-ended, here a year from today)."""
    base = {"wallet_id": BRIDGE, "from_entity": "Axie DAO", "to_entity": THIEF_ENTITY}
    given = {**base, "starts_at": ALLOWED_FROM.isoformat(), "ends_at": MEANT_TO_END.isoformat()}
    ends = bench.ctx.clock.now() + timedelta(days=365)
    stood = {**base, "ends_at": ends.isoformat()}
    refused = []
    for payload, what in (
        (given, "the allowance as given (Nov-Dec 2021)"),
        (stood, "the allowance as it stood (never revoked)"),
    ):
        code = _register(bench, ProposalKind.REGISTER_DELEGATION, payload, what, seen)
        refused += [code] if code else []
    return refused


def _thiefs_reach(bench: Bench) -> int:
    """How many of the bridge's keys Sky Mavis reaches, read from the key inventory."""
    now = bench.ctx.clock.now()
    with bench.ctx.db.reading() as session:
        entities = session.execute(
            select(KeyShareRow.legal_entity).where(
                KeyShareRow.wallet_id == BRIDGE, KeyShareRow.status != "revoked"
            )
        ).scalars()
        found = [value(d, now) for d in delegations(session, BRIDGE)]
        counts = {r.entity: r.count for r in reach(list(entities), found, now)}
    return counts.get(THIEF_ENTITY, 0)


def _public(n: int) -> str:
    point = weak.multiply(n + 1000)
    if point is None:
        raise ValueError("no public key for 0")
    return ("02" if point[1] % 2 == 0 else "03") + f"{point[0]:064x}"


def ronin(scenario: Scenario, bench: Bench) -> Result:
    """The bridge's ETH in one transaction (the USDC, the second, is not replayed), if the
    thief's organisation reaches the quorum in Kinko's key inventory."""
    seen: list[str] = []
    wallet = Robbed(BRIDGE, "Ronin bridge (5-of-9 validators)", "warm", "short_term_cold", QUORUM)
    address = register_and_fund(bench, wallet, BRIDGE_KEY, scenario.attempted_units, funder=3)
    refused = _shares(bench, seen) + _allowance(bench, seen)
    held = _thiefs_reach(bench)
    seen.append(f"the thief, holding {THIEF_ENTITY}'s keys, reaches {held} of the quorum 5")
    if held >= QUORUM[0]:  # the inventory let one organisation reach the quorum: drain
        result = drain(
            scenario,
            bench,
            [(0, scenario.attempted_units)],
            wallet=lambda b, s, o: (address, BRIDGE_KEY),
            refill=False,
        )
        return replace(result, observations=(*seen, *result.observations))
    seen.append(
        f"{held} of {QUORUM[0]} signatures: no transaction can be signed; nothing leaves the bridge"
    )
    return Result(
        scenario=scenario,
        outcome=judge(0, scenario, refused=bool(refused), frozen=False),
        asset="ETH",
        decimals=18,
        loss_units=0,
        alert_after_s=None,
        freeze_after_s=None,
        controls=tuple(Control(f"custody:{code}", ()) for code in dict.fromkeys(refused)),
        observations=tuple(seen),
    )
