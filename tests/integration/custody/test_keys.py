"""Key inventory rules and the nonce self-test over real signatures, on both databases."""

from __future__ import annotations

import hashlib

import pytest
from eth_keys.backends.native.ecdsa import G, N, fast_multiply, inv
from eth_keys.datatypes import PrivateKey, Signature
from sqlalchemy import select

from kinko.chains.base import EcdsaSignature
from kinko.chains.bitcoin import Payment
from kinko.chains.ethereum import EthereumAdapter, Fees, Transfer
from kinko.context import Context
from kinko.core.errors import Conflict, InputError
from kinko.core.events import SecurityEvent
from kinko.custody import keys
from kinko.custody.keys import KeyStatus, NewKeyShare
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from tests.integration.custody.exchange import ACTOR, set_up
from tests.support.identity import ensure_secret_key, make_user
from tests.unit.chains.btc_fixtures import adapter as btc_adapter
from tests.unit.chains.btc_fixtures import funding, key_bytes

CEREMONY = {
    "performed_at": "2026-11-01T10:00:00Z",
    "witnesses": ["u-aud", "u-ciso"],
    "procedure": "KGC-7 rev 3",
    "video": "vault://ceremony/2026-11-01",
}


def _staff(ctx: Context, *names: str) -> dict[str, str]:
    """Active staff users (key holders must be enrolled staff)."""
    ensure_secret_key(ctx)
    return {n: make_user(ctx, n, with_authenticator=False)[0] for n in names}


def _share(wallet: str, holder: str, device: str, pub: str) -> NewKeyShare:
    return NewKeyShare(wallet, holder, device, "tokyo-dc1", "Kinko KK", pub, CEREMONY)


def test_inventory_refuses_a_second_share_on_one_holder_or_device(ctx: Context) -> None:
    ids = set_up(ctx)
    u = _staff(ctx, "alice", "bob", "carol", "dave")
    with ctx.db.transaction() as s:
        first = keys.unsafe_register_share(
            ctx, s, _share(ids.btc_cold, u["alice"], "hsm-1", "pk1"), actor=ACTOR
        )
    with (
        pytest.raises(Conflict, match=f"{u['alice']} already holds share"),
        ctx.db.transaction() as s,
    ):
        keys.unsafe_register_share(
            ctx, s, _share(ids.btc_cold, u["alice"], "hsm-2", "pk2"), actor=ACTOR
        )
    with pytest.raises(Conflict, match="device hsm-1 already stores"), ctx.db.transaction() as s:
        keys.unsafe_register_share(
            ctx, s, _share(ids.btc_cold, u["bob"], "hsm-1", "pk2"), actor=ACTOR
        )
    with ctx.db.transaction() as s:
        keys.unsafe_register_share(
            ctx, s, _share(ids.btc_cold, u["bob"], "hsm-2", "pk2"), actor=ACTOR
        )
        keys.unsafe_register_share(
            ctx, s, _share(ids.btc_cold, u["carol"], "hsm-3", "pk3"), actor=ACTOR
        )
        # the same holder may hold a share of another wallet
        keys.unsafe_register_share(
            ctx, s, _share(ids.btc_hot, u["alice"], "hsm-9", "pk9"), actor=ACTOR
        )
    with pytest.raises(Conflict, match="already has 3 of 3"), ctx.db.transaction() as s:
        keys.unsafe_register_share(
            ctx, s, _share(ids.btc_cold, u["dave"], "hsm-4", "pk4"), actor=ACTOR
        )
    with ctx.db.transaction() as s:
        keys.set_status(ctx, s, first, KeyStatus.REVOKED, reason="rotated", actor=ACTOR)
        # after revocation the holder can receive a replacement share
        keys.unsafe_register_share(
            ctx, s, _share(ids.btc_cold, u["alice"], "hsm-5", "pk5"), actor=ACTOR
        )
        assert [r.status for r in keys.shares(s, ids.btc_cold)].count("active") == 3


def test_the_holder_must_be_an_active_staff_user(ctx: Context) -> None:
    ids = set_up(ctx)
    with (
        pytest.raises(InputError, match="'u-nobody' is not an active staff user id") as err,
        ctx.db.transaction() as s,
    ):
        keys.unsafe_register_share(
            ctx, s, _share(ids.eth_hot, "u-nobody", "hsm", "pk"), actor=ACTOR
        )
    assert err.value.field == "holder"


def test_a_share_needs_its_ceremony_record_and_every_field(ctx: Context) -> None:
    ids = set_up(ctx)
    u = _staff(ctx, "ann")
    bare = NewKeyShare(
        ids.eth_hot, u["ann"], "laptop", "tokyo", "Kinko KK", "pk", {"witnesses": []}
    )
    with (
        pytest.raises(InputError, match="performed_at, witnesses, procedure"),
        ctx.db.transaction() as s,
    ):
        keys.unsafe_register_share(ctx, s, bare, actor=ACTOR)
    with pytest.raises(InputError) as err, ctx.db.transaction() as s:
        keys.unsafe_register_share(ctx, s, _share(ids.eth_hot, u["ann"], " ", "pk"), actor=ACTOR)
    assert err.value.field == "device"


def test_status_only_moves_forward_and_compromise_raises_a_critical_event(ctx: Context) -> None:
    ids = set_up(ctx)
    u = _staff(ctx, "ann")
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    with ctx.db.transaction() as s:
        share = keys.unsafe_register_share(
            ctx, s, _share(ids.eth_hot, u["ann"], "yubi", "pk"), actor=ACTOR
        )
        keys.set_status(ctx, s, share, KeyStatus.REVOKED, reason="left", actor=ACTOR)
        assert events == []  # published once the transaction commits
    assert [(e.type, e.severity, e.fields["share"]) for e in events] == [
        ("custody.key.registered", "medium", share),
        ("custody.key.revoked", "medium", share),
    ]
    assert events[0].wallet == ids.eth_hot and events[0].fields["holder"] == u["ann"]
    assert events[1].fields["from"] == "active" and events[1].fields["reason"] == "left"
    with pytest.raises(Conflict, match="cannot become active"), ctx.db.transaction() as s:
        keys.set_status(ctx, s, share, KeyStatus.ACTIVE, reason="oops", actor=ACTOR)
    with ctx.db.transaction() as s:
        keys.set_status(ctx, s, share, KeyStatus.COMPROMISED, reason="laptop stolen", actor=ACTOR)
    compromised = events[-1]
    assert (compromised.type, compromised.severity) == ("custody.key.compromised", "critical")
    assert compromised.actor == ACTOR and compromised.fields["from"] == "revoked"
    assert len(events) == 3  # the refused move published nothing
    with ctx.db.transaction() as s:
        actions = list(s.execute(select(AuditEntryRow.action)).scalars())
    assert "custody.key.revoked" in actions and "custody.key.compromised" in actions


def _same_k_signatures(secret: int, k: int, messages: list[bytes]) -> list[EcdsaSignature]:
    """ECDSA (SEC 1, 4.1.3) with a fixed nonce k: what a broken signer would do."""
    key = PrivateKey(secret.to_bytes(32, "big"))
    r = fast_multiply(G, k)[0] % N
    out = []
    for message in messages:
        z = int.from_bytes(hashlib.sha256(message).digest(), "big")
        s = inv(k, N) * (z + r * secret) % N
        digest = hashlib.sha256(message).digest()
        assert any(key.public_key.verify_msg_hash(digest, Signature(vrs=(v, r, s))) for v in (0, 1))
        out.append(EcdsaSignature(key.public_key.to_compressed_bytes(), r, s, digest))
    return out


def test_nonce_check_passes_on_real_rfc6979_signatures_then_catches_a_reused_k(
    ctx: Context, services: Services
) -> None:
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    eth = EthereumAdapter("mainnet")
    secret = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
    btc = btc_adapter()
    unsigned = btc.build(
        funding(btc, [50_000, 60_000]),
        [Payment("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", 70_000)],
        2,
    )
    signed = btc.combine([btc.sign(unsigned, key_bytes(1)), btc.sign(unsigned, key_bytes(2))])
    with ctx.db.transaction() as s:
        for nonce in range(5):
            fees = Fees(10**10, 10**9, 21_000)
            to = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
            raw = eth.sign(eth.build(Transfer(to, to, 1 + nonce, nonce, fees)), secret)
            keys.record_signatures(
                ctx, s, "ethereum", eth.decode(raw).details["tx_hash"], eth.signatures(raw)
            )
        assert keys.record_signatures(ctx, s, "bitcoin", "btc-tx", btc.signatures(signed)) == 4
        assert keys.record_signatures(ctx, s, "bitcoin", "btc-tx", btc.signatures(signed)) == 0
    report = services.nonce_check(ACTOR)
    assert report.passed and report.scanned == 9 and events == [] and report.frozen == ()

    leaked = _same_k_signatures(0xC0FFEE, 0x1234567, [b"withdrawal 1", b"withdrawal 2"])
    with ctx.db.transaction() as s:
        keys.record_signatures(ctx, s, "bitcoin", "tx-a", leaked[:1])
        keys.record_signatures(ctx, s, "bitcoin", "tx-b", leaked[1:])
    report = services.nonce_check(ACTOR)
    assert not report.passed
    # No wallet is known for the leaked key: its chain is frozen (fail closed).
    assert report.frozen == ("chain:bitcoin",)
    (finding,) = report.findings
    assert finding.kind.value == "repeated_r_same_key"
    # why it is critical: two signatures with one k give away the private key
    (a, b) = finding.signatures
    za, zb = int(a.digest, 16), int(b.digest, 16)
    k = (za - zb) * inv(a.s - b.s, N) % N
    assert (a.s * k - za) * inv(finding.r, N) % N == 0xC0FFEE
    (event,) = [e for e in events if e.type == "custody.nonce_reuse"]
    assert event.severity == "critical" and event.fields["frozen"] == ["chain:bitcoin"]
    assert [e.fields["target"] for e in events if e.type == "freeze.set"] == ["bitcoin"]
    with ctx.db.transaction() as s:
        actions = list(
            s.execute(select(AuditEntryRow.action).order_by(AuditEntryRow.seq)).scalars()
        )
    assert actions[-2:] == ["custody.nonce_check.failed", "freeze.set"]
    assert "custody.nonce_check.passed" in actions


def test_a_failed_nonce_check_freezes_the_keys_wallet_at_once_without_a_monitor(
    ctx: Context, services: Services
) -> None:
    ids = set_up(ctx)
    u = _staff(ctx, "ann")
    leaked = _same_k_signatures(0xC0FFEE, 0x1234567, [b"withdrawal 1", b"withdrawal 2"])
    with ctx.db.transaction() as s:
        share = _share(ids.btc_cold, u["ann"], "hsm-1", leaked[0].public_key.hex())
        keys.unsafe_register_share(ctx, s, share, actor=ACTOR)
        keys.record_signatures(ctx, s, "bitcoin", "tx-a", leaked[:1])
        keys.record_signatures(ctx, s, "bitcoin", "tx-b", leaked[1:])
    report = services.nonce_check(ACTOR)  # no monitor runs in this test
    assert report.frozen == (f"wallet:{ids.btc_cold}",)
    with ctx.db.reading() as s:
        (freeze,) = services.freezes.active_freezes(s)
        entries = list(
            s.execute(
                select(AuditEntryRow.action, AuditEntryRow.actor).order_by(AuditEntryRow.seq.desc())
            ).all()[:2]
        )
    assert (freeze.scope.value, freeze.target) == ("wallet", ids.btc_cold)
    assert "nonce self-test failed (repeated_r_same_key" in freeze.reason
    (set_, failed) = entries
    assert (set_.action, set_.actor, failed.action) == (
        "freeze.set",
        ACTOR,
        "custody.nonce_check.failed",
    )
    # A second run finds the same and freezes nothing twice (the freeze is in force).
    assert services.nonce_check(ACTOR).frozen == (f"wallet:{ids.btc_cold}",)
    with ctx.db.reading() as s:
        assert len(services.freezes.active_freezes(s)) == 1


def test_concurrent_registrations_for_one_holder_cannot_both_succeed(ctx: Context) -> None:
    import threading

    ids = set_up(ctx)
    u = _staff(ctx, "ann")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def register(device: str) -> None:
        barrier.wait()
        try:
            with ctx.db.transaction() as s:
                keys.unsafe_register_share(
                    ctx, s, _share(ids.btc_cold, u["ann"], device, device), actor=ACTOR
                )
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=register, args=(d,)) for d in ("hsm-a", "hsm-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    with ctx.db.transaction() as s:
        assert len(keys.shares(s, ids.btc_cold)) == 1
