"""Per-chain address validation and comparison keys, against the standards' vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kinko.core.errors import InputError
from kinko.screening.addresses import normalise_address
from kinko.screening.cashaddr import decode_cashaddr
from kinko.screening.tickers import listed_address

VECTORS = Path(__file__).parents[2] / "vectors"


def _load(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


def test_eip55_vectors_validate_and_lower_case() -> None:
    for address in _load("eip55_addresses.json")["valid"]:  # type: ignore[union-attr]
        assert normalise_address("ethereum", address).key == "evm:" + address.lower()


def test_eip55_wrong_checksum_refused_but_single_case_accepted() -> None:
    good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    flipped = good[:-1] + good[-1].swapcase()
    with pytest.raises(InputError, match="EIP-55") as err:
        normalise_address("ethereum", flipped)
    assert err.value.field == "address"
    assert (
        normalise_address("ethereum", good.lower()).key == normalise_address("ethereum", good).key
    )
    assert normalise_address("polygon", "0x" + good[2:].upper()).key == "evm:" + good.lower()


def test_bip173_and_bip350_segwit_vectors() -> None:
    for address, _script in _load("bip350_addresses.json")["valid_segwit"]:  # type: ignore[union-attr]
        hrp = address.lower().split("1")[0]
        if hrp in ("bc", "tb"):
            assert normalise_address("bitcoin", address).key == "btc:" + address.lower()
    for address, _why in _load("bip350_addresses.json")["invalid_segwit"]:  # type: ignore[union-attr]
        with pytest.raises(InputError):
            normalise_address("bitcoin", address)
    for address in _load("bip173_addresses.json")["segwit_v1plus_superseded_by_bip350"]:  # type: ignore[union-attr]
        with pytest.raises(InputError):
            normalise_address("bitcoin", address)


def test_base58check_bitcoin_and_tron() -> None:
    assert normalise_address("bitcoin", "12HQDsicffSBaYdJ6BhnE22sfjTESmmzKx").key == (
        "btc:12HQDsicffSBaYdJ6BhnE22sfjTESmmzKx"
    )
    with pytest.raises(InputError, match="base58check"):
        normalise_address("bitcoin", "12HQDsicffSBaYdJ6BhnE22sfjTESmmzKy")
    assert normalise_address("tron", "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre").key.startswith("trx:T")
    with pytest.raises(InputError, match="Tron"):
        normalise_address("tron", "12HQDsicffSBaYdJ6BhnE22sfjTESmmzKx")  # valid b58, not 0x41
    with pytest.raises(InputError, match="mixes upper and lower"):
        normalise_address("bitcoin", "bc1Qrskwdw9unhlkt87ltcqq2d5pn9s6w2f35gz3z6")


def test_litecoin_versions_and_bech32() -> None:
    assert normalise_address("litecoin", "LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb").key.startswith(
        "ltc:"
    )
    with pytest.raises(InputError, match="Litecoin"):
        normalise_address("litecoin", "12HQDsicffSBaYdJ6BhnE22sfjTESmmzKx")


def test_cashaddr_spec_pairs_share_a_key() -> None:
    for legacy, cash in _load("cashaddr_legacy_pairs.json")["pairs"]:  # type: ignore[union-attr]
        key = normalise_address("bitcoin-cash", legacy).key
        assert normalise_address("bitcoin-cash", cash).key == key
        assert normalise_address("bitcoin-cash", cash.split(":")[1].upper()).key == key
    corrupted = "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6b"
    assert decode_cashaddr(corrupted) is None
    assert decode_cashaddr("bitcoincash:QPM2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a") is None


def test_unknown_chain_and_empty_address() -> None:
    with pytest.raises(InputError) as err:
        normalise_address("dogecoin", "D123")
    assert err.value.field == "chain"
    with pytest.raises(InputError, match="empty"):
        normalise_address("ethereum", "  ")


def test_ticker_mapping_picks_chain_by_address_and_keeps_unknowns() -> None:
    assert listed_address("USDT", "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", "1").chain == "tron"
    assert listed_address("USDT", "1KUUJPkyDhamZXgpsyXqNGc3x1QPXtdhgz", "1").chain == "bitcoin"
    assert listed_address("USDC", "0x19aa5fe80d33a56d56c78e82ea5e50e5d80b4dff", "1").chain == (
        "ethereum"
    )
    assert listed_address("XBT", "bc1qrskwdw9unhlkt87ltcqq2d5pn9s6w2f35gz3z6", "1").key == (
        "btc:bc1qrskwdw9unhlkt87ltcqq2d5pn9s6w2f35gz3z6"
    )
    unknown = listed_address("XMR", " 4abc ", "7")
    assert (unknown.chain, unknown.key, unknown.valid) == ("unknown:XMR", "unknown:XMR:4abc", True)
    invalid = listed_address("ETH", "0x123", "7")
    assert (invalid.chain, invalid.valid) == ("invalid:ETH", False)
