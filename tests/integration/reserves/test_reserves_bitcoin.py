"""Bitcoin reserve addresses prove control with BIP-322, on both databases: signed at build
when Kinko's key reaches the wallet's threshold, imported with `attest` otherwise (m
cosigners of a wsh(sortedmulti) wallet), stored, audited, counted, carried by every
customer's proof and checked by the offline verifier; without one, listed as unproven."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from embit.psbt import PSBT
from sqlalchemy import select, update

from kinko.chains.bitcoin.networks import network
from kinko.chains.bitcoin.wallet import MultisigWallet
from kinko.context import Context
from kinko.core.errors import InputError
from kinko.custody import holdings
from kinko.reserves import bip322_psbt, control
from kinko.reserves.verify import load, verify_document
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.custody import WalletRow
from kinko.store.tables.reserves import ReserveControlRow
from tests.integration.custody.exchange import ACTOR, BTC, DAY, ETH, Wallets, fund, set_up
from tests.integration.reserves.keys import HOT as ETH_HOT
from tests.integration.reserves.keys import hot_keystore, point_at
from tests.support.cli import json_out, kinko, narrow_cli
from tests.support.identity import ensure_secret_key
from tests.unit.chains.btc_fixtures import descriptor, key_bytes, master

LEDGER = [("alice", BTC, 300_000_000), ("bob", BTC, 7), ("alice", ETH, 10**18)]
OWED = {BTC: 300_000_007, ETH: 10**18}
HOT = descriptor((4,), threshold=1)  # a 1-of-1 hot wallet whose one key Kinko holds
COLD = MultisigWallet.parse(descriptor((1, 2, 3)), network("regtest"))  # 2-of-3, offline
ETH_HOT_ADDRESS = ETH_HOT.address


def _custody(ctx: Context) -> Wallets:
    """The custody exchange; its Bitcoin hot wallet made 1-of-1 on a key in Kinko's
    keystore (1 BTC), its cold one 2-of-3 with no key here (4 BTC)."""
    ensure_secret_key(ctx)
    ids = set_up(ctx)
    point_at(ctx, ids)
    hot_keystore(ctx, ids)
    hot_address = MultisigWallet.parse(HOT, network("regtest")).address(0, 0)
    with ctx.db.transaction() as s:
        s.execute(
            update(WalletRow)
            .where(WalletRow.id == ids.btc_hot)
            .values(descriptor=HOT, quorum_m=1, quorum_n=1, address=hot_address)
        )
    path = ctx.settings.data_dir / "keys" / f"{ids.btc_hot}.key"
    path.write_text(key_bytes(4).hex())
    os.chmod(path, 0o600)
    fund(ctx, ids, btc_hot=10**8, btc_cold=4 * 10**8, eth_hot=10**18, eth_cold=0, eth_guarantee=0)
    with ctx.db.transaction() as s:
        holdings.set_liabilities(ctx, s, OWED, source="ledger", actor=ACTOR)
        holdings.take_snapshot(ctx, s, DAY, actor=ACTOR)
    return ids


def _cosigned(text: str, seeds: tuple[int, ...] = (1, 3)) -> bytes:
    """The cold wallet's cosigners' BIP-322 signature of ``text``, made offline."""
    made = control.sign_multisig([key_bytes(s) for s in seeds], COLD, COLD.address(0, 0), text)
    assert made is not None
    return made.encode()


def test_bitcoin_wallets_prove_control_with_bip322_and_customers_verify_it(
    ctx: Context, vkey: str, services: Services
) -> None:
    ids = _custody(ctx)
    keys = services.withdrawal_stack().signer.keystore.key_for
    built = services.reserves.build(LEDGER, day=DAY, actor=ACTOR, key_for=keys)
    # The 1-of-1 hot wallet is signed at build; the 2-of-3 cold one waits for its cosigners.
    assert [(c.asset, c.reserves, c.passed) for c in built.coverage] == [
        (BTC, 10**8, False),
        (ETH, 10**18, True),
    ]
    [cold] = [r for r in built.unproven if r.chain == "bitcoin"]
    assert (cold.wallet_id, cold.address) == (ids.btc_cold, COLD.address(0, 0))
    assert "BIP-322" in cold.why_unproven
    text = services.reserves.statement(built.id, cold.address or "")
    assert f"chain: bitcoin\naddress: {COLD.address(0, 0)}\n" in text
    # Another snapshot's signature, or an Ethereum one, proves nothing and stores nothing.
    for bad in (_cosigned(text.replace(built.id, "2026-01-01.0")), bytes(65)):
        with pytest.raises(InputError) as caught:
            services.reserves.attest(built.id, COLD.address(0, 0), bad, actor=ACTOR)
        assert caught.value.field == "signature"
    after = services.reserves.attest(built.id, COLD.address(0, 0), _cosigned(text), actor=ACTOR)
    assert after.passed and after.unproven == ()
    assert [(c.asset, c.reserves) for c in after.coverage] == [(BTC, 5 * 10**8), (ETH, 10**18)]
    with ctx.db.reading() as s:
        rows = {
            r.wallet_id: r
            for r in s.execute(
                select(ReserveControlRow).where(ReserveControlRow.snapshot_id == built.id)
            ).scalars()
        }
        logged = [
            json.loads(e.entry)["details"]
            for e in s.execute(
                select(AuditEntryRow).where(AuditEntryRow.action == "reserves.control")
            ).scalars()
        ]
    assert rows[ids.btc_cold].public_key is None
    assert (rows[ids.btc_cold].signature or b"").startswith(b"smp")
    assert {(d["address"], d["scheme"]) for d in logged if d["chain"] == "bitcoin"} == {
        (rows[ids.btc_hot].address, "bip322"),
        (COLD.address(0, 0), "bip322"),
    }
    for account in ("alice", "bob"):
        for binary in (False, True):
            verified = verify_document(load(services.reserves.prove(account, binary=binary)), vkey)
            assert {a for c, a in verified.controls if c == "bitcoin"} == {
                rows[ids.btc_hot].address,
                COLD.address(0, 0),
            }


def test_a_bitcoin_address_without_a_proof_is_unproven_and_not_counted(
    ctx: Context, vkey: str, services: Services
) -> None:
    """Without Kinko's keystore nothing is signed: both Bitcoin wallets are listed, as the
    Ethereum ones are, and Bitcoin falls short."""
    assert vkey
    _custody(ctx)
    built = services.reserves.build(LEDGER, day=DAY, actor=ACTOR)
    assert {(r.chain, r.to_json()["proven"]) for r in built.unproven} == {
        ("bitcoin", False),
        ("ethereum", False),
    }
    assert (built.coverage[0].asset, built.coverage[0].reserves) == (BTC, 0)
    assert not built.passed


def test_the_command_line_imports_a_bip322_signature(
    ctx: Context, vkey: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert vkey
    _custody(ctx)
    cli = narrow_cli(ctx, monkeypatch)
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "account,asset,base_units\n" + "".join(f"{a},{s},{u}\n" for a, s, u in LEDGER)
    )
    result = kinko(
        cli, "reserves", "build", "--ledger", str(ledger), "--day", DAY.isoformat(), "--json"
    )
    assert result.exit_code == 1, result.output  # the cold wallet is not proven yet
    snapshot = json_out(result)["snapshot"]
    address = COLD.address(0, 0)
    shown = kinko(cli, "reserves", "attest", snapshot, "--address", address, "--show")
    assert shown.exit_code == 0 and f"address: {address}\n" in shown.output
    unsigned = tmp_path / "cold.psbt"
    to_sign = ("reserves", "attest", snapshot, "--address", address, "--psbt", str(unsigned))
    wrote = kinko(cli, *to_sign)
    assert wrote.exit_code == 0, wrote.output
    assert unsigned.read_text().startswith(bip322_psbt.MAGIC_BASE64)
    signature = tmp_path / "cold.bip322"
    signature.write_text(_cosigned(shown.output, (2, 3)).decode()[3:] + "\n")  # unprefixed
    args = ("reserves", "attest", snapshot, "--address", address, "--signature", str(signature))
    result = kinko(cli, *args, "--json")
    assert result.exit_code == 0, result.output
    report = json_out(result)
    assert report["ok"] is True and report["unproven"] == []
    again = kinko(cli, *args)
    assert again.exit_code != 0 and "already proved control" in again.output
    proof, key = tmp_path / "alice.json", tmp_path / "log.vkey"
    key.write_text(vkey + "\n")
    assert kinko(cli, "reserves", "prove", "alice", "--out", str(proof)).exit_code == 0
    checked = kinko(cli, "reserves", "verify", str(proof), "--vkey", str(key), "--json")
    assert checked.exit_code == 0, checked.output
    assert {"chain": "bitcoin", "address": address} in json_out(checked)["controls"]


def test_the_cold_wallets_cosigners_sign_a_bip322_psbt_and_kinko_finalizes_it(
    ctx: Context, vkey: str, services: Services
) -> None:
    """BIP-322 "PSBT-based signing": each cosigner signs the PSBT on their own device."""
    _custody(ctx)
    keys = services.withdrawal_stack().signer.keystore.key_for
    built = services.reserves.build(LEDGER, day=DAY, actor=ACTOR, key_for=keys)
    address = COLD.address(0, 0)
    psbt = services.reserves.psbt(built.id, address)
    assert psbt == bip322_psbt.create(COLD, address, services.reserves.statement(built.id, address))
    with pytest.raises(InputError, match="not a Bitcoin descriptor wallet's") as caught:
        services.reserves.psbt(built.id, ETH_HOT_ADDRESS)
    assert caught.value.field == "address"
    signed = []
    for seed in (2, 3):
        copy = PSBT.from_base64(psbt)
        assert copy.sign_with(master(seed)) == 1
        signed.append(str(copy.to_base64()))
    raw = control.parse_signature("\n".join(signed))
    after = services.reserves.attest(built.id, address, raw, actor=ACTOR)
    assert after.passed
    with ctx.db.reading() as s:
        row = s.execute(
            select(ReserveControlRow).where(ReserveControlRow.address == address)
        ).scalar_one()
    assert (row.signature or b"").startswith(b"ful")
    verified = verify_document(json.loads(services.reserves.prove("alice")), vkey)
    assert ("bitcoin", address) in verified.controls
