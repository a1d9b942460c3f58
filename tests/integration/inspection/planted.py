"""An exchange seeded through Kinko's own services with one violation per class (issue #16
point 7), over the seven days ending yesterday (derived from the real time). The clock is
moved day by day; each day's evidence is what the services held when it was taken.

Planted:
- CUS-01: the Japanese cold share at 94.9% on BAD_DAY;
- KEY-02: two shares of btc-hot on one device, registered as "HSM-9" and "hsm-9" (the
  registration compares names exactly and let it through);
- IAM-03: olga held operator + requester (no conflict then) on the first three days; her
  requester role was revoked and the matrix changed to make the pair a conflict;
- IAM-06: dora, an approver, has not signed in since her enrolment 100 days before;
- KEY-08: two signatures of one key with the same r, recorded on NONCE_DAY;
- GOV-04: the wallet-software vendor's review was due on VENDOR_DUE;
- IR-01: the last key-compromise drill was held 400 days before the period;
- GOV-01: the CISO also heads IT operations;
- GOV-02: the security budget is 5% of the IT budget (5-5-7 recommends 7%);
- MON-02: an incident detected on DAYS[1] was reported to KISA 28 hours later (Korea's
  sourced deadline: 24 hours), recorded in the register on INCIDENTS_DAY; another, in
  Japan, was reported within the hour.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from kinko.chains.base import EcdsaSignature
from kinko.context import Context
from kinko.core.amount import Asset
from kinko.core.clock import FixedClock
from kinko.custody import holdings, keys, wallets
from kinko.identity.approval_terms import ApprovalKind
from kinko.identity.model import ProposalKind, UserId
from kinko.identity.permissions import Role
from kinko.identity.sod import DEFAULT_MATRIX
from kinko.inspection.register import Kind
from kinko.inspection.register_changes import parse_record, record_json
from kinko.services import Services
from tests.integration.custody.exchange import _spec
from tests.support.clock import RUN_DAY
from tests.support.identity import make_user
from tests.support.votes import key_vote
from tests.unit.chains.btc_fixtures import descriptor
from tests.unit.inspection.register_seed import good_records
from tests.unit.inspection.seed import days

END = RUN_DAY - timedelta(days=1)
DAYS = days(END, 7)
BAD_DAY, NONCE_DAY = DAYS[2], DAYS[4]
VENDOR_DUE = DAYS[2]
INCIDENTS_DAY = DAYS[4]
LATE_DETECTED = datetime.combine(DAYS[1], time(10), tzinfo=UTC)
ACTOR = "user:custodian"
BTC = "bitcoin:BTC"
OWED = 100_000_000
CEREMONY = {"performed_at": "vault", "witnesses": ["w1"], "procedure": "KP-1"}


def at(day: date, hour: int = 0, minute: int = 5) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def approve(ctx: Context, services: Services, approver: UserId, proposal: str) -> None:
    vote = key_vote(ctx, approver, ApprovalKind.PROPOSAL, proposal)
    with ctx.db.transaction() as s:
        services.identity.roles.approve(s, proposal, actor=approver, vote=vote)


def propose(
    ctx: Context, services: Services, by: UserId, kind: ProposalKind, payload: dict[str, Any]
) -> str:
    with ctx.db.transaction() as s:
        return services.identity.roles.propose(
            s, actor=by, kind=kind, payload=payload, reason="seed"
        ).id


def register_changes() -> list[dict[str, Any]]:
    raw = good_records(DAYS[0])
    raw[Kind.CISO][0]["other_duties"] = ["Head of IT operations"]
    for item in raw[Kind.STAFFING]:
        if item["function"] == "security":
            item["budget_minor"] = 5 * 10**7  # 5% of the IT budget of 10**9
    for item in raw[Kind.DRILL]:
        if item["kind"] == "key_compromise":
            item["held_on"] = DAYS[0] - timedelta(days=400)
    raw[Kind.VENDOR][0].update(next_review_due=VENDOR_DUE, last_review_on=None)
    return [
        {"op": "put", "kind": kind.value, "record": record_json(parse_record(kind, item))}
        for kind, items in raw.items()
        for item in items
    ]


def incident_changes() -> list[dict[str, Any]]:
    """The incidents and their reports, put in the register after the fact."""

    def utc(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    quick = datetime.combine(DAYS[3], time(8), tzinfo=UTC)
    items = [
        {"ref": "INC-1", "title": "hot wallet outflow", "regime": "kr",
         "detected_at": utc(LATE_DETECTED), "reported_to": "KISA",
         "reported_at": utc(LATE_DETECTED + timedelta(hours=28))},
        {"ref": "INC-2", "title": "phishing of an operator", "regime": "jp",
         "detected_at": utc(quick), "reported_to": "Kanto Local Finance Bureau",
         "reported_at": utc(quick + timedelta(minutes=40))},
    ]  # fmt: skip
    kind = Kind.INCIDENT
    return [
        {"op": "put", "kind": kind.value, "record": record_json(parse_record(kind, item))}
        for item in items
    ]


def screening_list(path: Path, day: date) -> Path:
    """The exchange's own list, one more address each day (a new version to load)."""
    rows = [
        f"own,Scammer {i},ethereum,0x{i + 1:040x},r{i},2024-05-01"
        for i in range((day - DAYS[0]).days + 1)
    ]
    path.write_text(
        "list,entity_name,chain,address,source_ref,listed_on\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    return path


def signature(r: int, digest: int) -> EcdsaSignature:
    return EcdsaSignature(bytes.fromhex("02" + "ab" * 32), r, 7, digest.to_bytes(32, "big"))


def seed(ctx: Context, services: Services, clock: FixedClock, tmp: Path) -> None:
    clock.set(at(DAYS[0] - timedelta(days=100), 9))
    make_user(ctx, "dora", ["approver"])  # enrols (a session), then never signs in again

    clock.set(at(DAYS[0] - timedelta(days=1), 9))
    sec1, _ = make_user(ctx, "sec1", ["security_admin"])
    sec2, _ = make_user(ctx, "sec2", ["security_admin"])
    olga, _ = make_user(ctx, "olga", ["operator", "requester"])
    holders = [make_user(ctx, f"kh{i}")[0] for i in range(3)]
    with ctx.db.transaction() as s:
        wallets.unsafe_register_asset(ctx, s, Asset("BTC", "bitcoin", 8), actor=ACTOR)
        cold = wallets.unsafe_register_wallet(
            ctx, s, _spec("btc-cold", "bitcoin", "cold", "customer",
                          descriptor=descriptor((1, 2, 3))), actor=ACTOR,
        )  # fmt: skip
        hot = wallets.unsafe_register_wallet(
            ctx, s, _spec("btc-hot", "bitcoin", "hot", "customer", descriptor=descriptor((4, 5, 6)),
                          cap_base_units=10**8, floor_base_units=10**6), actor=ACTOR,
        )  # fmt: skip
        for wallet, devices in ((cold, ("vault-1", "vault-2", "vault-3")),
                                (hot, ("HSM-9", "hsm-9", "hsm-10"))):  # fmt: skip
            for i, (holder, device) in enumerate(zip(holders, devices, strict=True)):
                site, entity, public = f"site-{i % 2}", f"entity-{i % 2}", f"02{wallet[-6:]}{i}"
                share = keys.NewKeyShare(wallet, holder, device, site, entity, public, CEREMONY)
                keys.unsafe_register_share(ctx, s, share, actor=ACTOR)
        today = DAYS[0] - timedelta(days=1)
        holdings.set_prices(ctx, s, today, "JPY", {BTC: "15000000"}, actor=ACTOR)
        holdings.set_prices(ctx, s, today, "KRW", {BTC: "140000000"}, actor=ACTOR)
        holdings.set_liabilities(ctx, s, {BTC: OWED}, source="ledger", actor=ACTOR)
        keys.record_signatures(ctx, s, "bitcoin", "tx-0", [signature(11, 1)])
    change = propose(ctx, services, sec1, ProposalKind.REGISTER_CHANGE,
                     {"changes": register_changes()})  # fmt: skip
    approve(ctx, services, sec2, change)

    for day in DAYS:
        clock.set(at(day))
        if day == DAYS[3]:  # olga gives up requester; then the pair becomes a conflict
            with ctx.db.transaction() as s:
                revoke = services.identity.roles.revoke_role(
                    s, olga, Role.REQUESTER, actor=sec1, reason="seed"
                ).id
            approve(ctx, services, sec2, revoke)
            stricter = [*DEFAULT_MATRIX.to_list(), {"roles": ["operator", "requester"],
                                                    "same_scope": False}]  # fmt: skip
            matrix = propose(ctx, services, sec1, ProposalKind.SET_CONFLICTS,
                             {"conflicts": stricter})  # fmt: skip
            approve(ctx, services, sec2, matrix)
        if day == INCIDENTS_DAY:
            reported = propose(ctx, services, sec1, ProposalKind.REGISTER_CHANGE,
                               {"changes": incident_changes()})  # fmt: skip
            approve(ctx, services, sec2, reported)
        if day == NONCE_DAY:
            with ctx.db.transaction() as s:
                keys.record_signatures(ctx, s, "bitcoin", "tx-1", [signature(99, 2)])
                keys.record_signatures(ctx, s, "bitcoin", "tx-2", [signature(99, 3)])
        cold_units = 94_900_000 if day == BAD_DAY else 97_000_000
        with ctx.db.transaction() as s:
            holdings.set_balance(ctx, s, cold, BTC, cold_units, source="node", actor=ACTOR)
            holdings.set_balance(ctx, s, hot, BTC, OWED - cold_units, source="node", actor=ACTOR)
        services.screening.load_file(screening_list(tmp / "own.csv", day), actor=ACTOR)
        services.snapshots.take(actor="system:inspection")
