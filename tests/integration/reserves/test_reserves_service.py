"""Snapshots on both databases: built against custody, logged, proven, verified; CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from kinko.context import Context
from kinko.core.errors import Conflict, InputError, IntegrityError, NotFound
from kinko.custody import holdings
from kinko.reserves.outcomes import outcomes
from kinko.reserves.verify import verify_document
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.reserves import ReserveHoldingRow
from tests.integration.custody.exchange import ACTOR, BTC, DAY, ETH, Wallets, fund, set_up
from tests.integration.reserves.keys import (
    COLD,
    HOT,
    OTHER,
    hot_keystore,
    offline_signature,
    point_at,
)
from tests.support.cli import json_out, kinko, narrow_cli
from tests.support.identity import ensure_secret_key

LEDGER = [
    ("alice", BTC, 150_000_000),
    ("alice", ETH, 2 * 10**18),
    ("bob", BTC, 150_000_000),
    ("carol", BTC, 7),
]
OWED = {BTC: 300_000_007, ETH: 2 * 10**18}


def _custody(ctx: Context, *, eth_cold: int = 2 * 10**18, owed: dict[str, int] = OWED) -> Wallets:
    """The custody exchange, its Ethereum wallets on test keys (the hot one's in Kinko's
    keystore): 10**18 wei hot, ``eth_cold`` cold; 5 BTC in Bitcoin wallets (unprovable)."""
    ensure_secret_key(ctx)  # the snapshot secret is sealed with it
    ids = set_up(ctx)
    point_at(ctx, ids)
    hot_keystore(ctx, ids)
    fund(
        ctx,
        ids,
        btc_hot=10**8,
        btc_cold=4 * 10**8,
        eth_hot=10**18,
        eth_cold=eth_cold,
        eth_guarantee=0,
    )
    with ctx.db.transaction() as s:
        holdings.set_liabilities(ctx, s, owed, source="ledger", actor=ACTOR)
        holdings.take_snapshot(ctx, s, DAY, actor=ACTOR)
    return ids


def test_a_snapshot_is_logged_and_every_customer_can_verify_it(
    ctx: Context, vkey: str, services: Services
) -> None:
    ids = _custody(ctx)
    service = services.reserves
    keys = services.withdrawal_stack().signer.keystore.key_for
    built = service.build(LEDGER, day=DAY, actor=ACTOR, key_for=keys)
    # Only the hot wallet (key held) is proven at build: the cold one's 2 ETH and every
    # Bitcoin wallet (no key held here: BIP-322 not signed yet) count for nothing: fail closed.
    assert [(c.asset, c.liabilities, c.reserves) for c in built.coverage] == [
        (BTC, 300_000_007, 0),
        (ETH, 2 * 10**18, 10**18),
    ]
    assert {r.wallet_id for r in built.unproven} == {ids.btc_hot, ids.btc_cold, ids.eth_cold}
    text = service.statement(built.id, COLD.address)
    after = service.attest(built.id, COLD.address, offline_signature(text), actor=ACTOR)
    assert [(c.asset, c.reserves, c.passed) for c in after.coverage] == [
        (BTC, 0, False),
        (ETH, 3 * 10**18, True),
    ]
    assert not after.passed
    assert {r.wallet_id for r in after.unproven} == {ids.btc_hot, ids.btc_cold}
    for account in ("alice", "bob", "carol"):
        result = verify_document(json.loads(service.prove(account)), vkey)
        assert result.snapshot == built.id
        assert {a for _, a in result.controls} == {HOT.address.lower(), COLD.address.lower()}
    alice = verify_document(json.loads(service.prove("alice", built.id)), vkey)
    assert alice.values == ((BTC, 150_000_000, 300_000_007), (ETH, 2 * 10**18, 2 * 10**18))
    with pytest.raises(NotFound, match="holds nothing"):
        service.prove("mallory")


def test_a_shortfall_in_one_asset_fails_whatever_the_others_hold(
    ctx: Context, vkey: str, services: Services
) -> None:
    """Never netted: a large BTC surplus does not cover an ETH shortfall of one wei."""
    _custody(ctx, eth_cold=2 * 10**18 - 1, owed={BTC: 0, ETH: 2 * 10**18})
    eth_only = [r for r in LEDGER if r[1] == ETH]
    keys = services.withdrawal_stack().signer.keystore.key_for
    built = services.reserves.build(eth_only, day=DAY, actor=ACTOR, key_for=keys)
    assert not built.passed
    _, coverage, _ = services.reserves.coverage(built.id)
    assert [(c.asset, c.passed, c.margin) for c in coverage] == [
        (BTC, True, 0),
        (ETH, False, -(10**18)),
    ]
    text = services.reserves.statement(built.id, COLD.address)
    after = services.reserves.attest(built.id, COLD.address, offline_signature(text), actor=ACTOR)
    assert after.passed
    assert [c.margin for c in after.coverage] == [0, 10**18 - 1]


def test_a_ledger_that_differs_from_custodys_liabilities_is_refused(
    ctx: Context, services: Services
) -> None:
    _custody(ctx)
    short = [r for r in LEDGER if r[0] != "carol"]
    with pytest.raises(InputError, match="add up to 300000000 base units") as caught:
        services.reserves.build(short, day=DAY, actor=ACTOR)
    assert caught.value.field == "ledger"
    with pytest.raises(NotFound, match="no snapshot yet"):
        services.reserves.prove("alice")


def test_holdings_changed_after_the_build_make_no_proof(
    ctx: Context, vkey: str, services: Services
) -> None:
    _custody(ctx)
    built = services.reserves.build(LEDGER, day=DAY, actor=ACTOR)
    with ctx.db.transaction() as s:
        s.execute(
            update(ReserveHoldingRow)
            .where(ReserveHoldingRow.account == "carol")
            .values(base_units=6)
        )
    with pytest.raises(IntegrityError, match="no longer make the recorded root"):
        services.reserves.prove("alice", built.id)


def _ledger_file(tmp_path: Path) -> Path:
    ledger = tmp_path / "ledger.csv"
    rows = "".join(f"{a},{s},{u}\n" for a, s, u in LEDGER)
    ledger.write_text("account,asset,base_units\n" + rows)
    return ledger


def _kinko(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = kinko(runner, *args)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_the_command_line_builds_proves_and_verifies(
    ctx: Context, vkey: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _custody(ctx)
    cli = narrow_cli(ctx, monkeypatch)
    ledger = _ledger_file(tmp_path)
    result = kinko(
        cli, "reserves", "build", "--ledger", str(ledger), "--day", DAY.isoformat(), "--json"
    )
    assert result.exit_code == 1, result.output  # Bitcoin is not proven (no BIP-322 yet)
    report = json_out(result)
    assert report["ok"] is False
    assert report["assets"][0] == {
        "asset": BTC,
        "liabilities": "300000007",
        "reserves": "0",
        "passed": False,
    }
    assert report["assets"][1]["reserves"] == str(10**18)  # the hot wallet, signed at build
    snapshot = report["snapshot"]
    code, text = _kinko(cli, "reserves", "attest", snapshot, "--address", COLD.address, "--show")
    assert code == 0 and f"address: {COLD.address.lower()}\n" in text
    signature = tmp_path / "cold.sig"
    signature.write_text("0x" + offline_signature(text, OTHER).hex() + "\n")
    args = ("reserves", "attest", snapshot, "--address", COLD.address, "--signature")
    code, out = _kinko(cli, *args, str(signature))
    assert code == 2 and "signature" in out and "does not recover" in out
    signature.write_text("0x" + offline_signature(text).hex() + "\n")
    result = kinko(cli, *args, str(signature), "--json")
    assert result.exit_code == 1, result.output  # still short of Bitcoin
    assert json_out(result)["assets"][1] == {
        "asset": ETH,
        "liabilities": str(2 * 10**18),
        "reserves": str(3 * 10**18),
        "passed": True,
    }
    proof = tmp_path / "alice.json"
    code, out = _kinko(cli, "reserves", "prove", "alice", "--out", str(proof))
    assert code == 0, out
    key = tmp_path / "log.vkey"
    key.write_text(vkey + "\n")
    code, out = _kinko(cli, "reserves", "verify", str(proof), "--vkey", str(key), "--json")
    assert code == 0, out
    verified = json.loads(out)
    assert verified["assets"][0] == {"asset": BTC, "value": "150000000", "total": "300000007"}
    assert {c["address"] for c in verified["controls"]} == {
        HOT.address.lower(),
        COLD.address.lower(),
    }
    compact = tmp_path / "alice.bin"
    code, out = _kinko(cli, "reserves", "prove", "alice", "--binary", "--out", str(compact))
    assert code == 0, out
    assert len(compact.read_bytes()) < len(proof.read_bytes())
    code, out = _kinko(cli, "reserves", "verify", str(compact), "--vkey", str(key), "--json")
    assert code == 0, out
    assert json.loads(out)["assets"] == verified["assets"]
    code, out = _kinko(cli, "reserves", "prove", "alice", "--binary")
    assert code == 2 and "out" in out
    doc = json.loads(proof.read_text())
    doc["leaves"][0]["path"][0]["sum"] = "-1"
    proof.write_text(json.dumps(doc))
    code, out = _kinko(cli, "reserves", "verify", str(proof), "--vkey", str(key))
    assert code == 1
    assert "negative" in out


def test_the_command_line_names_the_bad_field(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _custody(ctx)
    cli = narrow_cli(ctx, monkeypatch)
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("account,asset,base_units\nalice,bitcoin:BTC,1.5\n")
    code, out = _kinko(cli, "reserves", "build", "--ledger", str(ledger), "--day", DAY.isoformat())
    assert code == 2
    assert "ledger line 2: base_units" in out
    code, out = _kinko(cli, "reserves", "build", "--ledger", str(ledger), "--day", "07/12/2026")
    assert code == 2
    assert "day" in out


def test_the_command_line_fails_a_shortfall_and_status_repeats_it(
    ctx: Context, vkey: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _custody(ctx, eth_cold=2 * 10**18 - 1)
    cli = narrow_cli(ctx, monkeypatch)
    ledger = _ledger_file(tmp_path)
    code, out = _kinko(cli, "reserves", "build", "--ledger", str(ledger), "--day", DAY.isoformat())
    assert code == 1
    assert "fall short of liabilities in bitcoin:BTC, ethereum:ETH" in out
    result = kinko(cli, "reserves", "status", "--json")
    assert result.exit_code == 1
    report = json_out(result)
    assert report["ok"] is False
    assert {a["asset"]: a["passed"] for a in report["assets"]} == {BTC: False, ETH: False}
    assert {u["chain"] for u in report["unproven"]} == {"bitcoin", "ethereum"}
    code, out = _kinko(cli, "reserves", "status", "--snapshot", "no-such")
    assert code == 2
    assert "no snapshot 'no-such'" in out


def test_the_self_inspection_reads_each_snapshots_result_and_audit_entries(
    ctx: Context, vkey: str, services: Services
) -> None:
    assert vkey  # the audit log's key: the withdrawal stack (the keystore's owner) needs it
    _custody(ctx)
    keys = services.withdrawal_stack().signer.keystore.key_for
    built = services.reserves.build(LEDGER, day=DAY, actor=ACTOR, key_for=keys)
    text = services.reserves.statement(built.id, COLD.address)
    services.reserves.attest(built.id, COLD.address, offline_signature(text), actor=ACTOR)
    with ctx.db.reading() as s:
        [seen] = outcomes(s, DAY, DAY)
        assert outcomes(s, DAY + timedelta(days=1), DAY + timedelta(days=2)) == ()
        logged = {e.seq: e.action for e in s.execute(select(AuditEntryRow)).scalars()}
    assert (seen.id, seen.day, seen.audit_seq, seen.passed) == (
        built.id,
        DAY,
        built.audit_seq,
        False,
    )
    assert [(c.asset, c.passed) for c in seen.assets] == [(BTC, False), (ETH, True)]
    assert [logged[seq] for seq in (seen.audit_seq, *seen.controls)] == [
        "reserves.snapshot",
        "reserves.control",
        "reserves.control",
    ]


def test_without_the_signers_keystore_the_build_proves_nothing_and_says_so(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No audit-log key here, so no withdrawal stack (the keystore's owner): the hot wallet
    is not signed, not counted, and the note goes to standard error (JSON stays clean)."""
    _custody(ctx)
    cli = narrow_cli(ctx, monkeypatch)
    ledger = _ledger_file(tmp_path)
    result = kinko(
        cli, "reserves", "build", "--ledger", str(ledger), "--day", DAY.isoformat(), "--json"
    )
    assert result.exit_code == 1, result.output
    assert "hot wallets not signed at build" in result.stderr
    report = json_out(result)
    assert [a["reserves"] for a in report["assets"]] == ["0", "0"]
    assert {u["chain"] for u in report["unproven"]} == {"bitcoin", "ethereum"}


def test_attest_refuses_what_it_cannot_count(ctx: Context, vkey: str, services: Services) -> None:
    assert vkey  # the withdrawal stack (the keystore's owner) needs the audit log's key
    _custody(ctx)
    keys = services.withdrawal_stack().signer.keystore.key_for
    built = services.reserves.build(LEDGER, day=DAY, actor=ACTOR, key_for=keys)
    bitcoin = next(r.address for r in built.unproven if r.chain == "bitcoin")
    assert bitcoin
    with pytest.raises(InputError, match="BIP-322") as caught:  # an EIP-191 signature
        services.reserves.attest(built.id, bitcoin, bytes(65), actor=ACTOR)
    assert caught.value.field == "signature"
    with pytest.raises(InputError, match="not a reserve address") as caught:
        services.reserves.attest(built.id, OTHER.address, bytes(65), actor=ACTOR)
    assert caught.value.field == "address"
    text = services.reserves.statement(built.id, HOT.address)  # proven at build
    with pytest.raises(Conflict, match="already proved control"):
        services.reserves.attest(built.id, HOT.address, offline_signature(text, HOT), actor=ACTOR)
