"""Reading PSBTs (BIP-174) with embit, independently of BDK which built them.

`inspect` parses a PSBT and checks it against the wallet before anything is shown or
signed: every input must carry its UTXO (a full previous transaction must hash to the
outpoint it claims), must spend this wallet's witness script, and must ask for
SIGHASH_ALL; outputs that claim to be change are re-derived from the wallet descriptor,
so change pointed at a foreign address is caught.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

from embit import compact
from embit.psbt import PSBT
from embit.script import Script
from embit.transaction import SIGHASH, Transaction

from kinko.chains.bitcoin import address as addr
from kinko.chains.bitcoin.wallet import MultisigWallet
from kinko.core.errors import InputError

DIGEST_TAG = b"KINKO-BTC-SIGHASH-V1"


@dataclass(frozen=True, slots=True)
class InputInfo:
    txid: str  # previous transaction id, display (big-endian) hex
    vout: int
    amount: int
    chain: int
    index: int
    witness_script: bytes
    sighash: bytes  # BIP-143 SIGHASH_ALL digest this input's keys sign


@dataclass(frozen=True, slots=True)
class OutputInfo:
    address: str
    amount: int
    is_change: bool
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class Inspected:
    psbt: Any  # embit PSBT
    inputs: tuple[InputInfo, ...]
    outputs: tuple[OutputInfo, ...]

    @property
    def fee(self) -> int:
        return sum(i.amount for i in self.inputs) - sum(o.amount for o in self.outputs)


def parse(payload: bytes) -> Any:
    if not isinstance(payload, bytes | bytearray) or not payload.startswith(b"psbt\xff"):
        raise InputError("psbt", "not a PSBT: the binary form starts with 'psbt' 0xff")
    try:
        psbt = PSBT.parse(bytes(payload))
    except Exception as exc:  # embit raises PSBTError, ValueError, IndexError...
        raise InputError("psbt", f"malformed PSBT: {exc or type(exc).__name__}") from None
    # BIP-174: the global unsigned transaction must have empty scriptSigs and witnesses.
    # embit clears them while parsing, so look at the serialised transaction itself.
    raw_tx = _global_unsigned_tx(bytes(payload))
    if len(raw_tx) > 5 and raw_tx[4] == 0:
        raise InputError("psbt", "unsigned transaction uses the witness serialisation (BIP-174)")
    unsigned = Transaction.parse(raw_tx)
    for i, vin in enumerate(unsigned.vin):
        if vin.script_sig.data or vin.witness.items:
            raise InputError(f"psbt.inputs[{i}]", "unsigned transaction carries a scriptSig")
    return psbt


def _global_unsigned_tx(data: bytes) -> bytes:
    """The value of the global PSBT_GLOBAL_UNSIGNED_TX (key type 0x00) entry.

    Runs after embit has parsed the same bytes, so the map is well formed; the
    CompactSize lengths are read with embit's own reader (`embit.compact`).
    """
    stream = io.BytesIO(data[5:])
    while True:
        key_len = compact.read_from(stream)
        if key_len == 0:
            raise InputError("psbt", "no unsigned transaction in the global map")
        key = stream.read(key_len)
        value = stream.read(compact.read_from(stream))
        if key == b"\x00":
            return bytes(value)


def inspect(payload: bytes, wallet: MultisigWallet) -> Inspected:
    psbt = parse(payload)
    if len(psbt.inputs) != len(psbt.tx.vin) or len(psbt.outputs) != len(psbt.tx.vout):
        raise InputError("psbt", "input/output maps do not match the unsigned transaction")
    inputs = tuple(_input(psbt, i, wallet) for i in range(len(psbt.inputs)))
    outputs = tuple(_output(psbt, i, wallet) for i in range(len(psbt.outputs)))
    seen = {(i.txid, i.vout) for i in inputs}
    if len(seen) != len(inputs):
        raise InputError("psbt.inputs", "the same outpoint is spent twice")
    result = Inspected(psbt, inputs, outputs)
    if result.fee < 0:
        raise InputError("psbt", "outputs exceed inputs (negative fee)")
    return result


def _input(psbt: Any, i: int, wallet: MultisigWallet) -> InputInfo:
    field = f"psbt.inputs[{i}]"
    inp, vin = psbt.inputs[i], psbt.tx.vin[i]
    if inp.non_witness_utxo is not None:
        if inp.non_witness_utxo.txid() != vin.txid:
            raise InputError(field, "previous transaction does not hash to the spent outpoint")
        if vin.vout >= len(inp.non_witness_utxo.vout):
            raise InputError(field, "spent output index is beyond the previous transaction")
        utxo = inp.non_witness_utxo.vout[vin.vout]
        if inp.witness_utxo is not None and (
            inp.witness_utxo.value != utxo.value
            or inp.witness_utxo.script_pubkey.data != utxo.script_pubkey.data
        ):
            raise InputError(field, "witness UTXO disagrees with the previous transaction")
    elif inp.witness_utxo is not None:
        utxo = inp.witness_utxo
    else:
        raise InputError(field, "carries no UTXO; the amount being spent cannot be checked")
    if inp.sighash_type not in (None, SIGHASH.ALL):
        raise InputError(f"{field}.sighash_type", "only SIGHASH_ALL is signed")
    location = None
    for derivation in inp.bip32_derivations.values():
        location = wallet.locate(derivation.fingerprint, list(derivation.derivation))
        if location is not None:
            break
    if location is None or inp.witness_script is None:
        raise InputError(field, "does not spend from this wallet (no matching key origin)")
    expected = wallet.witness_script(*location)
    script = inp.witness_script.data
    if (
        script != expected
        or utxo.script_pubkey.data != b"\x00\x20" + hashlib.sha256(expected).digest()
    ):
        raise InputError(field, "does not spend from this wallet (script mismatch)")
    sighash = psbt.tx.sighash_segwit(i, Script(script), utxo.value, SIGHASH.ALL)
    return InputInfo(vin.txid.hex(), vin.vout, utxo.value, *location, script, bytes(sighash))


def _output(psbt: Any, i: int, wallet: MultisigWallet) -> OutputInfo:
    out, meta = psbt.tx.vout[i], psbt.outputs[i]
    script = out.script_pubkey.data
    shown = addr.address_of(script, wallet.network) or f"script:{script.hex()}"
    claims = [
        wallet.locate(d.fingerprint, list(d.derivation)) for d in meta.bip32_derivations.values()
    ]
    located = [c for c in claims if c is not None]
    if any(wallet.script_pubkey(*c) == script for c in located):
        return OutputInfo(shown, out.value, True)
    if located:
        return OutputInfo(
            shown, out.value, False, "claims to be change but does not pay to this wallet"
        )
    return OutputInfo(shown, out.value, False)


def signing_digest(inspected: Inspected) -> bytes:
    """SHA-256(tag || unsigned tx || each input's BIP-143 sighash), Kinko's definition.

    The unsigned transaction fixes inputs, outputs, amounts and locktime; the per-input
    BIP-143 digests add the spent amounts and scripts, i.e. exactly what every key signs.
    """
    h = hashlib.sha256(DIGEST_TAG)
    h.update(inspected.psbt.tx.serialize())
    for info in inspected.inputs:
        h.update(info.sighash)
    return h.digest()
