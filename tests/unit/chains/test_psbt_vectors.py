"""BIP-174 PSBT test vectors, all of them from the BIP's "Test Vectors" section.

Every invalid PSBT is refused with InputError; every valid one parses (two are refused on
purpose, see `test_valid_psbts_without_inputs_are_refused`); the signer -> combiner ->
finaliser -> extractor chain reproduces the BIP's expected PSBTs and network transaction
through the libraries our adapter uses (embit for combining, BDK for finalising and
extracting), and our adapter refuses the chain's PSBTs because they are not P2WSH multisig.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import bdkpython as bdk
import pytest
from embit import ec
from embit.psbt import PSBT
from embit.transaction import SIGHASH

from kinko.chains.bitcoin import psbt as psbtmod
from kinko.core.errors import InputError
from tests.unit.chains import btc_fixtures as fx

VECTORS = json.loads((Path(__file__).parents[2] / "vectors" / "bip174_psbt.json").read_text())
ROLES: dict[str, Any] = VECTORS["roles"]
PARSED = [v for v in VECTORS["valid"] if "kinko_refuses" not in v]
REFUSED = [v for v in VECTORS["valid"] if "kinko_refuses" in v]


def _raw(name: str) -> bytes:
    return base64.b64decode(ROLES[name])


def test_every_bip_vector_is_present() -> None:
    # The BIP lists 19 invalid and 10 valid PSBTs; a lost vector must fail here, not vanish.
    assert len(VECTORS["invalid"]) == 19
    assert len(VECTORS["valid"]) == 10
    assert len({v["base64"] for v in VECTORS["invalid"] + VECTORS["valid"]}) == 29


@pytest.mark.parametrize("vector", PARSED, ids=lambda v: v["case"][:40])
def test_valid_psbts_parse(vector: dict[str, Any]) -> None:
    parsed = psbtmod.parse(base64.b64decode(vector["base64"]))
    assert len(parsed.inputs) == len(parsed.tx.vin) >= 1
    assert len(parsed.outputs) == len(parsed.tx.vout)


@pytest.mark.parametrize("vector", REFUSED, ids=lambda v: v["case"][:40])
def test_valid_psbts_without_inputs_are_refused(vector: dict[str, Any]) -> None:
    # Deliberate deviation: BIP-174 calls a PSBT whose unsigned transaction has no inputs
    # valid, but Kinko only reads PSBTs to spend from its wallets, and a transaction with
    # no inputs spends nothing. embit reads the 0x00 input count as a segwit marker; we
    # turn that into a clear InputError rather than accept a transaction we cannot use.
    with pytest.raises(InputError) as err:
        psbtmod.parse(base64.b64decode(vector["base64"]))
    assert err.value.field == "psbt"


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["case"][:40])
def test_invalid_psbts_are_refused(vector: dict[str, Any]) -> None:
    with pytest.raises(InputError) as err:
        psbtmod.parse(base64.b64decode(vector["base64"]))
    assert err.value.field.startswith("psbt")


@pytest.mark.parametrize("payload", [b"", b"psbt", b"\x02\x00\x00\x00", b"psbt\xff\x00"])
def test_non_psbt_bytes_are_refused(payload: bytes) -> None:
    with pytest.raises(InputError) as err:
        psbtmod.parse(payload)
    assert err.value.field == "psbt"


def test_role_vectors_parse() -> None:
    for name in ("signed_a", "signed_b", "combined", "finalized"):
        assert len(psbtmod.parse(_raw(name)).inputs) == 2


def test_combiner_vector() -> None:
    # The merge BitcoinAdapter.combine performs (partial signatures, per input, on embit
    # PSBTs) must turn the BIP's two signer outputs into the BIP's combined PSBT, byte for byte.
    base = psbtmod.parse(_raw("signed_a"))
    other = psbtmod.parse(_raw("signed_b"))
    assert base.serialize() != _raw("combined")
    for mine, theirs in zip(base.inputs, other.inputs, strict=True):
        mine.partial_sigs.update(theirs.partial_sigs)
    assert bytes(base.serialize()) == _raw("combined")
    # The other order gives the same signatures; embit keeps insertion order within a map,
    # and BIP-174 does not fix the order of keys, so compare the maps, not the bytes.
    flipped = psbtmod.parse(_raw("signed_b"))
    for mine, theirs in zip(flipped.inputs, psbtmod.parse(_raw("signed_a")).inputs, strict=True):
        mine.partial_sigs.update(theirs.partial_sigs)
    expected = psbtmod.parse(_raw("combined"))
    for got, want in zip(flipped.inputs, expected.inputs, strict=True):
        assert dict(got.partial_sigs) == dict(want.partial_sigs)
        assert len(got.partial_sigs) == 2


def test_finalizer_and_extractor_vectors() -> None:
    # BitcoinAdapter.finalize uses BDK's finaliser and extractor.
    result = bdk.Psbt(ROLES["combined"]).finalize()
    assert result.could_finalize, result.errors
    assert result.psbt.serialize() == ROLES["finalized"]
    extracted = bytes(result.psbt.extract_tx().serialize()).hex()
    assert extracted == ROLES["extracted_tx_hex"]
    # The BIP's finalised PSBT extracts to the same network transaction.
    again = bytes(bdk.Psbt(ROLES["finalized"]).extract_tx().serialize()).hex()
    assert again == ROLES["extracted_tx_hex"]


def test_unfinished_psbt_does_not_finalize() -> None:
    # One signer's output lacks the second signature of each 2-of-2: BDK must not finalise.
    result = bdk.Psbt(ROLES["signed_a"]).finalize()
    assert not result.could_finalize


@pytest.mark.parametrize("name", ["signed_a", "signed_b", "combined", "finalized"])
def test_adapter_refuses_role_vectors(name: str) -> None:
    # Deliberate refusal: the BIP's role vectors spend a legacy P2SH multisig input and a
    # P2SH-P2WSH input with keys from another wallet; Kinko's adapter only spends its own
    # native P2WSH sortedmulti outputs, so combine/finalize must refuse, not co-sign.
    adapter = fx.adapter()
    with pytest.raises(InputError) as err:
        adapter.combine([_raw(name)])
    assert err.value.field.startswith("psbt.inputs[0]")
    with pytest.raises(InputError):
        adapter.finalize(_raw(name))


def test_embit_parses_role_vectors_like_our_decoder() -> None:
    # The decoder is a thin guard around embit: same inputs, same unsigned transaction.
    for name in ("signed_a", "combined"):
        ours = psbtmod.parse(_raw(name))
        theirs = PSBT.parse(_raw(name))
        assert ours.tx.serialize() == theirs.tx.serialize()


@pytest.mark.parametrize(
    ("keys", "signed"), [("signer_a_keys", "signed_a"), ("signer_b_keys", "signed_b")]
)
def test_signer_vectors(keys: str, signed: str) -> None:
    # embit is the cosigner library. It grinds for a low-R signature (71-byte DER) where the
    # BIP's vector has plain RFC 6979 output, so where the BIP's signature is high-R (72
    # bytes) the bytes differ; both must then verify over the same BIP-143 / legacy digest.
    psbt = PSBT.parse(_raw("updated"))
    signed_count = sum(psbt.sign_with(ec.PrivateKey.from_wif(w)) for w in ROLES[keys])
    assert signed_count == 2
    expected = PSBT.parse(_raw(signed))
    for i, (got, want) in enumerate(zip(psbt.inputs, expected.inputs, strict=True)):
        assert set(got.partial_sigs) == set(want.partial_sigs)
        for pub, sig in want.partial_sigs.items():
            mine = got.partial_sigs[pub]
            if len(sig) == 72 and sig[3] == 0x21:  # high R: BIP vector predates R-grinding
                digest = _digest(psbt, i)
                assert pub.verify(ec.Signature.parse(sig[:-1]), digest)
                assert pub.verify(ec.Signature.parse(mine[:-1]), digest)
            else:
                assert mine == sig
    if signed == "signed_a":
        assert bytes(psbt.serialize()) == _raw("signed_a")


def _digest(psbt: Any, i: int) -> bytes:
    inp = psbt.inputs[i]
    if inp.witness_script is not None:
        value = psbt.utxo(i).value
        return bytes(psbt.tx.sighash_segwit(i, inp.witness_script, value, SIGHASH.ALL))
    return bytes(psbt.tx.sighash_legacy(i, inp.redeem_script, SIGHASH.ALL))


@pytest.mark.parametrize("vector", VECTORS["signer_checks"], ids=lambda v: v["case"][:40])
def test_signer_check_vectors_are_refused_by_inspect(vector: dict[str, Any]) -> None:
    # These are well-formed PSBTs that a signer must refuse (UTXO/script mismatches). They
    # parse; Kinko's signer path (`inspect`, run before any signature) refuses them because
    # it signs only inputs whose UTXO is P2WSH of the witness script derived from our own
    # descriptor -- a stricter rule that rejects every mismatch these vectors exercise.
    raw = base64.b64decode(vector["base64"])
    assert len(psbtmod.parse(raw).inputs) == 2
    adapter = fx.adapter()
    assert adapter.wallet is not None
    with pytest.raises(InputError) as err:
        psbtmod.inspect(raw, adapter.wallet)
    assert err.value.field.startswith("psbt.inputs[")
    with pytest.raises(InputError):
        adapter.sign(raw, fx.key_bytes(1))


def test_unknown_key_combiner_vector() -> None:
    # embit keeps unknown key-value pairs per map; merging them map by map reproduces the
    # BIP's lexicographically ordered result (here insertion order is lexicographic too).
    # BitcoinAdapter.combine merges partial signatures only, and refuses these PSBTs anyway
    # (no wallet input), so this checks the library's map handling, not the adapter.
    vec = VECTORS["unknown_combiner"]
    first = psbtmod.parse(base64.b64decode(vec["first"]))
    second = psbtmod.parse(base64.b64decode(vec["second"]))
    first.unknown.update(second.unknown)
    for mine, theirs in zip(first.inputs, second.inputs, strict=True):
        mine.update(theirs)
    for mine, theirs in zip(first.outputs, second.outputs, strict=True):
        mine.update(theirs)
    assert bytes(first.serialize()) == base64.b64decode(vec["combined_lexicographic"])
    assert len(first.unknown) == len(first.inputs[0].unknown) == len(first.outputs[0].unknown) == 2
