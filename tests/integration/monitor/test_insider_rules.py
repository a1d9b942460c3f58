"""The monitor sees insiders (issue #13, item 8): each rule of the default pack written for
an insider's move fires on Kinko's own events when the real action runs, through the
services the API and CLI call, on both databases, with `start_monitor` as `kinko serve`
wires it. Each has its near miss: the ordinary action next to it stays silent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.monitor.triage import TriageService
from kinko.services import Services
from kinko.store.tables.identity import RoleGrantRow
from kinko.store.tables.monitor import AlertRow
from kinko.withdrawals.service import WithdrawalRequest
from kinko.withdrawals.states import State
from tests.integration.custody.exchange import set_up
from tests.integration.monitor import kinko_flows as flows
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange, build_exchange
from tests.support.alerts import evidence, fired
from tests.support.identity import make_user
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _evidence(ctx: Context, alert_id: str) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        row = session.get(AlertRow, alert_id)
        assert row is not None
        return dict(row.evidence)


@pytest.fixture
def watched(ctx: Context, services: Services) -> Context:
    """`ctx` with the monitor `kinko serve` runs listening to its bus."""
    services.start_monitor()
    return ctx


@pytest.fixture
def staff(ctx: Context) -> flows.Admins:
    return flows.admins(ctx)


def test_a_privileged_grant_alerts(watched: Context, staff: flows.Admins) -> None:
    flows.grant_requester_role(watched, staff)
    assert "kinko-privileged-role-grant" not in fired(watched)
    flows.grant_privileged_role(watched, staff)
    assert fired(watched).count("kinko-privileged-role-grant") == 1


def test_an_admin_suspended_alerts(watched: Context, staff: flows.Admins) -> None:
    clerk = flows.grant_requester_role(watched, staff)
    flows.suspend(watched, staff, clerk)  # not privileged: no alert
    assert "kinko-privileged-person-suspended" not in fired(watched)
    flows.suspend(watched, staff, staff.third)
    assert fired(watched).count("kinko-privileged-person-suspended") == 1


def test_a_weaker_policy_alerts(watched: Context) -> None:
    flows.weaken_policy(watched)
    with watched.db.transaction() as session:
        alerts = TriageService(watched).list_alerts(session)
    assert [a.rule_id for a in alerts] == ["kinko-policy-weakened"] * 2
    changes = {_evidence(watched, a.id)["change"] for a in alerts}
    assert changes == {"limit_raised", "quorum_lowered"}


def test_a_replaced_list_alerts(watched: Context, staff: flows.Admins, tmp_path: Path) -> None:
    flows.update_list(watched)
    assert "kinko-screening-list-replaced" not in fired(watched)
    flows.replace_list(watched, staff, tmp_path)
    assert fired(watched).count("kinko-screening-list-replaced") == 1


def test_a_privileged_token_alerts(watched: Context, staff: flows.Admins) -> None:
    flows.reader_service_token(watched, staff)
    assert "kinko-privileged-token-created" not in fired(watched)
    flows.privileged_service_token(watched, staff)
    assert fired(watched).count("kinko-privileged-token-created") == 1


def test_a_lifted_freeze_alerts(watched: Context, staff: flows.Admins) -> None:
    flows.lift_freeze(watched, staff)
    assert fired(watched).count("kinko-freeze-lifted") == 1


def test_a_refused_step_alerts(watched: Context, staff: flows.Admins) -> None:
    flows.grant_requester_role(watched, staff)  # a step that succeeds: silent
    assert "kinko-insider-refused" not in fired(watched)
    flows.refused_step(watched, staff)
    [alert] = evidence(watched, "kinko-insider-refused")
    assert alert["actor"] == f"user:{staff.first}" and alert["code"] == "person_required"


def test_a_compromised_key_alerts(watched: Context) -> None:
    ids = set_up(watched)
    holder, _ = make_user(watched, "ann", with_authenticator=False)
    flows.mark_key_compromised(watched, ids.eth_hot, holder)
    assert fired(watched) == ["kinko-key-compromised"]


def test_a_reused_nonce_alerts(watched: Context) -> None:
    flows.reuse_a_nonce(watched)
    assert fired(watched) == ["kinko-nonce-reuse"]


def test_a_factor_reset_then_a_privileged_act_asks_for_step_up(
    watched: Context, staff: flows.Admins
) -> None:
    flows.remove_factors(watched, staff, staff.third)
    assert "kinko-factor-reset-then-privileged" not in fired(watched)
    roles = services_of(watched).identity.roles
    person, _ = make_user(watched, "next", with_authenticator=False)
    with watched.db.transaction() as session:  # the reset admin proposes a grant
        roles.propose(
            session,
            actor=staff.third,
            kind=flows.ProposalKind.GRANT_ROLE,
            payload={"user_id": person, "role": "approver"},
            reason="new approver",
        )
    assert "kinko-factor-reset-then-privileged" in fired(watched)


@pytest.fixture(scope="module")
def w3() -> Any:
    from web3 import EthereumTesterProvider, Web3

    return Web3(EthereumTesterProvider())


def two_approvals(ex: Exchange, key: str) -> str:
    wd = ex.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="2", destination=RECIPIENT),
        requester=ex.user("alice"),
        idempotency_key=key,
        channel="api",
    )
    assert wd.state is State.PENDING_APPROVAL
    for name in ("bob", "carol"):
        ex.approvals.approve(wd.id, approver=ex.user(name), assertion=ex.assertion_for(name, wd.id))
    return wd.id


def test_a_quorum_of_new_approvers_alerts(ctx: Context, services: Services, w3: Any) -> None:
    ex = build_exchange(ctx, w3)  # bob and carol were granted approver just now
    services.start_monitor()
    wd_id = two_approvals(ex, "k-newcomers")
    # The withdrawal is then signed by the service itself: at night by the test's clock
    # (the time of day the suite runs), the off-hours rule fires too, and that is right.
    assert fired(ctx).count("kinko-quorum-by-newcomers") == 1
    with ctx.db.transaction() as session:
        [alert] = (
            session.query(AlertRow).filter(AlertRow.rule_id == "kinko-quorum-by-newcomers").all()
        )
    assert alert.evidence["withdrawal_id"] == wd_id
    assert alert.evidence["oldest_approver_grant_days"] == 0
    assert sorted(alert.evidence["approvers"]) == sorted([ex.user("bob"), ex.user("carol")])


def test_a_quorum_with_a_seasoned_approver_is_silent(ctx: Context, w3: Any) -> None:
    ex = build_exchange(ctx, w3)
    with ctx.db.transaction() as session:  # carol has approved for a month
        session.execute(
            update(RoleGrantRow)
            .where(RoleGrantRow.user_id == ex.user("carol"))
            .values(granted_at=ctx.clock.now() - timedelta(days=30))
        )
    ex.services.start_monitor()
    wd_id = two_approvals(ex, "k-seasoned")
    assert "kinko-quorum-by-newcomers" not in fired(ctx)
    # Nothing held it back: approved, then signed and broadcast by the services themselves.
    assert ex.withdrawals.get(wd_id).state is State.BROADCAST


# --- a four-eyes step approved by a newcomer (issue 13, attack 1(c)) ----------------------

NEWCOMERS = "kinko-quorum-by-newcomers"
Step = Callable[[Context, flows.Admins, Path], None]


def _grant(ctx: Context, team: flows.Admins) -> None:
    flows.grant_privileged_role(ctx, team)


FOUR_EYES_STEPS: dict[str, Step] = {
    "proposal.grant_role": lambda ctx, team, _: _grant(ctx, team),
    "proposal.set_user_state": lambda ctx, team, _: flows.suspend(ctx, team, team.third),
    "proposal.remove_mfa": lambda ctx, team, _: flows.remove_factors(ctx, team, team.third),
    "proposal.create_token": lambda ctx, team, _: flows.privileged_service_token(ctx, team),
    "proposal.activate_policy": lambda ctx, team, _: flows.approve_configured_policy(ctx, team),
    "proposal.replace_list": flows.replace_list,
    "proposal.release_freeze": lambda ctx, team, _: flows.lift_freeze(ctx, team),
    "proposal.release_response": lambda ctx, team, _: flows.release_a_lock(ctx, team),
}


def newcomer_alerts(ctx: Context) -> list[dict[str, Any]]:
    with ctx.db.reading() as session:
        rows = session.query(AlertRow).filter(AlertRow.rule_id == NEWCOMERS).all()
        return [dict(row.evidence) for row in rows]


@pytest.fixture
def seasoned(watched: Context, clock: FixedClock) -> flows.Admins:
    """Three security admins who have been admins for 30 days."""
    staff = flows.admins(watched)
    clock.advance(timedelta(days=30))
    return staff


@pytest.mark.parametrize("step", sorted(FOUR_EYES_STEPS))
@pytest.mark.parametrize("approver", ["newcomer", "seasoned"])
def test_a_four_eyes_step_approved_by_a_newcomer_alerts(
    watched: Context, seasoned: flows.Admins, tmp_path: Path, step: str, approver: str
) -> None:
    """The attacker's fresh admin approves: alerted, naming the step and the approver; the
    same step approved by an admin of 30 days is silent."""
    team = seasoned
    if approver == "newcomer":
        fresh, _ = make_user(watched, "fresh-admin")  # with a key: the approver
        flows.propose_and_approve(  # four eyes, by seasoned admins: silent
            watched,
            seasoned,
            flows.ProposalKind.GRANT_ROLE,
            {"user_id": fresh, "role": "security_admin"},
            "a new admin",
        )
        assert newcomer_alerts(watched) == []
        team = flows.Admins(seasoned.first, fresh, seasoned.third)
    FOUR_EYES_STEPS[step](watched, team, tmp_path)
    alerts = newcomer_alerts(watched)
    if approver == "seasoned":
        assert alerts == []
        return
    [alert] = alerts
    assert (alert["type"], alert["step"]) == ("four_eyes.approved", step)
    assert alert["approver"] == f"user:{team.second}" and alert["approvers"] == [alert["approver"]]
    assert alert["proposer"] == f"user:{team.first}"
    assert alert["oldest_approver_grant_days"] == 0 and alert["eligible_roles"] == [
        "security_admin"
    ]


@pytest.mark.parametrize("approver", ["newcomer", "seasoned"])
def test_an_address_book_entry_approved_by_a_newcomer_alerts(
    watched: Context, clock: FixedClock, approver: str
) -> None:
    clerk, _ = make_user(watched, "clerk", ["requester"], with_authenticator=False)
    senior, _ = make_user(watched, "senior", ["senior_approver"])
    clock.advance(timedelta(days=30))
    if approver == "newcomer":
        senior, _ = make_user(watched, "new-senior", ["senior_approver"])
    flows.approve_address(watched, clerk, senior)
    alerts = newcomer_alerts(watched)
    if approver == "seasoned":
        assert alerts == []
        return
    [alert] = alerts
    assert (alert["step"], alert["approver"]) == ("proposal.address_book_entry", f"user:{senior}")
    assert alert["eligible_roles"] == ["senior_approver"]


def test_what_a_cli_command_does_reaches_the_monitor(ctx: Context) -> None:
    """`kinko custody nonce-check` in a process of its own (no `kinko serve`): its event
    is evaluated by the monitor every `kinko` command carries, and the alert stored."""
    from typer.testing import CliRunner

    from kinko.cli.main import app

    public_key = bytes.fromhex("03" + "22" * 32)
    with ctx.db.transaction() as session:
        flows.keys.record_signatures(
            ctx,
            session,
            "ethereum",
            "0xabc",
            [
                flows.EcdsaSignature(public_key, 0x1234, 0x5678 + i, bytes([i]) * 32)
                for i in range(2)
            ],
        )
    env = {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
    }
    result = CliRunner().invoke(app, ["custody", "nonce-check"], env=env)
    assert result.exit_code == 1, result.output
    assert fired(ctx) == ["kinko-nonce-reuse"]
