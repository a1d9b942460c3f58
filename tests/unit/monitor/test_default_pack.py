"""Every rule of the default pack fires on its attack and stays silent on a near-miss.

The whole pack runs on each sequence (not the rule alone), so interactions between rules
and the type index are exercised too.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kinko.monitor.engine import Engine
from kinko.monitor.events import MonitorEvent
from kinko.monitor.rules import default_pack
from tests.unit.monitor.sources.test_exchange_pack import OUTSIDE_RULES
from tests.unit.monitor.support import ev

ETH = 10**18
Seq = Callable[[], list[MonitorEvent]]


def outflows(wallet: str, amounts_at: list[tuple[int, float]], **kw: object) -> list[MonitorEvent]:
    return [
        ev("chain.outflow", at, wallet=wallet, asset="ETH", amount=amount, withdrawal_id="wd", **kw)
        for amount, at in amounts_at
    ]


def grant(**kw: object) -> MonitorEvent:
    return ev("role.change", actor="user:a2", kind="grant_role", role="approver", **kw)


def mfa(actor: str, failures: int) -> list[MonitorEvent]:
    out = [ev("auth.mfa", i * 30, actor=actor, outcome="failure") for i in range(failures)]
    return [*out, ev("auth.mfa", failures * 30 + 5, actor=actor, outcome="success")]


def watch_failures(times: list[int], chain: str = "ethereum") -> list[MonitorEvent]:
    return [
        ev("chain.watch_failed", at, chain=chain, network="mainnet", outcome="failure")
        for at in times
    ]


CASES: dict[str, tuple[Seq, Seq]] = {
    "kinko-liabilities-dropped": (
        lambda: [ev("custody.liabilities_statement", largest_drop_bp=1000, statement="lst_1")],
        lambda: [ev("custody.liabilities_statement", largest_drop_bp=499, statement="lst_1")],
    ),
    "kinko-chain-watcher-blind": (
        lambda: watch_failures([0, 2, 4]),  # the node down for three passes
        lambda: watch_failures([0, 2]) + watch_failures([4], chain="bitcoin"),
    ),
    "kinko-chain-wallet-unwatched": (
        lambda: [ev("chain.unwatched", chain="ethereum", network="mainnet")],
        lambda: [ev("chain.outflow", wallet="w1", asset="ETH", amount=1, withdrawal_id="wd")],
    ),
    "kinko-signed-differs-from-intent": (
        lambda: [ev("signer.refused", wallet="w1", reason="digest_mismatch")],
        lambda: [ev("signer.refused", wallet="w1", reason="quorum_missing")],
    ),
    "kinko-dangerous-contract-call": (
        lambda: [ev("signer.request", wallet="w1", call_kind="dangerous")],
        lambda: [ev("signer.request", wallet="w1", call_kind="token_transfer")],
    ),
    "kinko-hot-outflow-without-withdrawal": (
        lambda: [ev("chain.outflow", wallet="w1", asset="ETH", amount=5, wallet_tier="hot")],
        lambda: [
            ev(
                "chain.outflow",
                wallet="w1",
                asset="ETH",
                amount=5,
                wallet_tier="hot",
                withdrawal_id="wd_1",
            )
        ],
    ),
    "kinko-outflow-sum-over-cap-eth": (
        lambda: outflows("w1", [(200 * ETH, 0), (200 * ETH, 600), (200 * ETH, 1200)]),
        lambda: outflows("w1", [(200 * ETH, 0), (200 * ETH, 4200), (200 * ETH, 8400)]),
    ),
    "kinko-many-assets-leaving": (
        lambda: [
            ev("chain.outflow", i * 60, wallet="w1", asset=a, amount=1, withdrawal_id="x")
            for i, a in enumerate(["ETH", "USDT", "LINK"])
        ],
        lambda: [
            ev("chain.outflow", i * 660, wallet="w1", asset=a, amount=1, withdrawal_id="x")
            for i, a in enumerate(["ETH", "USDT", "LINK"])
        ],
    ),
    "kinko-new-address-large-withdrawal": (
        lambda: [
            ev("withdrawal.request", destination_first_seen=True, asset="ETH", amount=10 * ETH),
            ev(
                "withdrawal.request",
                destination_first_seen=True,
                asset="bitcoin:BTC",
                amount=2 * 10**7,
            ),
        ],
        lambda: [
            ev("withdrawal.request", destination_first_seen=True, asset="ETH", amount=9 * ETH),
            ev("withdrawal.request", destination_first_seen=False, asset="ETH", amount=99 * ETH),
            ev(
                "withdrawal.request", destination_first_seen=True, asset="BTC", amount=2 * 10**7 - 1
            ),
        ],
    ),
    "kinko-addressbook-change-then-withdrawal": (
        lambda: [
            ev("addressbook.change", 0, destination="0xabc", actor="u1"),
            ev("withdrawal.request", 3600, destination="0xabc", withdrawal_id="wd_1"),
        ],
        lambda: [
            ev("withdrawal.request", 0, destination="0xabc", withdrawal_id="wd_1"),
            ev("addressbook.change", 3600, destination="0xabc", actor="u1"),
        ],
    ),
    "kinko-sanctions-hit": (
        lambda: [ev("withdrawal.request", screening="hit", withdrawal_id="wd_1")],
        lambda: [ev("withdrawal.request", screening="clear", withdrawal_id="wd_1")],
    ),
    "kinko-screening-stale": (
        lambda: [ev("screening.stale", outcome="failure", subject="freshness check")],
        lambda: [ev("screening.hit", subject="freshness check")],
    ),
    "kinko-mfa-fatigue": (lambda: mfa("u1", 5), lambda: mfa("u1", 4)),
    "kinko-factor-reset-then-privileged": (
        lambda: [
            ev(
                "auth.mfa",
                0,
                actor="user:a2",
                outcome="approved",
                kind="remove_mfa",
                target_user="u1",
            ),
            ev("role.change", 3 * 3600, actor="user:u1", outcome="proposed", role="approver"),
        ],
        lambda: [
            ev(
                "auth.mfa",
                0,
                actor="user:a2",
                outcome="approved",
                kind="remove_mfa",
                target_user="u1",
            ),
            ev("role.change", 25 * 3600, actor="user:u1", outcome="proposed", role="approver"),
            ev(
                "auth.mfa",
                26 * 3600,
                actor="user:a2",
                outcome="proposed",
                kind="remove_mfa",
                target_user="u2",
            ),
            ev("role.change", 27 * 3600, actor="user:u2", outcome="proposed", role="approver"),
        ],
    ),
    "kinko-credential-stuffing": (
        lambda: [
            ev("auth.login", i, actor=f"user{i}", outcome="failure", source_ip="203.0.113.9")
            for i in range(10)
        ],
        lambda: [
            ev("auth.login", i, actor=f"user{i % 9}", outcome="failure", source_ip="203.0.113.9")
            for i in range(30)
        ],
    ),
    "kinko-privileged-role-grant": (
        lambda: [grant(outcome="approved", privileged=True)],
        lambda: [
            grant(outcome="proposed", privileged=True),
            grant(outcome="approved", privileged=False),
            grant(outcome="refused", privileged=True),
        ],
    ),
    "kinko-privileged-person-suspended": (
        lambda: [
            ev("user.state", actor="user:a2", outcome="suspended", privileged=True),
            ev("user.state", actor="user:a2", outcome="removed", privileged=True),
        ],
        lambda: [
            ev("user.state", actor="user:a2", outcome="suspended", privileged=False),
            ev("user.state", actor="user:a2", outcome="active", privileged=True),
        ],
    ),
    "kinko-screening-list-replaced": (
        lambda: [ev("screening.list_loaded", list="ofac-sdn", changes=["format", "publisher"])],
        lambda: [ev("screening.list_loaded", list="ofac-sdn", changes=[])],
    ),
    "kinko-privileged-token-created": (
        lambda: [ev("token.create", actor="user:a2", outcome="created", privileged=True)],
        lambda: [
            ev("token.create", actor="user:a2", outcome="created", privileged=False),
            ev("token.create", actor="user:a1", outcome="proposed", privileged=True),
        ],
    ),
    "kinko-freeze-lifted": (
        lambda: [ev("admin.action", actor="user:a2", action="freeze.released")],
        lambda: [ev("admin.action", actor="user:a2", action="token.revoke")],
    ),
    "kinko-quorum-by-newcomers": (
        lambda: [ev("withdrawal.quorum", withdrawal_id="wd", oldest_approver_grant_days=0)],
        lambda: [ev("withdrawal.quorum", withdrawal_id="wd", oldest_approver_grant_days=7)],
    ),
    "kinko-key-compromised": (
        lambda: [ev("custody.key.compromised", wallet="w1", share="ks_1")],
        lambda: [ev("custody.key.revoked", wallet="w1", share="ks_1")],
    ),
    "kinko-nonce-reuse": (
        lambda: [ev("custody.nonce_reuse", outcome="failure", kind="repeated_r_same_key")],
        lambda: [ev("custody.nonce_check", outcome="success")],
    ),
    "kinko-requester-approves-own": (
        lambda: [ev("withdrawal.approve", actor="u1", requester="u1", withdrawal_id="wd")],
        lambda: [ev("withdrawal.approve", actor="u1", requester="u2", withdrawal_id="wd")],
    ),
    "kinko-insider-refused": (
        lambda: [ev("authz.refused", actor="user:a2", outcome="refused", code="self_approval")],
        lambda: [
            ev("auth.login", actor="username:a2", outcome="failure"),
            ev("authz.refused", actor="anonymous:203.0.113.7", outcome="refused"),
        ],
    ),
    "kinko-policy-weakened": (
        lambda: [ev("policy.change", actor="u1", change="quorum_lowered")],
        lambda: [ev("policy.change", actor="u1", change="limit_lowered")],
    ),
    "kinko-withdraw-token-new-network": (
        lambda: [
            ev("token.use", actor="token:t1", outcome="new_address", scopes=["withdrawals:create"])
        ],
        lambda: [ev("token.use", actor="token:t1", outcome="new_address", scopes=["custody:read"])],
    ),
    "kinko-off-hours-signing": (
        lambda: [ev("signer.sign", -6 * 3600, wallet="w1")],
        lambda: [ev("signer.sign", 0, wallet="w1")],
    ),
    "kinko-signing-rate-spike": (
        lambda: [ev("signer.request", i * 5, wallet="w1") for i in range(30)],
        lambda: [ev("signer.request", i * 5, wallet="w1") for i in range(29)],
    ),
    "kinko-dormant-account": (
        lambda: [ev("auth.login", actor="u1", outcome="success", days_since_last_login=120)],
        lambda: [ev("auth.login", actor="u1", outcome="success", days_since_last_login=30)],
    ),
    "kinko-cold-to-hot-unplanned": (
        lambda: [
            ev(
                "chain.outflow",
                wallet="c1",
                asset="BTC",
                amount=1,
                wallet_tier="cold",
                destination_tier="hot",
                withdrawal_id="x",
            )
        ],
        lambda: [
            ev(
                "chain.outflow",
                wallet="c1",
                asset="BTC",
                amount=1,
                wallet_tier="cold",
                destination_tier="hot",
                withdrawal_id="x",
                rebalance_plan="rb_1",
            )
        ],
    ),
}

PACK = default_pack()


def fired(events: list[MonitorEvent]) -> list[str]:
    engine = Engine(PACK)
    return [a.rule_id for a in engine.process_many(events)]


def test_every_alerting_rule_has_a_case() -> None:
    emitting = {r.id for r in PACK.detections if r.emits} | {
        c.id for c in PACK.correlations if c.emits
    }
    # the rules on outside sources have their cases in sources/test_exchange_pack.py
    assert emitting == set(CASES) | OUTSIDE_RULES


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_attack(rule_id: str) -> None:
    attack, _ = CASES[rule_id]
    assert rule_id in fired(attack())


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_silent_on_near_miss(rule_id: str) -> None:
    _, near_miss = CASES[rule_id]
    assert rule_id not in fired(near_miss())


def test_sustained_attack_alerts_once_per_threshold() -> None:
    alerts = fired([ev("signer.request", i, wallet="w1") for i in range(60)])
    assert alerts.count("kinko-signing-rate-spike") == 2


def test_responses_named_by_rules() -> None:
    spec = {r.id: r.response for r in PACK.detections} | {
        c.id: c.response for c in PACK.correlations
    }
    assert spec["kinko-hot-outflow-without-withdrawal"].action.value == "freeze"
    assert spec["kinko-mfa-fatigue"].action.value == "lock_account"
    assert spec["kinko-sanctions-hit"].action.value == "hold_withdrawal"
    # A refusal only ever alerts: a lock on refusals would be a denial-of-service lever.
    assert spec["kinko-insider-refused"].action.value == "alert"


def test_an_approval_refused_for_altered_bytes_is_the_signer_s_refusal_seen_earlier() -> None:
    """The approval service refused an approval because the transaction on record no
    longer has its recorded digest (kinko.withdrawals.as_signed): the same rule as the
    signer's refusal fires; another refused approval does not."""
    altered = ev("withdrawal.approve", wallet="w1", outcome="failure", code="transaction_altered")
    other = ev("withdrawal.approve", wallet="w1", outcome="failure", code="duplicate_approver")
    assert "kinko-signed-differs-from-intent" in fired([altered])
    assert "kinko-signed-differs-from-intent" not in fired([other])
    not_exported = ev("withdrawal.bundle_refused", wallet="w1", code="digest_mismatch")
    assert "kinko-signed-differs-from-intent" in fired([not_exported])
