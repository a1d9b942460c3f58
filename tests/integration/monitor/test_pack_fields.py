"""No default rule tests a field that nothing emits (issue #13, item 8).

The events are captured from Kinko itself: an exchange on an in-process chain runs the
real flows (withdrawals small and approved, a sanctioned destination, a rebalance to cold,
a theft the chain watcher sees, a bundle the signer refuses), identity's proposals (a
privileged grant, an admin suspended, factors removed, a service account's token, sign-ins
good and bad, a token used from a new address, a step refused through the API), a weaker
policy, list loads and a replacement, a re-screen hit, stale lists, a lifted freeze, a
compromised key and a reused nonce. For every rule of the default pack, every field each
of its selections tests must appear on some captured event of a type that selection (or its
rule) matches; a correlation's group-by, alias and value fields on some event of its source
rules' types.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sigma.collection import SigmaCollection
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import SigmaFieldReference, SigmaString
from sqlalchemy import update

from kinko.chains.ethereum import EthereumAdapter
from kinko.config import Settings
from kinko.context import Context, build_context
from kinko.core.clock import FixedClock
from kinko.core.errors import KinkoError
from kinko.core.events import SecurityEvent
from kinko.custody import statements
from kinko.demo.exchange import devnet_eth_wallet
from kinko.identity.service import IdentityService
from kinko.monitor.events import from_security_event
from kinko.monitor.rules import CorrelationRule, DetectionRule, default_pack
from kinko.monitor.sigma_compile import canonical_field, required_types
from kinko.monitor.watcher import ChainWatcher
from kinko.policy.model import OwnerKind
from kinko.screening.service import ScreeningService
from kinko.signer.bundle import ApprovalBundle
from kinko.store.base import Base
from kinko.store.tables.identity import ConsoleSessionRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.export import export_bundle
from kinko.withdrawals.service import WithdrawalRequest
from kinko.withdrawals.wiring import IdentityDirectory
from tests.integration.monitor import kinko_flows as flows
from tests.integration.withdrawals.exchange import (
    LIST_CSV,
    RECIPIENT,
    SANCTIONED,
    SCREENING,
    Exchange,
    build_exchange,
)
from tests.support.addressbook import approve_entry, propose_entry
from tests.support.clock import RUN_STARTED
from tests.support.identity import make_user, owned_token, sign_in
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ALWAYS = frozenset({"time", "time.hour", "type", "severity", "origin"})
Selection = tuple[str, frozenset[str] | None, str]  # (where, types or None = any, field)


# --- what the pack reads --------------------------------------------------------------


def _items(detection: SigmaDetection) -> Iterator[SigmaDetectionItem]:
    for item in detection.detection_items:
        if isinstance(item, SigmaDetection):
            yield from _items(item)
        else:
            yield item


def detection_fields(rule: SigmaRule) -> list[Selection]:
    """(rule/selection, the types it applies to, a field it tests) for every field."""
    rule_types = required_types(rule)
    out: list[Selection] = []
    for name, detection in rule.detection.detections.items():
        items = list(_items(detection))
        pinned = frozenset(
            str(v)
            for item in items
            if item.field is not None and canonical_field(item.field) == "type"
            for v in item.value
            if isinstance(v, SigmaString)
        )
        types = pinned or rule_types
        for item in items:
            assert item.field is not None  # keyword searches are refused by the loader
            field = canonical_field(item.field)
            if field != "type":
                out.append((f"{rule.name}/{name}", types, field))
            for value in item.value:
                if isinstance(value, SigmaFieldReference):
                    out.append((f"{rule.name}/{name}", types, canonical_field(value.field)))
    return out


def correlation_fields(rule: CorrelationRule, by_id: dict[str, Any]) -> list[Selection]:
    out: list[Selection] = []
    for source in rule.sources:
        found = by_id[source]
        if not isinstance(found, DetectionRule):
            continue  # a chained correlation: its own fields are checked where it is defined
        if found.logsource[0] not in (None, "kinko"):
            continue  # outside sources: tests/unit/monitor/sources/test_pack_source_fields.py
        names = [rule.group_field(g, source) for g in rule.group_by]
        names += [rule.value_field] if rule.value_field else []
        out += [(f"{rule.id} <- {source}", found.types, name) for name in names]
    return out


def pack_fields() -> list[Selection]:
    folder = resources.files("kinko.monitor") / "rules"
    texts = [e.read_text(encoding="utf-8") for e in folder.iterdir() if e.name.endswith(".yml")]
    collection = SigmaCollection.merge([SigmaCollection.from_yaml(t) for t in texts])
    selections = [
        item
        for rule in collection.rules
        if isinstance(rule, SigmaRule) and rule.logsource.product in (None, "kinko")
        for item in detection_fields(rule)
    ]
    pack = default_pack()
    for correlation in pack.correlations:
        selections += correlation_fields(correlation, dict(pack.by_id))
    return selections


def test_the_pack_reader_sees_fields_of_selections_correlations_and_fieldrefs() -> None:
    read = pack_fields()
    assert (
        "kinko-cold-to-hot-unplanned/planned",
        frozenset({"chain.outflow"}),
        "rebalance_plan",
    ) in read
    assert (
        "kinko-requester-approves-own/approve",
        frozenset({"withdrawal.approve"}),
        "requester",
    ) in read
    assert (
        "kinko-factor-reset-then-privileged <- kinko-factor-reset",
        frozenset({"auth.mfa"}),
        "target_user",
    ) in read
    assert (
        "kinko-credential-stuffing <- kinko-login-failure",
        frozenset({"auth.login"}),
        "actor",
    ) in read


# --- what Kinko emits -----------------------------------------------------------------


@pytest.fixture
def own_ctx(tmp_path: Path) -> Iterator[Context]:
    """A SQLite context of this test's own: the question is what Kinko emits, not how the
    database behaves (the flows run on both databases in their own tests)."""
    data = tmp_path / "data"
    data.mkdir()
    ctx = build_context(
        Settings(data_dir=data, database_url=f"sqlite:///{data / 'kinko.db'}", log_json=False),
        clock=FixedClock(RUN_STARTED),
    )
    Base.metadata.create_all(ctx.db.engine)
    yield ctx
    ctx.db.dispose()


def request(ex: Exchange, amount: str, key: str, destination: str = RECIPIENT, **kw: Any) -> str:
    wd = ex.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount=amount, destination=destination, **kw),
        requester=ex.user("alice"),
        idempotency_key=key,
        channel="api",
    )
    return wd.id


def approve_by_two(ex: Exchange, wd_id: str) -> None:
    for name in ("bob", "carol"):
        ex.approvals.approve(wd_id, approver=ex.user(name), assertion=ex.assertion_for(name, wd_id))


def chain_flows(ex: Exchange, w3: Any) -> None:
    from web3 import HTTPProvider, Web3

    ctx = ex.ctx
    cold = w3.eth.accounts[3]
    with ctx.db.transaction() as session:
        session.add(
            devnet_eth_wallet(
                "wal_eth_cold",
                name="ETH cold",
                tier="cold",
                purpose="long_term_cold",
                address=cold,
                created_at=ctx.clock.now(),
            )
        )
    watcher = ChainWatcher(ctx, {("ethereum", "devnet"): EthereumAdapter("devnet", web3=w3)})
    watcher.poll_once()
    ex.executor.execute(request(ex, "0.5", "k-small"))
    big = request(ex, "2", "k-big")
    approve_by_two(ex, big)
    ex.executor.execute(big)
    ex.executor.execute(request(ex, "0.1", "rebalance-0001", destination=cold))
    request(ex, "0.5", "k-sanctioned", destination=SANCTIONED)
    tx = w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": cold, "value": 4242})
    w3.eth.wait_for_transaction_receipt(tx)
    watcher.poll_once()
    # A pending withdrawal whose destination a newer list names: the re-screen hits.
    newly_listed = "0x" + "ab" * 20
    request(ex, "3", "k-pending", destination=newly_listed)
    path = ctx.settings.data_dir / "stolen-funds-2.csv"
    path.write_text(
        LIST_CSV + f"stolen-funds,Drainer,ethereum,{newly_listed},case 2,2024-05-01\n",
        encoding="utf-8",
    )
    ScreeningService(ctx, SCREENING).load_file(path, actor="cli:ops")
    # A statement of customer liabilities (custody.liabilities_statement).
    statement = ctx.settings.data_dir / "liabilities.csv"
    statement.write_text("account,asset,base_units\nacct-1,ethereum:ETH,5\n", encoding="utf-8")
    with ctx.db.transaction() as session:
        statements.import_statement(
            ctx, session, statement, as_of=ctx.clock.now(), source="ledger", actor="user:ops"
        )
    # A pass that cannot read the chain (its node is down): chain.watch_failed.
    down = Web3(HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 2}))
    with pytest.raises(KinkoError):
        ChainWatcher(
            ctx, {("ethereum", "devnet"): EthereumAdapter("devnet", web3=down)}
        ).poll_once()
    # A bundle the signer refuses (another withdrawal's id), and an approval refused because
    # the transaction on record was swapped: each freezes the wallet, so both last.
    bundle_for = request(ex, "2", "k-refused")
    approve_by_two(ex, bundle_for)
    swapped = request(ex, "2", "k-swapped")
    ex.approvals.approve(
        swapped, approver=ex.user("bob"), assertion=ex.assertion_for("bob", swapped)
    )
    with ctx.db.transaction() as session:
        row = session.get(WithdrawalRow, swapped)
        assert row is not None and row.unsigned_tx is not None
        row.unsigned_tx = bytes(row.unsigned_tx)[:-1] + bytes([bytes(row.unsigned_tx)[-1] ^ 1])
    with pytest.raises(KinkoError):
        ex.approvals.approve(
            swapped, approver=ex.user("carol"), assertion=ex.assertion_for("carol", swapped)
        )
    with ctx.db.transaction() as session:
        bundle: ApprovalBundle = export_bundle(
            ctx, session, IdentityDirectory(services_of(ctx).identity), bundle_for
        )
    with pytest.raises(KinkoError):
        ex.signer.sign(replace(bundle, withdrawal_id="wd_" + "0" * 26))


def identity_flows(ctx: Context, staff: flows.Admins) -> None:
    flows.grant_requester_role(ctx, staff)
    flows.grant_privileged_role(ctx, staff)
    flows.privileged_service_token(ctx, staff)
    person, key = make_user(ctx, "pat", ["requester"])
    assert key is not None
    sign_in(ctx, "pat", key)
    with ctx.db.transaction() as session:  # the previous sign-in was 120 days ago
        session.execute(
            update(ConsoleSessionRow)
            .where(ConsoleSessionRow.user_id == person)
            .values(created_at=ctx.clock.now().replace(year=ctx.clock.now().year - 1))
        )
    sign_in(ctx, "pat", key)
    with pytest.raises(KinkoError):
        IdentityService(ctx).login.login_totp("pat", "000000", source_ip="203.0.113.7")
    token = owned_token(ctx, person, ["withdrawals:create"])
    with ctx.db.transaction() as session:
        IdentityService(ctx).tokens.resolve(session, token, source_ip="198.51.100.4")
    flows.remove_factors(ctx, staff, person)
    flows.refused_step(ctx, staff)
    flows.suspend(ctx, staff, staff.third)


def other_flows(ctx: Context, staff: flows.Admins, tmp_path: Path) -> None:
    with ctx.db.transaction() as session:  # no ofac-sdn yet: screening is stale
        ScreeningService(ctx).screen_address(session, chain="ethereum", address="0x" + "01" * 20)
    flows.replace_list(ctx, staff, tmp_path)
    flows.weaken_policy(ctx)
    flows.approve_configured_policy(ctx, staff)  # the exchange below decides with it
    flows.lift_freeze(ctx, staff)
    proposal = propose_entry(
        ctx, "0x" + "cd" * 20, label="customer 7", owner_kind=OwnerKind.CUSTOMER_VERIFIED
    )
    approve_entry(ctx, proposal, with_key=True)
    holder, _ = make_user(ctx, "ann", with_authenticator=False)
    flows.mark_key_compromised(ctx, "wal_eth_hot", holder)


def emitted(events: list[SecurityEvent]) -> dict[str, set[str]]:
    fields: dict[str, set[str]] = defaultdict(set)
    for event in events:
        fields[event.type] |= set(from_security_event(event).flat()) | {"origin"}
    return fields


def test_every_field_the_default_pack_tests_is_one_kinko_emits(
    own_ctx: Context, tmp_path: Path
) -> None:
    from web3 import EthereumTesterProvider, Web3

    ctx = own_ctx
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    w3 = Web3(EthereumTesterProvider())
    ex = build_exchange(ctx, w3)
    staff = flows.admins(ctx)
    identity_flows(ctx, staff)
    other_flows(ctx, staff, tmp_path)
    chain_flows(ex, w3)
    flows.reuse_a_nonce(ctx)  # last: a failed nonce self-test freezes (here, the chain)
    assert ctx.bus.failures == 0
    assert all(from_security_event(e).flat() for e in events)  # each parses as Kinko's own
    produced = emitted(events)
    missing = sorted(
        (where, field, sorted(types) if types else "any type")
        for where, types, field in pack_fields()
        if field not in ALWAYS
        and not any(field in produced[t] for t in (types if types else produced))
    )
    assert missing == [], f"fields the default pack tests but Kinko never emits: {missing}"
