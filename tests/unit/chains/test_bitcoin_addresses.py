"""Bech32/Bech32m and segwit addresses against BIP-173 and BIP-350 vectors; network checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kinko.chains.bitcoin import bech32
from kinko.chains.bitcoin.address import address_of, normalize, script_pubkey
from kinko.chains.bitcoin.networks import NETWORKS, network
from kinko.core.errors import InputError

VECTORS = Path(__file__).parents[2] / "vectors"
BIP173 = json.loads((VECTORS / "bip173_addresses.json").read_text())
BIP350 = json.loads((VECTORS / "bip350_addresses.json").read_text())
MAINNET, TESTNET, REGTEST = NETWORKS["mainnet"], NETWORKS["testnet"], NETWORKS["regtest"]


@pytest.mark.parametrize(
    ("text", "encoding"),
    [(t, bech32.Encoding.BECH32) for t in BIP173["valid_bech32"]]
    + [(t, bech32.Encoding.BECH32M) for t in BIP350["valid_bech32m"]],
)
def test_valid_strings_decode_with_their_checksum_kind(
    text: str, encoding: bech32.Encoding
) -> None:
    hrp, data, got = bech32.decode(text)
    assert got is encoding
    assert bech32.encode(hrp, data, encoding) == text.lower()


@pytest.mark.parametrize(("text", "reason"), BIP173["invalid_bech32"] + BIP350["invalid_bech32m"])
def test_invalid_strings_are_refused(text: str, reason: str) -> None:
    with pytest.raises(InputError):
        bech32.decode(text)


def _hrp(address: str) -> str:
    return address[: address.lower().rfind("1")].lower()


@pytest.mark.parametrize(("address", "script"), BIP350["valid_segwit"] + BIP173["valid_segwit_v0"])
def test_valid_segwit_addresses_give_their_script_pubkey(address: str, script: str) -> None:
    version, program = bech32.decode_segwit(_hrp(address), address)
    spk = bytes([version + 0x50 if version else 0, len(program)]) + program
    assert spk.hex() == script
    assert bech32.encode_segwit(_hrp(address), version, program) == address.lower()


@pytest.mark.parametrize(
    "address",
    [a for a, _ in BIP350["invalid_segwit"] + BIP173["invalid_segwit"]]
    + BIP173["segwit_v1plus_superseded_by_bip350"],
)
def test_invalid_segwit_addresses_are_refused_for_every_network(address: str) -> None:
    for hrp in ("bc", "tb", "bcrt"):
        with pytest.raises(InputError):
            bech32.decode_segwit(hrp, address)


def test_testnet_address_on_mainnet_is_refused_as_wrong_network() -> None:
    testnet = "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7"
    assert normalize(testnet, TESTNET) == testnet
    with pytest.raises(InputError, match="not a mainnet address") as err:
        script_pubkey(testnet, MAINNET, "destination")
    assert err.value.code == "wrong_network"
    assert err.value.field == "destination"
    with pytest.raises(InputError, match="not a regtest address"):
        script_pubkey("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", REGTEST)


def test_segwit_addresses_are_normalised_to_lower_case() -> None:
    assert (
        normalize("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", MAINNET)
        == "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    )


@pytest.mark.parametrize(
    ("address", "net", "script"),
    [
        # Satoshi's genesis coinbase address (P2PKH, mainnet)
        (
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
            "mainnet",
            "76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac",
        ),
        (
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
            "mainnet",
            "a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87",
        ),
    ],
)
def test_base58_addresses_round_trip(address: str, net: str, script: str) -> None:
    assert script_pubkey(address, network(net)).hex() == script
    assert address_of(bytes.fromhex(script), network(net)) == address


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "checksum"),
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7Div0Na", "base58 alphabet"),
        ("", "non-empty"),
    ],
)
def test_bad_base58_addresses_name_the_problem(address: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        script_pubkey(address, MAINNET)


def test_mainnet_base58_on_testnet_is_wrong_network() -> None:
    with pytest.raises(InputError, match="not a testnet address"):
        script_pubkey("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", TESTNET)


def test_unknown_network_is_refused() -> None:
    with pytest.raises(InputError, match="unknown Bitcoin network 'liquid'"):
        network("liquid")
