"""BIP-322 "PSBT-based signing" for a wsh(sortedmulti) wallet's cosigners (signing side;
embit). Not part of the offline verifier: its result is an ordinary BIP-322 signature.

`create` is the BIP's "PSBT creator": ``to_sign`` for the wallet's receive address 0/0 as an
unsigned PSBT (BIP-174), with ``witness_utxo`` (to_spend's output), the witness script, each
cosigner's key origin, and ``PSBT_GLOBAL_GENERIC_SIGNED_MESSAGE`` (0x09) holding the
statement, so that each cosigner's signer (a hardware wallet, Sparrow, ``embit``) shows the
message and adds its partial signature. `finalize` is the "PSBT finalizer": it checks that
the PSBTs (one per cosigner, or one passed along) are this message's ``to_sign`` for this
address, merges their partial signatures, and encodes the ``ful`` signature. ``to_sign``
has version 2 (BIP-322 allows 0 or 2 in a full signature) and nSequence 0xFFFFFFFF (no
relative time lock): some PSBT signers sign a version or sequence of 0 as 2 or 0xFFFFFFFF.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from embit import bip32
from embit.psbt import PSBT, DerivationPath
from embit.script import Script
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from kinko.chains.bitcoin.wallet import MultisigWallet
from kinko.core.errors import InputError
from kinko.reserves import bip322

GENERIC_SIGNED_MESSAGE = b"\x09"
VERSION = 2
NO_AGE = 0xFFFFFFFF  # BIP-68: the disable flag set, no relative time lock
MAGIC_BASE64 = "cHNidP8"  # base64 of the PSBT magic "psbt" 0xff


def create(wallet: MultisigWallet, address: str, text: str) -> str:
    """The BIP-322 PSBT (base64) the cosigners sign for ``address`` (receive 0/0)."""
    challenge, script = wallet.script_pubkey(0, 0), wallet.witness_script(0, 0)
    if bip322.script_pubkey(address) != challenge:
        raise InputError("address", f"{address} is not the wallet's receive address 0/0")
    spent = bip322.unsigned(challenge, text.encode()).prevout
    # embit keeps txids in display order, and writes a sequence of 0 as 0xFFFFFFFF: say so.
    vin = TransactionInput(spent[:32][::-1], 0, sequence=NO_AGE)
    tx = Transaction(version=VERSION, vin=[vin], vout=[TransactionOutput(0, Script(b"\x6a"))])
    psbt = PSBT(tx)
    psbt.unknown = {GENERIC_SIGNED_MESSAGE: text.encode()}
    psbt.tx_version = VERSION
    entry = psbt.inputs[0]
    entry.witness_utxo = TransactionOutput(0, Script(challenge))
    entry.witness_script = Script(script)
    for cosigner in wallet.cosigners:
        key = bip32.HDKey.from_base58(cosigner.xpub).derive([0, 0]).key
        path = [*cosigner.origin_path, 0, 0]
        entry.bip32_derivations[key] = DerivationPath(cosigner.fingerprint, path)
    return str(psbt.to_base64())


def _parse(text: str) -> PSBT:
    try:
        return PSBT.parse(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError, IndexError, EOFError) as exc:
        raise InputError("signature", f"not a base64 PSBT: {exc or type(exc).__name__}") from None
    except Exception as exc:  # embit's PSBTError and the like
        raise InputError("signature", f"not a base64 PSBT: {exc or type(exc).__name__}") from None


def finalize(psbts: Sequence[str], address: str, text: str) -> str:
    """The ``ful`` BIP-322 signature from the cosigners' signed PSBTs (base64 each);
    InputError if a PSBT is not this statement's for this address."""
    challenge = bip322.script_pubkey(address)
    prevout = bip322.unsigned(challenge, text.encode()).prevout
    sigs: dict[bytes, bytes] = {}
    script, first = b"", None
    for n, one in enumerate(psbts):
        psbt = _parse(one.strip())
        tx = psbt.tx
        vin = tx.vin[0] if len(tx.vin) == 1 else None
        if (
            psbt.unknown.get(GENERIC_SIGNED_MESSAGE) != text.encode()
            or vin is None
            or bytes(vin.txid)[::-1] + vin.vout.to_bytes(4, "little") != prevout
            or [(o.value, o.script_pubkey.data) for o in tx.vout] != [(0, b"\x6a")]
            or (first is not None and tx.serialize() != first.serialize())
        ):
            raise InputError(
                "signature",
                f"PSBT {n + 1} is not the BIP-322 PSBT of this statement for {address}",
            )
        first = first or tx
        entry = psbt.inputs[0]
        if entry.witness_script is None:
            raise InputError("signature", f"PSBT {n + 1} has no witness script")
        script = entry.witness_script.data
        sigs.update({pub.sec(): bytes(sig) for pub, sig in entry.partial_sigs.items()})
    if first is None:
        raise InputError("signature", "no PSBT given")
    m, keys = bip322.multisig(script)
    chosen = [sigs[k] for k in keys if k in sigs][:m]
    if len(chosen) < m:
        raise InputError(
            "signature", f"the PSBTs carry {len(chosen)} of the {m} signatures the wallet needs"
        )
    witness = [b"", *chosen, script]
    signed = bip322.ToSign(prevout, witness, first.version, first.vin[0].sequence, first.locktime)
    return "ful" + base64.b64encode(signed.serialize()).decode()
