"""`kinko cosign` for a cold Bitcoin 2-of-3 wallet: two key holders add their partial
signatures offline, the second finalises, and the transaction verifies under the script
interpreter (python-bitcointx); an altered PSBT is refused naming what differs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bitcointx.core import CTransaction
from bitcointx.core.script import CScript
from bitcointx.core.scripteval import SCRIPT_VERIFY_P2SH, SCRIPT_VERIFY_WITNESS, VerifyScript
from embit.psbt import PSBT
from embit.script import Script
from typer.testing import CliRunner

from kinko.chains.bitcoin.address import script_pubkey
from kinko.chains.bitcoin.networks import network
from kinko.cli.main import app
from kinko.core.clock import FixedClock
from kinko.core.errors import InputError, IntegrityError, KinkoError
from kinko.signer.bundle import ApprovalBundle
from kinko.signer.offline import Cosigned, cosign, cosign_in_turn, read_key_file
from kinko.withdrawals.export import export_bundle
from kinko.withdrawals.wiring import IdentityDirectory
from tests.integration.withdrawals.btc_exchange import (
    BtcExchange,
    adapter,
    add_btc_wallet,
    approved,
    descriptor,
    spent_outputs,
    xprv,
)
from tests.integration.withdrawals.exchange import Exchange
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ATTACKER = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


@pytest.fixture
def btc(exchange: Exchange) -> BtcExchange:
    return add_btc_wallet(exchange)


def bundle_of(btc: BtcExchange) -> ApprovalBundle:
    wd = approved(btc)
    ctx = btc.ex.ctx
    with ctx.db.transaction() as session:
        return export_bundle(ctx, session, IdentityDirectory(services_of(ctx).identity), wd.id)


def key_file(tmp_path: Path, seed: int) -> Path:
    path = tmp_path / f"cosigner{seed}.key"
    path.write_text(xprv(seed) + "\n")
    path.chmod(0o600)
    return path


def verify_scripts(btc: BtcExchange, raw: bytes) -> None:
    tx = CTransaction.deserialize(raw)
    for i, (amount, script) in enumerate(spent_outputs(btc, raw)):
        VerifyScript(
            tx.vin[i].scriptSig,
            CScript(script),
            tx,
            i,
            flags={SCRIPT_VERIFY_P2SH, SCRIPT_VERIFY_WITNESS},
            amount=amount,
            witness=tx.wit.vtxinwit[i].scriptWitness,
        )


def cosign_with(
    btc: BtcExchange, bundle: ApprovalBundle, key: bytes, partial: bytes | None
) -> Cosigned:
    ctx = btc.ex.ctx
    return cosign(
        bundle.to_bytes(),
        key=key,
        log_vkey=btc.ex.vkey,
        now=ctx.clock.now(),
        rp_id=ctx.settings.webauthn_rp_id,
        origin=ctx.settings.webauthn_origin,
        partial=partial,
    )


def test_two_cosigners_produce_a_valid_transaction(btc: BtcExchange, tmp_path: Path) -> None:
    bundle = bundle_of(btc)
    first = cosign_with(btc, bundle, read_key_file(key_file(tmp_path, 1)), None)
    assert first.final_tx is None
    second = cosign_with(btc, bundle, read_key_file(key_file(tmp_path, 3)), first.signed_tx)
    assert second.final_tx is not None
    verify_scripts(btc, second.final_tx)
    with pytest.raises(InputError, match="signed by 1/2"):
        adapter().finalize(first.signed_tx)  # one cosigner alone cannot spend


def _altered(
    bundle: ApprovalBundle, *, output: str, address: str | None, delta: int = 0
) -> ApprovalBundle:
    psbt = PSBT.parse(bundle.unsigned_tx)
    change = [o["is_change"] for o in bundle.intent["outputs"]]
    index = change.index(output == "change")
    out = psbt.outputs[index]  # embit rebuilds psbt.tx from these
    if address is not None:
        out.script_pubkey = Script(script_pubkey(address, network("mainnet")))
    out.value += delta
    return replace(bundle, unsigned_tx=bytes(psbt.serialize()))


def run_cli(
    btc: BtcExchange, tmp_path: Path, bundle: ApprovalBundle, seed: int, *extra: str
) -> tuple[int, str]:
    (tmp_path / "bundle.json").write_bytes(bundle.to_bytes())
    (tmp_path / "log.vkey").write_text(btc.ex.vkey)
    result = CliRunner().invoke(
        app,
        [
            "cosign",
            str(tmp_path / "bundle.json"),
            "--key",
            str(key_file(tmp_path, seed)),
            "--vkey",
            str(tmp_path / "log.vkey"),
            *extra,
        ],
        env={"COLUMNS": "400"},
    )
    return result.exit_code, " ".join(result.output.split())


def test_holders_cosign_in_turn_and_a_refusal_does_not_stop_the_next(
    btc: BtcExchange, tmp_path: Path
) -> None:
    """A key that is not one of the wallet's is refused (yielded, not raised); the two
    cosigners after it still add up to a valid transaction."""
    bundle = bundle_of(btc)
    ctx = btc.ex.ctx
    keys = [read_key_file(key_file(tmp_path, seed)) for seed in (9, 1, 3)]
    turns = list(
        cosign_in_turn(
            bundle.to_bytes(),
            keys,
            log_vkey=btc.ex.vkey,
            now=ctx.clock.now(),
            rp_id=ctx.settings.webauthn_rp_id,
            origin=ctx.settings.webauthn_origin,
        )
    )
    assert [holder for holder, _ in turns] == [1, 2, 3]
    (_, stranger), (_, first), (_, second) = turns
    assert isinstance(stranger, KinkoError)
    assert isinstance(first, Cosigned) and first.final_tx is None
    assert isinstance(second, Cosigned) and second.final_tx is not None
    verify_scripts(btc, second.final_tx)


def test_cosign_cli_two_holders_then_altered_psbts(btc: BtcExchange, tmp_path: Path) -> None:
    assert isinstance(btc.ex.ctx.clock, FixedClock)
    assert btc.ex.ctx.clock.now() > datetime.now(UTC)  # approvals unexpired on the real clock
    bundle = bundle_of(btc)
    partial = tmp_path / "partial.hex"
    code, out = run_cli(btc, tmp_path, bundle, 2, "--out", str(partial))
    assert code == 0, out
    assert "approved by 2/2" in out and "threshold reached" not in out
    final = tmp_path / "final.hex"
    code, out = run_cli(
        btc,
        tmp_path,
        bundle,
        1,
        "--psbt",
        str(partial),
        "--out",
        str(tmp_path / "both.hex"),
        "--tx-out",
        str(final),
    )
    assert code == 0, out
    assert "threshold reached" in out
    verify_scripts(btc, bytes.fromhex(final.read_text()))
    for changed, what in (
        (_altered(bundle, output="payment", address=ATTACKER), "destination"),
        (_altered(bundle, output="payment", address=None, delta=-1000), "amount"),
        (_altered(bundle, output="change", address=ATTACKER), "outputs"),
    ):
        code, out = run_cli(btc, tmp_path, changed, 1)
        assert code == 1, out
        assert "digest mismatch" in out and f"{what} (transaction:" in out
    code, out = run_cli(btc, tmp_path, bundle, 4)
    assert code == 2 and "not one of the wallet's cosigners" in out


def test_forged_descriptor_is_refused(btc: BtcExchange, tmp_path: Path) -> None:
    bundle = bundle_of(btc)
    key = read_key_file(key_file(tmp_path, 1))
    # Same keys listed in another order: the PSBT decodes the same, but the log recorded
    # the wallet's descriptor and the bundle must carry exactly that one.
    reordered = replace(bundle, descriptor=descriptor((3, 2, 1)))
    with pytest.raises(IntegrityError) as err:
        cosign_with(btc, reordered, key, None)
    assert err.value.code == "descriptor_mismatch"
    weaker = replace(bundle, descriptor=descriptor().replace("sortedmulti(2,", "sortedmulti(1,"))
    with pytest.raises(IntegrityError, match="does not decode"):
        cosign_with(btc, weaker, key, None)
    with pytest.raises(InputError, match="descriptor"):
        cosign_with(btc, replace(bundle, descriptor=None), key, None)
