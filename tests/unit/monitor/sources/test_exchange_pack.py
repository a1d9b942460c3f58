"""The default pack's rules that link outside signals to wallet actions (issue #15, point 5):
each fires on the sources it names (samples in tests/fixtures/sources, written from the
vendors' schemas) and stays silent on a day of ordinary traffic from every source and from
Kinko itself."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from kinko.monitor.engine import Engine
from kinko.monitor.events import MonitorEvent
from kinko.monitor.rules import default_pack
from kinko.monitor.sources import SOURCES, parse_source
from tests.unit.monitor.support import T0, ev

SAMPLES = Path(__file__).parents[3] / "fixtures" / "sources"
OUTSIDE_RULES = frozenset(
    {
        "kinko-idp-new-place-then-wallet-change",
        "kinko-idp-mfa-fatigue",
        "kinko-okta-session-two-countries",
        "kinko-secret-read-then-signer-deploy",
        "kinko-ssh-bruteforce-then-login",
        "kinko-cloud-mfa-registration-refused",
        "kinko-signing-frontend-changed-by-person",
        "kinko-cloud-mfa-refused-then-frontend-change",
    }
)
"""The default pack's alerting rules on outside sources, each tested here."""
ETH = 10**18


def _source(name: str, path: str) -> list[MonitorEvent]:
    return parse_source(SOURCES[name], (SAMPLES / path).read_text(encoding="utf-8"))


def _fired(events: list[MonitorEvent]) -> Counter[str]:
    engine = Engine(default_pack())
    ordered = sorted(events, key=lambda e: e.time)
    return Counter(a.rule_id for a in engine.process_many(ordered))


def _new_place() -> MonitorEvent:
    (signin, *_) = _source("okta", "okta/pack-attack.jsonl")  # 09:00, Okta: New Country
    return signin


def _policy_loosened(at: timedelta) -> MonitorEvent:
    return ev("policy.change", at.total_seconds(), actor="user:u_ops", change="limit_raised")


def _cold_to_hot(at: timedelta, amount: int, *, planned: bool = True) -> MonitorEvent:
    fields = {"rebalance_plan": "rebalance-7"} if planned else {}
    return ev(
        "chain.outflow",
        at.total_seconds(),
        wallet="wal_eth_cold",
        asset="ETH",
        amount=amount,
        wallet_tier="cold",
        destination_tier="hot",
        chain="ethereum",
        withdrawal_id="wd_1",
        **fields,
    )


def test_new_place_signin_then_a_loosened_policy_alerts() -> None:
    fired = _fired([_new_place(), _policy_loosened(timedelta(hours=2))])
    assert fired["kinko-idp-new-place-then-wallet-change"] == 1
    assert fired["kinko-policy-weakened"] == 1  # still alerts on its own


def test_new_place_signin_then_a_large_planned_rebalance_alerts() -> None:
    fired = _fired([_new_place(), _cold_to_hot(timedelta(hours=3), 150 * ETH)])
    assert fired["kinko-idp-new-place-then-wallet-change"] == 1


def test_entra_unfamiliar_signin_counts_as_a_new_place() -> None:
    (unfamiliar,) = _source("entra-signin", "entra/pack-new-place.jsonl")  # 00:50, at risk
    (familiar, *_) = _source("entra-signin", "entra/signin-benign.jsonl")  # 00:45
    fired = _fired([unfamiliar, _policy_loosened(timedelta(hours=-6))])
    assert fired["kinko-idp-new-place-then-wallet-change"] == 1
    fired = _fired([familiar, _policy_loosened(timedelta(hours=-6))])
    assert fired["kinko-idp-new-place-then-wallet-change"] == 0


def test_the_wallet_change_must_follow_within_four_hours() -> None:
    late = _fired([_new_place(), _policy_loosened(timedelta(hours=4, minutes=1))])
    before = _fired([_policy_loosened(timedelta(minutes=-30)), _new_place()])
    small = _fired([_new_place(), _cold_to_hot(timedelta(hours=1), 99 * ETH)])
    for fired in (late, before, small):
        assert fired["kinko-idp-new-place-then-wallet-change"] == 0


def test_mfa_fatigue_on_okta_and_entra() -> None:
    okta = _source("okta", "okta/pack-attack.jsonl")[1:4]  # three pushes denied
    entra = _source("entra-signin", "entra/pack-mfa-denied.jsonl")
    assert _fired(okta)["kinko-idp-mfa-fatigue"] == 1
    assert _fired(entra)["kinko-idp-mfa-fatigue"] == 1
    assert _fired(okta[:2])["kinko-idp-mfa-fatigue"] == 0


def test_one_session_from_two_countries() -> None:
    okta = _source("okta", "okta/pack-attack.jsonl")[4:]
    assert _fired(okta)["kinko-okta-session-two-countries"] == 1
    assert _fired(okta[:1])["kinko-okta-session-two-countries"] == 0


def test_a_person_reads_a_secret_then_the_signer_is_deployed() -> None:
    read = _source("cloudtrail", "cloudtrail/pack-attack.jsonl")  # 11:00, an SSO session
    deploy = _source("kubernetes", "kubernetes/pack-attack.jsonl")  # 11:30, hot-signer
    assert _fired(read + deploy)["kinko-secret-read-then-signer-deploy"] == 1
    # the pipeline's own read (its role) before the same deploy is ordinary
    pipeline = [
        e
        for e in _source("cloudtrail", "cloudtrail/benign.jsonl")
        if e.type.endswith("get_secret_value")
    ]
    assert pipeline
    moved = [e.model_copy(update={"time": deploy[0].time - timedelta(minutes=5)}) for e in pipeline]
    assert _fired(moved + deploy)["kinko-secret-read-then-signer-deploy"] == 0


def test_ssh_guessing_then_a_login_from_the_same_address() -> None:
    fired = _fired(_source("sshd", "sshd/attack.jsonl"))
    assert fired["kinko-ssh-bruteforce-then-login"] == 1


def test_a_refused_mfa_registration_then_the_front_end_changed_by_that_identity() -> None:
    """Bybit 2025's cloud side: a hijacked developer session is refused an MFA device of
    the attacker's, then swaps the signing page's JavaScript in S3 (two days before the
    signing); each step alerts, and the two by one identity within three days are critical."""
    attack = _source("cloudtrail", "cloudtrail/pack-frontend-attack.jsonl")
    fired = _fired(attack)
    assert fired["kinko-cloud-mfa-registration-refused"] == 2
    assert fired["kinko-signing-frontend-changed-by-person"] == 1
    assert fired["kinko-cloud-mfa-refused-then-frontend-change"] == 1
    # the same change by another identity, or three days later, is not the sequence
    *tries, swap = attack
    later = swap.model_copy(update={"time": tries[-1].time + timedelta(hours=72, minutes=1)})
    assert _fired([*tries, later])["kinko-cloud-mfa-refused-then-frontend-change"] == 0
    # the deployment pipeline's upload and a person's successful enrolment are ordinary
    benign = _source("cloudtrail", "cloudtrail/pack-frontend-benign.jsonl")
    assert _fired(benign) == Counter()


def ordinary_day() -> list[MonitorEvent]:
    """A day of ordinary traffic: every source's benign samples, the pack's benign
    samples, and Kinko's own routine (a planned large rebalance, approved withdrawals,
    sign-ins with MFA)."""
    outside = [
        ("cloudtrail", "cloudtrail/benign.jsonl"),
        ("cloudtrail", "cloudtrail/pack-frontend-benign.jsonl"),
        ("okta", "okta/benign.jsonl"),
        ("okta", "okta/pack-benign.jsonl"),
        ("entra-signin", "entra/signin-benign.jsonl"),
        ("entra-audit", "entra/audit-benign.jsonl"),
        ("github", "github/benign.jsonl"),
        ("workspace-login", "workspace/benign.jsonl"),
        ("auditd", "auditd/benign.log"),
        ("sshd", "sshd/benign.jsonl"),
        ("kubernetes", "kubernetes/benign.jsonl"),
        ("kubernetes", "kubernetes/pack-benign.jsonl"),
    ]
    events = [e for name, path in outside for e in _source(name, path)]
    events.append(_cold_to_hot(timedelta(hours=-6), 150 * ETH))  # 03:00, planned
    for minute in range(0, 480, 40):
        at = -8 * 3600 + minute * 60
        events.append(ev("auth.login", at, actor="user:u_bob", outcome="success"))
        events.append(ev("auth.mfa", at + 5, actor="user:u_bob", outcome="success"))
    return events


def test_a_day_of_ordinary_traffic_raises_nothing() -> None:
    day = ordinary_day()
    assert len(day) > 50 and min(e.time for e in day) < T0
    assert _fired(day) == Counter()
