"""DMM Bitcoin 2024 replayed on Bitcoin: the PSBT of a legitimate withdrawal rewritten
while it waits for signatures (alone, and with its digest and intent) is refused by the
key holders' `kinko cosign`; nothing a thief could send is released. The counterfactual:
the same altered PSBT signed by two cosigners' keys outside Kinko pays the thief."""

from __future__ import annotations

import base64
import json

import bdkpython as bdk
import pytest
from embit import bip32
from embit.psbt import PSBT
from embit.transaction import Transaction
from sqlalchemy import select

from kinko.replays.bench import Bench, audit_entries
from kinko.replays.btc_bench import (
    CUSTOMER,
    THIEF_SCRIPT,
    WALLET_NAME,
    adapter,
    cosign_offline,
    cosigner_keys,
    forge,
    fully_signed,
    funding,
    open_wallet,
    thief_takings,
)
from kinko.replays.model import Outcome
from kinko.replays.reading import SETTLED
from kinko.replays.runner import replay
from kinko.store.tables.custody import WalletRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.intake import WithdrawalRequest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
STOLEN = 450_290_000_000  # 4,502.9 BTC in satoshis
REFUSED = "withdrawal.approval_refused"
CUSTOMER_SCRIPT = bytes.fromhex("0014751e76e8199196d454941c45d1b3a323f1433bd6")  # BIP-173


def _altered_psbt() -> bytes:
    """The PSBT the replay's attacker writes: the wallet's four funding outputs spent,
    4,502.9 BTC to the thief, the rest back as change."""
    btc = adapter()
    return forge(btc, [(prev, 0) for prev in funding(btc)], STOLEN)


def _spent() -> dict[tuple[str, int], tuple[int, bytes]]:
    outs = {}
    for prev in funding(adapter()):
        tx = Transaction.parse(prev)
        outs[(tx.txid().hex(), 0)] = (tx.vout[0].value, tx.vout[0].script_pubkey.data)
    return outs


def test_dmm_bitcoin_altered_psbt_is_never_signed(bench: Bench) -> None:
    result = replay("dmm-bitcoin-2024", bench)
    assert result.outcome is Outcome.STOPPED
    assert (result.asset, result.decimals, result.loss_units) == ("BTC", 8, 0)
    assert result.scenario.attempted_units == STOLEN
    assert result.scenario.replayed_on.startswith("bitcoin/regtest")
    assert "Ethereum" not in result.scenario.substitution
    found = {c.name: c.audit_seqs for c in result.controls}
    by_seq = {e.seq: e for e in audit_entries(bench.ctx)}
    for name, seqs in found.items():
        assert seqs, name  # every control that acted has its audit entries
    # The PSBT, digest and intent rewritten consistently, then approved by both: Kinko
    # refuses to export the bundle (the digest is not the one the audit log recorded at
    # the policy's decision), audits it and freezes the wallet; no key holder is asked.
    (refused_export,) = found["withdrawal.bundle_refused"]
    assert "digest_mismatch" in by_seq[refused_export].details["code"]
    assert "freeze:wallet" in found and "rule:kinko-signed-differs-from-intent" in found
    assert not [o for o in result.observations if "kinko cosign refused" in o]
    # The second move (the PSBT alone) meets the freeze: denied at request.
    assert any("frozen by system:withdrawals" in o for o in result.observations)
    with bench.ctx.db.reading() as session:
        named = select(WalletRow).where(WalletRow.name == WALLET_NAME)
        wallet = session.execute(named).scalar_one()
        rows = session.execute(
            select(WithdrawalRow)
            .where(WithdrawalRow.wallet_id == wallet.id)
            .order_by(WithdrawalRow.created_at, WithdrawalRow.id)
        ).scalars()
        altered = [(r.state, r.unsigned_tx, r.signed_tx) for r in rows]
    shape = (wallet.chain, wallet.network, wallet.tier, wallet.quorum_m, wallet.quorum_n)
    assert shape == ("bitcoin", "regtest", "cold", 2, 3)
    # What the attacker wrote is the PSBT the counterfactual below signs; nothing signed;
    # the second withdrawal was denied (the frozen wallet) before anything was rewritten.
    (first_state, first_psbt, first_signed), (second_state, _, second_signed) = altered
    assert (first_state, first_psbt, first_signed) == ("approved", _altered_psbt(), None)
    assert (second_state, second_signed) == ("denied", None)
    doc = json.loads(json.dumps(result.to_json()))  # docs/replays.md, "JSON"
    assert doc["schema"] == "kinko.replay/1" and doc["outcome"] == "stopped"
    assert (doc["asset"], doc["decimals"]) == ("BTC", 8)
    assert (doc["attempted_units"], doc["loss_units"], doc["loss_share"]) == (str(STOLEN), "0", 0)
    assert doc["historical"]["chain"] == "bitcoin" and doc["replayed_on"].startswith("bitcoin")
    assert any(
        c["name"] == "withdrawal.bundle_refused" and c["audit_seqs"] for c in doc["controls"]
    )


def test_the_key_holders_cosign_an_unaltered_withdrawal(bench: Bench) -> None:
    """The refusals are the checks', not the set-up's: an unaltered withdrawal from the
    replay's wallet, approved the same way, is co-signed into a transaction paying the
    customer (and nothing to the thief)."""
    wallet = open_wallet(bench)
    bench.pass_time(SETTLED)
    wd = bench.stack.withdrawals.request(
        WithdrawalRequest(
            asset="BTC", amount="0.1", destination=CUSTOMER, source_wallet=wallet.wallet_id
        ),
        requester=bench.users["alice"],
        idempotency_key="unaltered",
        channel="api",
    )
    for name in ("bob", "carol"):
        bench.approve(name, wd.id)
    cosigned = cosign_offline(bench, wd.id)
    assert cosigned.refusals == () and len(cosigned.released) == 3  # 2 PSBTs, 1 transaction
    spent = _spent()
    assert thief_takings(adapter(), cosigned.released, spent) == (0, [])
    paid, txids = thief_takings(adapter(), cosigned.released, spent, CUSTOMER_SCRIPT)
    assert paid == 10_000_000 and len(txids) == 1


def _outside_kinko(psbt: bytes, *holders: int) -> list[bytes]:
    """Each holder's signature on `psbt` with embit, as any wallet would sign it: no
    bundle, no approvals, no decoding against what was approved."""
    signed = []
    for holder in holders:
        copy = PSBT.parse(psbt)
        assert copy.sign_with(bip32.HDKey.parse(cosigner_keys()[holder])) == len(copy.inputs)
        signed.append(bytes(copy.serialize()))
    return signed


def test_counterfactual_the_altered_psbt_signed_outside_kinko_pays_the_thief() -> None:
    """Not part of the verdict: the move is real. Two cosigners' keys signing the altered
    PSBT outside Kinko (as DMM's signer did) give a valid transaction paying the thief."""
    psbt = _altered_psbt()
    one, two = _outside_kinko(psbt, 0, 1)
    spent = _spent()
    assert thief_takings(adapter(), [one], spent) == (0, [])  # one key: nothing to send
    taken, txids = thief_takings(adapter(), [one, two], spent)
    assert taken == STOLEN and len(txids) == 1
    merged = bdk.Psbt(base64.b64encode(one).decode()).combine(
        bdk.Psbt(base64.b64encode(two).decode())
    )
    final = merged.finalize()
    assert final.could_finalize, final.errors
    tx = Transaction.parse(bytes(final.psbt.extract_tx().serialize()))
    assert tx.txid().hex() == txids[0] and fully_signed(tx, spent)
    assert sum(o.value for o in tx.vout if o.script_pubkey.data == THIEF_SCRIPT) == STOLEN
    # The check is of the signatures themselves: one altered byte and it fails.
    witness = tx.vin[0].witness.items
    witness[1] = witness[1][:10] + bytes([witness[1][10] ^ 1]) + witness[1][11:]
    assert not fully_signed(tx, spent)
