"""Building unsigned PSBTs (BIP-174) with BDK from supplied UTXOs, no chain backend.

BDK's wallet only spends outputs it knows. Without a chain backend we tell it about the
UTXOs by handing it the *previous transactions* as unconfirmed (`apply_unconfirmed_txs`),
then build with exactly those outpoints (`add_utxos` + `manually_selected_only`). Full
previous transactions are also what BIP-174 recommends for segwit v0 inputs
(`non_witness_utxo`), so a cosigner can check the amounts it signs for.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import bdkpython as bdk

from kinko.chains.bitcoin import address as addr
from kinko.chains.bitcoin.wallet import MultisigWallet
from kinko.core.errors import InputError

MAX_FEE_RATE = 1000  # sat/vB; anything above is almost certainly a unit mistake


@dataclass(frozen=True, slots=True)
class Utxo:
    """An output this wallet may spend: its whole previous transaction and output index."""

    prev_tx: bytes
    vout: int


@dataclass(frozen=True, slots=True)
class Payment:
    address: str
    amount: int  # satoshi


def build_psbt(
    wallet: MultisigWallet,
    utxos: Sequence[Utxo],
    payments: Sequence[Payment],
    fee_rate: int,
) -> bytes:
    """An unsigned PSBT spending exactly `utxos` to `payments`, change back to the wallet."""
    if not utxos:
        raise InputError("utxos", "give at least one UTXO to spend")
    if not payments:
        raise InputError("payments", "give at least one destination")
    if (
        isinstance(fee_rate, bool)
        or not isinstance(fee_rate, int)
        or not 1 <= fee_rate <= MAX_FEE_RATE
    ):
        raise InputError("fee_rate", f"must be an integer 1..{MAX_FEE_RATE} sat/vB")
    bdk_wallet = wallet.bdk_wallet()
    outpoints = []
    for i, utxo in enumerate(utxos):
        try:
            tx = bdk.Transaction(utxo.prev_tx)
        except Exception as exc:  # bdk raises its own error enums
            raise InputError(f"utxos[{i}].prev_tx", f"not a valid transaction: {exc}") from None
        outputs = tx.output()
        if not 0 <= utxo.vout < len(outputs):
            raise InputError(f"utxos[{i}].vout", f"transaction has {len(outputs)} outputs")
        if not bdk_wallet.is_mine(outputs[utxo.vout].script_pubkey):
            raise InputError(f"utxos[{i}]", "output does not pay to this wallet")
        bdk_wallet.apply_unconfirmed_txs([bdk.UnconfirmedTx(tx=tx, last_seen=1)])
        outpoints.append(bdk.OutPoint(txid=tx.compute_txid(), vout=utxo.vout))
    if len({(str(o.txid), o.vout) for o in outpoints}) != len(outpoints):
        raise InputError("utxos", "the same UTXO is listed twice")
    builder = (
        bdk.TxBuilder()
        .add_utxos(outpoints)
        .manually_selected_only()
        .ordering(bdk.TxOrdering.UNTOUCHED)
        .fee_rate(bdk.FeeRate.from_sat_per_vb(fee_rate))
    )
    for i, payment in enumerate(payments):
        script = addr.script_pubkey(payment.address, wallet.network, f"payments[{i}].address")
        if (
            isinstance(payment.amount, bool)
            or not isinstance(payment.amount, int)
            or payment.amount <= 0
        ):
            raise InputError(f"payments[{i}].amount", "must be a positive integer of satoshi")
        builder = builder.add_recipient(bdk.Script(script), bdk.Amount.from_sat(payment.amount))
    try:
        psbt = builder.finish(bdk_wallet)
    except bdk.CreateTxError as exc:
        raise InputError("payments", f"cannot build the transaction: {exc}") from None
    return base64.b64decode(psbt.serialize())
