"""BIP-322 "PSBT-based signing": the cosigners of a wsh(sortedmulti) wallet sign the PSBT
Kinko creates (as any PSBT signer does: embit here), and Kinko finalizes their partial
signatures into a `ful` signature that the offline verifier accepts."""

from __future__ import annotations

import base64

import pytest
from embit.psbt import PSBT

from kinko.chains.bitcoin.networks import network
from kinko.chains.bitcoin.wallet import MultisigWallet
from kinko.core.errors import InputError
from kinko.reserves import bip322, bip322_psbt, control, ownership
from kinko.reserves.verify import verify_document
from tests.unit.chains.btc_fixtures import descriptor, master
from tests.unit.reserves.sample import sample

S = sample()
DIGEST = S.roots.digest()
WALLET = MultisigWallet.parse(descriptor((1, 2, 3)), network("regtest"))
ADDRESS = WALLET.address(0, 0)
TEXT = ownership.statement("snap-1", S.roots.nonce, DIGEST, "bitcoin", ADDRESS)


def _signed_by(seed: int, psbt: str | None = None) -> str:
    """What a cosigner's PSBT signer returns: the PSBT with its partial signature."""
    parsed = PSBT.from_base64(psbt or bip322_psbt.create(WALLET, ADDRESS, TEXT))
    assert parsed.sign_with(master(seed)) == 1
    return str(parsed.to_base64())


def _imported(psbts: list[str]) -> ownership.Control:
    raw = control.parse_signature("\n".join(psbts) + "\n")
    return control.from_signature(raw, "snap-1", S.roots.nonce, DIGEST, ADDRESS)


def test_the_psbt_carries_the_message_the_spent_output_and_every_cosigners_origin() -> None:
    psbt = PSBT.from_base64(bip322_psbt.create(WALLET, ADDRESS, TEXT))
    assert psbt.unknown[bip322_psbt.GENERIC_SIGNED_MESSAGE] == TEXT.encode()
    entry = psbt.inputs[0]
    assert (entry.witness_utxo.value, entry.witness_utxo.script_pubkey.data) == (
        0,
        bip322.script_pubkey(ADDRESS),
    )
    assert entry.witness_script.data == WALLET.witness_script(0, 0)
    assert sorted(k.sec() for k in entry.bip32_derivations) == WALLET.pubkeys(0, 0)
    [out] = psbt.tx.vout
    assert (out.value, out.script_pubkey.data) == (0, b"\x6a")
    with pytest.raises(InputError, match="receive address 0/0"):
        bip322_psbt.create(WALLET, WALLET.address(0, 1), TEXT)


def test_two_cosigners_psbts_or_one_passed_along_make_a_proof_the_verifier_accepts() -> None:
    apart = _imported([_signed_by(1), _signed_by(3)])
    passed_along = _imported([_signed_by(3, _signed_by(2))])
    for proven in (apart, passed_along):
        assert proven.signature.startswith(b"ful")
        valid = bip322.verify(ADDRESS, TEXT.encode(), proven.signature.decode())
        assert (valid.kind, valid.variant, valid.lock_time) == ("p2wsh-multisig", "full", 0)
        doc = S.document("alice", [proven])
        assert verify_document(doc, S.vkey).controls == (("bitcoin", ADDRESS),)


def test_psbts_that_do_not_prove_the_statement_are_refused() -> None:
    with pytest.raises(InputError, match="carry 1 of the 2 signatures"):
        _imported([_signed_by(1)])
    other = ownership.statement("snap-2", S.roots.nonce, DIGEST, "bitcoin", ADDRESS)
    stale = PSBT.from_base64(bip322_psbt.create(WALLET, ADDRESS, other))
    stale.sign_with(master(2))
    with pytest.raises(InputError, match="not the BIP-322 PSBT of this statement"):
        _imported([_signed_by(1), str(stale.to_base64())])
    relabelled = PSBT.from_base64(_signed_by(2))
    relabelled.unknown[bip322_psbt.GENERIC_SIGNED_MESSAGE] = other.encode()
    with pytest.raises(InputError, match="not the BIP-322 PSBT of this statement"):
        _imported([_signed_by(1), str(relabelled.to_base64())])
    garbled = bip322_psbt.MAGIC_BASE64 + base64.b64encode(b"\x00" * 9).decode()
    with pytest.raises(InputError, match="not a base64 PSBT"):
        _imported([garbled])
