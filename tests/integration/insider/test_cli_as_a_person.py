"""Issue 13's insider with a shell, replayed through the CLI on SQLite and PostgreSQL: each
command acts for a person with that person's own session, through the real API
(`tests.support.cli_api`). Attack 5 (one shell operator plays every role) and attack 4
(one admin replaces the OFAC list): every step tried alone exits non-zero with the API's
stable error code (``--json``), and the monitor alerts naming the person.

A real `kinko serve` with the CLI as processes (and a server refusing to start on an
unapproved policy) is tests/e2e/test_cli_as_person.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.identity.service import IdentityService
from kinko.policy.versions import current_digest
from kinko.screening.model import VerdictStatus
from kinko.screening.service import ScreeningService
from tests.integration.insider.steps import Watch
from tests.integration.monitor.kinko_flows import FIXTURES, fake_ofac_csv
from tests.integration.policy.test_policy_approval import weaker_text
from tests.support.alerts import REFUSED_RULE, evidence
from tests.support.cli_api import kinko, route_cli_to_api
from tests.support.identity import make_user
from tests.support.services import services_of

LAZARUS = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"


@pytest.fixture
def people(ctx: Context, watch: Watch, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Watch:
    """Two security admins and mallory (no role yet); the CLI's requests go to the API,
    watched by the monitor."""
    app = route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    app.state.monitor = watch.monitor
    for name, roles in (("sec1", ["security_admin"]), ("sec2", ["security_admin"])):
        make_user(ctx, name, roles, with_authenticator=False)
    make_user(ctx, "mallory", [], with_authenticator=False)
    return watch


def uid(ctx: Context, username: str) -> str:
    with ctx.db.reading() as session:
        return IdentityService(ctx).users.require_user(session, username).id


def refused(watch: Watch, done: tuple[int, str], exit_code: int, code: str, who: str) -> None:
    """The command exited `exit_code` with the API's error `code` (its --json document),
    and exactly one new alert names `who`."""
    status, out = done
    assert status == exit_code, out
    assert json.loads(out[out.index("{") : out.rindex("}") + 1])["error"] == code, out
    watch.alerted_once(code, uid(watch.ctx, who))


def proposal_in(done: tuple[int, str]) -> str:
    status, out = done
    found = re.search(r"prp_[0-9a-z]+", out)
    assert status == 0 and found is not None, out
    return found.group(0)


def test_5_one_shell_operator_cannot_play_every_role(ctx: Context, people: Watch) -> None:
    w = people
    grant = ["role", "propose", "mallory", "security_admin", "--reason", "x"]
    mallory_admin = proposal_in(kinko(ctx, *grant, as_="sec1"))
    approve = ["role", "approve", mallory_admin, "--json"]
    # Nobody can be named as the actor: --as is not an option (no request is made).
    status, out = kinko(ctx, *approve, "--as", "sec2", as_="sec1")
    assert status == 2 and "No such option: --as" in " ".join(out.split())
    w.quiet()
    # Their own vote on their own proposal; the vote of the person it is about (mallory,
    # no role: the four-eyes rules decide who may approve, whatever the proposal's kind).
    refused(w, kinko(ctx, *approve, as_="sec1"), 1, "self_approval", "sec1")
    refused(w, kinko(ctx, *approve, as_="mallory"), 1, "self_approval", "mallory")
    # Commands that once skipped the role check get the server's.
    suspend = ["user", "suspend", "sec2", "--reason", "x", "--json"]
    refused(w, kinko(ctx, *suspend, as_="mallory"), 1, "missing_permission", "mallory")
    # And one admin never takes the other away: never fewer than two.
    refused(w, kinko(ctx, *suspend, as_="sec1"), 2, "last_two_admins", "sec1")
    # Without a credential the CLI acts for nobody (and nobody is alerted on).
    status, out = kinko(ctx, "user", "add", "eve")
    assert status == 1 and "not signed in" in out
    w.quiet()
    with ctx.db.reading() as session:
        ids = IdentityService(ctx)
        assert ids.roles_of(session, uid(ctx, "mallory")) == ()
        assert [g.role.value for g in ids.roles_of(session, uid(ctx, "sec2"))] == ["security_admin"]


def test_5_a_weaker_policy_waits_for_a_second_admin(
    ctx: Context, people: Watch, tmp_path: Path
) -> None:
    with ctx.db.transaction() as session:
        services_of(ctx).policy.record_version(session)  # the sample is in force
        in_force = current_digest(session)
    weak = tmp_path / "weak.yaml"
    weak.write_text(weaker_text(), encoding="utf-8")
    proposal = proposal_in(
        kinko(ctx, "policy", "propose", str(weak), "--reason", "busy", as_="sec1")
    )
    done = kinko(ctx, "role", "approve", proposal, "--json", as_="sec1")
    refused(people, done, 1, "self_approval", "sec1")
    with ctx.db.reading() as session:
        assert current_digest(session) == in_force


def test_4_one_admin_cannot_replace_the_ofac_list(
    ctx: Context, people: Watch, clock: FixedClock, tmp_path: Path
) -> None:
    clock.set(clock.now().replace(year=2024, month=5, day=29))  # a day after the excerpt
    screening = ScreeningService(ctx)
    screening.load_file(FIXTURES / "sdn_advanced_excerpt.xml", actor="system:setup")
    fake = fake_ofac_csv(tmp_path / "ofac.csv")
    status, out = kinko(ctx, "lists", "load", str(fake), "--json", as_="sec1")
    assert status == 0, out
    [proposed] = json.loads(out)["proposed"]
    assert sorted(proposed["changes"]) == ["format", "publisher"]
    done = kinko(ctx, "role", "approve", proposed["proposal"], "--json", as_="sec1")
    refused(people, done, 1, "self_approval", "sec1")
    with ctx.db.reading() as session:
        verdict = screening.screen_address(session, chain="ethereum", address=LAZARUS)
    assert verdict.status is VerdictStatus.HIT


def test_the_cli_refusal_alert_says_how_it_was_tried(ctx: Context, people: Watch) -> None:
    """The alert's evidence: the route, the method, the session, the person's name."""
    proposal = proposal_in(
        kinko(ctx, "role", "propose", "mallory", "approver", "--reason", "x", as_="sec1")
    )
    done = kinko(ctx, "role", "approve", proposal, "--json", as_="sec1")
    refused(people, done, 1, "self_approval", "sec1")
    [alert] = evidence(ctx, REFUSED_RULE)
    assert alert["route"] == "/v1/roles/proposals/{proposal_id}/approve"
    assert (alert["method"], alert["credential"], alert["username"]) == ("POST", "session", "sec1")
    assert (alert["status"], alert["type"], alert["origin"]) == (403, "authz.refused", "kinko")
