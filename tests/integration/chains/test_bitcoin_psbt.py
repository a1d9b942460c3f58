"""2-of-3 P2WSH PSBTs end to end: BDK builds, embit co-signs, BDK finalises, and
python-bitcointx's script interpreter verifies every input of the final transaction."""

from __future__ import annotations

import pytest
from bitcointx.core import CTransaction
from bitcointx.core.script import CScript
from bitcointx.core.scripteval import SCRIPT_VERIFY_P2SH, SCRIPT_VERIFY_WITNESS, VerifyScript
from embit.psbt import PSBT
from embit.script import Script

from kinko.chains.bitcoin import BitcoinAdapter, Payment
from kinko.chains.bitcoin.networks import NETWORKS
from kinko.chains.bitcoin.wallet import MultisigWallet
from kinko.chains.expect import Expected, check_intent
from kinko.core.errors import InputError, IntegrityError
from tests.unit.chains.btc_fixtures import adapter, descriptor, funding, key_bytes

DEST = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
AMOUNTS = [100_000, 120_000, 90_000, 50_000, 70_000]


@pytest.fixture(scope="module")
def btc() -> BitcoinAdapter:
    return adapter()


@pytest.fixture(scope="module")
def unsigned(btc: BitcoinAdapter) -> bytes:
    return btc.build(funding(btc, AMOUNTS), [Payment(DEST, 300_000)], fee_rate=3)


def _verify(btc: BitcoinAdapter, raw: bytes, amounts: list[int]) -> None:
    assert btc.wallet is not None
    tx = CTransaction.deserialize(raw)
    for i, txin in enumerate(tx.vin):
        VerifyScript(
            txin.scriptSig,
            CScript(btc.wallet.script_pubkey(0, i)),
            tx,
            i,
            flags={SCRIPT_VERIFY_P2SH, SCRIPT_VERIFY_WITNESS},
            amount=amounts[i],
            witness=tx.wit.vtxinwit[i].scriptWitness,
        )


def test_decode_shows_the_payment_the_change_and_the_fee(
    btc: BitcoinAdapter, unsigned: bytes
) -> None:
    intent = btc.decode(unsigned)
    assert (intent.asset, intent.destination, intent.amount) == ("BTC", DEST, 300_000)
    change = [o for o in intent.outputs if o.is_change]
    assert len(change) == 1 and change[0].address.startswith("bcrt1q")
    assert intent.fee == sum(AMOUNTS) - 300_000 - change[0].amount
    assert 0 < intent.fee < 5_000
    assert len(intent.details["inputs"]) == 5
    check_intent(intent, Expected("BTC", DEST, 300_000, fee_cap=5_000))


@pytest.mark.parametrize("pair", [(1, 2), (1, 3), (3, 2)])
def test_any_two_cosigners_produce_a_transaction_the_interpreter_accepts(
    btc: BitcoinAdapter, unsigned: bytes, pair: tuple[int, int]
) -> None:
    copies = [btc.sign(unsigned, key_bytes(seed)) for seed in pair]
    raw = btc.finalize(btc.combine(copies))
    _verify(btc, raw, AMOUNTS)


def test_the_interpreter_rejects_the_same_witness_for_a_different_amount(
    btc: BitcoinAdapter, unsigned: bytes
) -> None:
    raw = btc.finalize(
        btc.combine([btc.sign(unsigned, key_bytes(1)), btc.sign(unsigned, key_bytes(2))])
    )
    with pytest.raises(Exception, match="returned false"):
        _verify(btc, raw, [AMOUNTS[0] + 1, *AMOUNTS[1:]])


def test_one_signature_is_not_enough(btc: BitcoinAdapter, unsigned: bytes) -> None:
    with pytest.raises(InputError, match="signed by 1/2 required cosigners"):
        btc.finalize(btc.sign(unsigned, key_bytes(1)))


def test_the_same_cosigner_twice_still_counts_once(btc: BitcoinAdapter, unsigned: bytes) -> None:
    once = btc.sign(unsigned, key_bytes(2))
    with pytest.raises(InputError, match="signed by 1/2"):
        btc.finalize(btc.combine([once, btc.sign(unsigned, key_bytes(2))]))


def test_digest_is_stable_across_signing_and_changes_with_the_transaction(
    btc: BitcoinAdapter, unsigned: bytes
) -> None:
    digest = btc.signing_digest(unsigned)
    assert len(digest) == 32
    assert btc.signing_digest(btc.sign(unsigned, key_bytes(3))) == digest
    other = btc.build(funding(btc, AMOUNTS), [Payment(DEST, 300_001)], fee_rate=3)
    assert btc.signing_digest(other) != digest


def _tampered(payload: bytes, edit: object) -> bytes:
    psbt = PSBT.parse(payload)
    edit(psbt)  # type: ignore[operator]
    return bytes(psbt.serialize())


def test_change_redirected_to_a_foreign_address_is_caught(
    btc: BitcoinAdapter, unsigned: bytes
) -> None:
    intent = btc.decode(unsigned)
    index = next(i for i, o in enumerate(intent.outputs) if o.is_change)
    foreign = bytes.fromhex("0014" + "11" * 20)

    def redirect(psbt: PSBT) -> None:
        psbt.outputs[index].script_pubkey = Script(foreign)

    evil = btc.decode(_tampered(unsigned, redirect))
    assert not evil.outputs[index].is_change
    with pytest.raises(IntegrityError) as err:
        check_intent(evil, Expected("BTC", DEST, 300_000, fee_cap=5_000))
    assert "neither the destination nor this wallet's change" in err.value.message
    assert "claims to be change but does not pay to this wallet" in err.value.message


def test_fee_above_the_cap_is_caught(btc: BitcoinAdapter) -> None:
    greedy = btc.build(funding(btc, AMOUNTS), [Payment(DEST, 300_000)], fee_rate=200)
    intent = btc.decode(greedy)
    with pytest.raises(IntegrityError, match=f"fee {intent.fee} exceeds the cap of 5000"):
        check_intent(intent, Expected("BTC", DEST, 300_000, fee_cap=5_000))


def test_extra_and_missing_inputs_are_named(btc: BitcoinAdapter, unsigned: bytes) -> None:
    intent = btc.decode(unsigned)
    spent = {(i["txid"], i["vout"]) for i in intent.details["inputs"]}
    first = sorted(spent)[0]
    expected = Expected("BTC", DEST, 300_000, 5_000, inputs=(spent - {first}) | {("ab" * 32, 0)})
    with pytest.raises(IntegrityError) as err:
        check_intent(intent, expected)
    assert f"spends an extra input {first[0]}:0" in err.value.message
    assert f"does not spend the expected input {'ab' * 32}:0" in err.value.message


def test_inputs_of_another_wallet_are_refused(btc: BitcoinAdapter) -> None:
    stranger = adapter((4, 5, 6))
    theirs = stranger.build(funding(stranger, [50_000]), [Payment(DEST, 10_000)], fee_rate=2)
    with pytest.raises(InputError, match=r"psbt.inputs\[0\]: does not spend from this wallet"):
        btc.decode(theirs)


def test_a_previous_transaction_that_does_not_match_the_outpoint_is_refused(
    btc: BitcoinAdapter, unsigned: bytes
) -> None:
    def inflate(psbt: PSBT) -> None:
        psbt.inputs[0].non_witness_utxo.vout[0].value += 1

    with pytest.raises(InputError, match="does not hash to the spent outpoint"):
        btc.decode(_tampered(unsigned, inflate))


def test_sighash_other_than_all_is_refused(btc: BitcoinAdapter, unsigned: bytes) -> None:
    def anyone(psbt: PSBT) -> None:
        psbt.inputs[2].sighash_type = 0x82  # SIGHASH_NONE | ANYONECANPAY

    with pytest.raises(InputError, match=r"inputs\[2\].sighash_type"):
        btc.sign(_tampered(unsigned, anyone), key_bytes(1))


def test_a_stranger_key_cannot_sign(btc: BitcoinAdapter, unsigned: bytes) -> None:
    with pytest.raises(InputError, match="not one of the wallet's cosigners"):
        btc.sign(unsigned, key_bytes(9))
    with pytest.raises(InputError, match="extended private key"):
        btc.sign(unsigned, b"\x00" * 32)


def test_combining_different_transactions_is_refused(btc: BitcoinAdapter, unsigned: bytes) -> None:
    other = btc.build(funding(btc, AMOUNTS), [Payment(DEST, 1_000)], fee_rate=3)
    with pytest.raises(InputError, match=r"payloads\[1\]: is a different transaction"):
        btc.combine([unsigned, other])


def test_build_refuses_foreign_utxos_bad_fee_rates_and_overspending(btc: BitcoinAdapter) -> None:
    stranger = adapter((4, 5, 6))
    with pytest.raises(InputError, match=r"utxos\[0\]: output does not pay to this wallet"):
        btc.build(funding(stranger, [10_000]), [Payment(DEST, 1_000)], fee_rate=2)
    with pytest.raises(InputError, match="fee_rate"):
        btc.build(funding(btc, [10_000]), [Payment(DEST, 1_000)], fee_rate=0)
    with pytest.raises(InputError, match="cannot build"):
        btc.build(funding(btc, [10_000]), [Payment(DEST, 20_000)], fee_rate=2)
    with pytest.raises(InputError, match="not a regtest address"):
        btc.build(
            funding(btc, [10_000]),
            [Payment("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", 1_000)],
            2,
        )
    with pytest.raises(InputError, match=r"utxos\[0\].prev_tx"):
        from kinko.chains.bitcoin import Utxo

        btc.build([Utxo(b"\x01\x02", 0)], [Payment(DEST, 1_000)], fee_rate=2)


def test_signatures_across_inputs_never_share_r(btc: BitcoinAdapter, unsigned: bytes) -> None:
    both = btc.combine([btc.sign(unsigned, key_bytes(1)), btc.sign(unsigned, key_bytes(2))])
    sigs = btc.signatures(both)
    assert len(sigs) == 10
    assert len({s.r for s in sigs}) == 10


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "wpkh([00000000/84h]tpubD6NzVbkrYhZ4XgiXtGrdW5XDAPFCL9h7we1vwNCpn8tGbBcgfVYjXyhWo4E1xkh56hjod1RhGjxbaTLV3X4FyWuejifB9jusQ46QzG87VKp/0/*)",
            "wsh\\(sortedmulti",
        ),
        (descriptor().replace("sortedmulti(2,", "sortedmulti(4,"), "threshold 4 of 3"),
        (descriptor((1, 1, 2)), "appears twice"),
        (descriptor().replace("/0/*", "/*"), "must be \\[fingerprint/path\\]xpub/0/\\*"),
    ],
)
def test_bad_descriptors_are_refused(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        MultisigWallet.parse(text, NETWORKS["regtest"])


def test_a_testnet_descriptor_on_mainnet_is_the_wrong_network() -> None:
    with pytest.raises(InputError, match="not for mainnet") as err:
        BitcoinAdapter("mainnet", descriptor=descriptor())
    assert err.value.code == "wrong_network"


def test_addresses_derived_by_bdk_and_embit_agree(btc: BitcoinAdapter) -> None:
    assert btc.wallet is not None
    addresses = {btc.wallet.address(chain, i) for chain in (0, 1) for i in range(3)}
    assert len(addresses) == 6


def test_rfc6979_signing_is_deterministic(btc: BitcoinAdapter, unsigned: bytes) -> None:
    assert btc.sign(unsigned, key_bytes(2)) == btc.sign(unsigned, key_bytes(2))
