"""BIP-322 verification against the BIP's own vectors (tests/vectors/bip322/), attacks on
Kinko's wsh(sortedmulti) wallets' signatures, and the pieces under it: BIP-340 Schnorr,
RIPEMD-160 (with and without hashlib's), segwit addresses."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from embit import bip32

from kinko.chains.bitcoin import bech32
from kinko.chains.bitcoin.networks import network
from kinko.chains.bitcoin.wallet import MultisigWallet
from kinko.core.errors import InputError, IntegrityError
from kinko.reserves import bip322, control, ripemd160, secp256k1, segwit
from tests.unit.chains.btc_fixtures import descriptor, key_bytes, master

VECTORS = Path(__file__).parents[2] / "vectors"
BASIC = json.loads((VECTORS / "bip322" / "basic-test-vectors.json").read_text())
GENERATED = json.loads((VECTORS / "bip322" / "generated-test-vectors.json").read_text())
SUPPORTED = ("p2wpkh", "p2tr", "p2wsh-multisig-2of2", "p2wsh-multisig-3of3")
SIGNED = [
    (variant, v, sig)
    for doc in (BASIC, GENERATED)
    for variant in ("simple", "full")
    for v in doc.get(variant, [])
    for sig in v["bip322_signatures"]
]
# Bitcoin Core, src/test/util_tests.cpp (message_verify): P2TR, key path, "Hello World".
CORE_P2TR = (
    "bc1ppv609nr0vr25u07u95waq5lucwfm6tde4nydujnu8npg4q75mr5sxq8lt3",
    "AUHd69PrJQEv+oKTfZ8l+WROBHuy9HKrbFCJu7U1iK2iiEy1vMU5EfMtjc+VSHM7aU0SDbak5IUZRVno2P5mjSafAQ==",
)
WALLET = MultisigWallet.parse(descriptor((1, 2, 3)), network("regtest"))  # 2-of-3 sortedmulti
ADDRESS = WALLET.address(0, 0)
TEXT = "Kinko proof of reserves: control of a reserve address\n"


def test_message_hashes_and_transaction_ids_are_the_bips() -> None:
    for v in BASIC["tx_hashes"]:
        message, challenge = v["message"].encode(), bip322.script_pubkey(v["address"])
        assert bip322.message_hash(message).hex() == v["message_hash"]
        spend = bip322.to_spend(message, challenge)
        assert bip322.sha256d(spend)[::-1].hex() == v["to_spend_tx_hash"]
        sign = bip322.unsigned(challenge, message).serialize(witness=False)
        assert bip322.sha256d(sign)[::-1].hex() == v["to_sign_tx_hash"]


@pytest.mark.parametrize(
    ("variant", "vector", "signature"),
    [s for s in SIGNED if s[1]["type"] in SUPPORTED],
    ids=lambda x: x if isinstance(x, str) and len(x) < 10 else "",
)
def test_every_supported_vector_of_the_bip_verifies(
    variant: str, vector: dict[str, Any], signature: str
) -> None:
    valid = bip322.verify(vector["address"], vector["message"].encode(), signature)
    assert valid.kind == vector["type"].split("-2of2")[0].split("-3of3")[0]
    assert valid.variant == variant
    assert (valid.lock_time, valid.sequence) == (
        vector.get("lock_time", 0),
        vector.get("sequence", 0),
    )


def test_other_scripts_and_proofs_of_funds_are_refused_as_unsupported() -> None:
    others = [(v["address"], v["message"], s) for _, v, s in SIGNED if v["type"] not in SUPPORTED]
    others += [
        (v["address"], v["message"], s)
        for v in GENERATED["proof_of_funds"]
        for s in v["bip322_signatures"]
    ]
    assert len(others) >= 9
    for address, message, signature in others:
        with pytest.raises(bip322.Unsupported):
            bip322.verify(address, message.encode(), signature)


def test_every_error_vector_of_the_bip_is_refused() -> None:
    errors = BASIC["error"] + GENERATED["error"]
    assert len(errors) >= 30
    for v in errors:
        with pytest.raises(IntegrityError) as caught:
            bip322.verify(v["address"], v["message"].encode(), v["signature"])
        legacy = v["address"][0] in "13"
        assert isinstance(caught.value, bip322.Unsupported if legacy else bip322.Invalid), v


def test_bitcoin_cores_p2tr_vector_and_the_unprefixed_p2wpkh_ones_verify() -> None:
    assert bip322.verify(CORE_P2TR[0], b"Hello World", CORE_P2TR[1]).kind == "p2tr"
    with pytest.raises(bip322.Invalid, match="Schnorr"):
        bip322.verify(CORE_P2TR[0], b"Hello World!", CORE_P2TR[1])
    for v in BASIC["simple"][:2]:  # the BIP's text before 1.0.0 listed them without "smp"
        for signature in v["bip322_signatures"]:
            valid = bip322.verify(v["address"], v["message"].encode(), signature[3:])
            assert valid.kind == "p2wpkh"


def test_bip340_verification_vectors() -> None:
    text = (VECTORS / "bip322" / "bip340-test-vectors.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    checked = 0
    for row in rows:
        message = bytes.fromhex(row["message"])
        if len(message) != 32:  # BIP-322 signs 32-byte sighashes only
            continue
        expected = row["verification result"] == "TRUE"
        pk, sig = bytes.fromhex(row["public key"]), bytes.fromhex(row["signature"])
        assert secp256k1.schnorr_verify(pk, message, sig) is expected, row["index"]
        checked += 1
    assert checked >= 15


RIPEMD160_VECTORS = [  # Bosselaers' RIPEMD-160 page, "test values"
    (b"", "9c1185a5c5e9fc54612808977ee8f548b2258d31"),
    (b"a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe"),
    (b"abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"),
    (b"message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36"),
    (b"abcdefghijklmnopqrstuvwxyz", "f71c27109c692c1b56bbdceb5b9d2865b3708dbc"),
    (
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "12a053384a9c0c88e405a06c27dcf49ada62eb2b",
    ),
    (
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "b0e20b6e3116640286ed3a87a5713079b21f5189",
    ),
    (b"1234567890" * 8, "9b752e45573d4b39f4dbd3323cab82bf63326bfb"),
    (b"a" * 1_000_000, "52783243c1697bdbe16d37f97f68f08325dc1528"),
]


def test_ripemd160_written_out_gives_the_published_values() -> None:
    for data, expected in RIPEMD160_VECTORS:
        assert ripemd160.ripemd160(data).hex() == expected


def test_without_hashlibs_ripemd160_p2wpkh_still_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    real = hashlib.new

    def no_ripemd(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.lower() == "ripemd160":
            raise ValueError("unsupported hash type ripemd160")  # as OpenSSL 3 says
        return real(name, *args, **kwargs)

    monkeypatch.setattr(hashlib, "new", no_ripemd)
    assert ripemd160.digest(b"abc").hex() == RIPEMD160_VECTORS[2][1]
    v = BASIC["simple"][1]
    assert bip322.verify(v["address"], b"Hello World", v["bip322_signatures"][0]).kind == "p2wpkh"


def test_segwit_addresses_decode_as_bip173_and_bip350_say_and_as_kinkos_codec() -> None:
    bip350 = json.loads((VECTORS / "bip350_addresses.json").read_text())
    for address, script in bip350["valid_segwit"]:
        if address.lower().split("1")[0] in segwit.HRPS:
            assert segwit.script_pubkey(address).hex() == script
    for address, _why in bip350["invalid_segwit"]:
        with pytest.raises(IntegrityError):
            segwit.script_pubkey(address)
        hrp = address.lower()[: address.rfind("1")]
        if hrp in ("bc", "tb"):  # Kinko's own codec refuses it as well
            with pytest.raises(InputError):
                bech32.decode_segwit(hrp, address)


# Attacks on the exchange's own wallets: wsh(sortedmulti(2, three keys)).


def _stack(signature: str) -> list[bytes]:
    return segwit.Reader(base64.b64decode(signature[3:]), "test").stack()


def _simple(stack: list[bytes]) -> str:
    return bip322.encode_simple(stack)


def _signed(seeds: tuple[int, ...] = (1, 3), text: str = TEXT) -> str:
    made = control.sign_multisig([key_bytes(s) for s in seeds], WALLET, ADDRESS, text)
    assert made is not None
    return made


def test_any_two_of_the_three_cosigners_prove_the_wallet_in_simple_and_full_form() -> None:
    for seeds in ((1, 2), (1, 3), (2, 3)):
        valid = bip322.verify(ADDRESS, TEXT.encode(), _signed(seeds))
        assert (valid.kind, valid.variant, valid.lock_time) == ("p2wsh-multisig", "simple", 0)
    assert control.sign_multisig([key_bytes(1)], WALLET, ADDRESS, TEXT) is None  # 1 < 2
    tx = bip322.unsigned(WALLET.script_pubkey(0, 0), TEXT.encode())
    full = bip322.ToSign(tx.prevout, _stack(_signed()))
    text = "ful" + base64.b64encode(full.serialize()).decode()
    assert bip322.verify(ADDRESS, TEXT.encode(), text).variant == "full"


def _outsider_signature() -> bytes:
    """A valid-looking signature of the right sighash by a key outside the script."""
    script = WALLET.witness_script(0, 0)
    digest = bip322.unsigned(WALLET.script_pubkey(0, 0), TEXT.encode()).segwit_v0_digest(script)
    child = master(9).derive("m/48h/1h/0h/2h/0/0")
    assert isinstance(child, bip32.HDKey)
    return bytes(child.key.sign(digest).serialize()) + b"\x01"


def _high_s(sig: bytes) -> bytes:
    r, s = secp256k1.strict_der(sig[:-1]) or (0, 0)
    high = (secp256k1.N - s).to_bytes(33, "big").lstrip(b"\x00")
    high = b"\x00" + high if high[0] & 0x80 else high
    rb = r.to_bytes(33, "big").lstrip(b"\x00")
    rb = b"\x00" + rb if rb[0] & 0x80 else rb
    body = b"\x02" + bytes([len(rb)]) + rb + b"\x02" + bytes([len(high)]) + high
    return b"\x30" + bytes([len(body)]) + body + sig[-1:]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda w: [w[0], w[1], w[3]], "1 signatures; the 2-of-3 script needs 2"),
        (lambda w: [w[0], _outsider_signature(), w[2], w[3]], "none of the remaining keys"),
        (lambda w: [w[0], w[1][:-1] + b"\x81", w[2], w[3]], "sighash flag 0x81"),
        (lambda w: [w[0], w[1][:-1] + b"\x02", w[2], w[3]], "not SIGHASH_ALL"),
        (lambda w: [w[0], _high_s(w[1]), w[2], w[3]], "not low"),
        (lambda w: [b"\x01", w[1], w[2], w[3]], "NULLDUMMY"),
        (lambda w: [w[0], w[2], w[1], w[3]], "none of the remaining keys"),  # out of order
        (lambda w: [w[0], b"", w[2], w[3]], "empty"),
        (lambda w: [w[0], w[1], w[2], WALLET.witness_script(0, 1)], "not the address's"),
    ],
    ids=[
        "m-1 signatures",
        "a key not in the script",
        "ANYONECANPAY",
        "SIGHASH_NONE",
        "high S",
        "dummy not empty",
        "signatures out of key order",
        "an empty signature",
        "another address's script",
    ],
)
def test_a_forged_multisig_witness_is_invalid(make: Any, match: str) -> None:
    forged = _simple(make(_stack(_signed())))
    with pytest.raises(bip322.Invalid, match=match):
        bip322.verify(ADDRESS, TEXT.encode(), forged)


def test_wrong_message_wrong_address_and_truncation_are_invalid() -> None:
    good = _signed()
    with pytest.raises(bip322.Invalid, match="none of the remaining keys"):
        bip322.verify(ADDRESS, (TEXT + "x").encode(), good)
    with pytest.raises(bip322.Invalid, match="not the address's"):
        bip322.verify(WALLET.address(0, 1), TEXT.encode(), good)
    raw = base64.b64decode(good[3:])
    for cut in (1, 40, len(raw) - 1):
        with pytest.raises(bip322.Invalid, match="truncated"):
            bip322.verify(ADDRESS, TEXT.encode(), "smp" + base64.b64encode(raw[:cut]).decode())
    with pytest.raises(bip322.Invalid, match="after the end"):
        bip322.verify(ADDRESS, TEXT.encode(), "smp" + base64.b64encode(raw + b"\x00").decode())


def test_a_taproot_signature_with_another_sighash_flag_is_invalid() -> None:
    sig = base64.b64decode(CORE_P2TR[1])[2:]  # stack of one 64-byte item
    for flag in (b"\x83", b"\x00", b"\x02"):
        forged = _simple([sig + flag])
        with pytest.raises(bip322.Invalid, match="SIGHASH_ALL"):
            bip322.verify(CORE_P2TR[0], b"Hello World", forged)


def test_a_script_anyone_can_satisfy_is_not_accepted_as_proof() -> None:
    """OP_TRUE, or a 0-of-1 multisig: no key signs, so nothing is proven."""
    key = WALLET.pubkeys(0, 0)[0]
    for script in (b"\x51", b"\x00\x21" + key + b"\x51\xae"):
        program = hashlib.sha256(script).digest()
        address = bech32.encode_segwit("bcrt", 0, program)
        with pytest.raises(bip322.Unsupported, match="not a bare m-of-n multisig"):
            bip322.verify(address, TEXT.encode(), _simple([b"", script]))
