"""Burn addresses are never a destination (issue #13, point 9: the zero address)."""

from __future__ import annotations

import pytest

from kinko.chains.bitcoin.address import normalize as btc_normalize
from kinko.chains.bitcoin.networks import NETWORKS
from kinko.chains.destinations import CODE, refuse_unspendable, refuse_unspendable_anywhere
from kinko.chains.ethereum.address import normalize_address
from kinko.core.errors import InputError

ZERO = "0x" + "00" * 20


@pytest.mark.parametrize(
    ("address", "why"),
    [
        (ZERO, "the zero address"),
        ("0x" + "00" * 19 + "01", "precompiled-contract"),  # ecrecover
        ("0x" + "00" * 19 + "0a", "precompiled-contract"),  # EIP-4844 point evaluation
        ("0x" + "00" * 18 + "0100", "precompiled-contract"),  # EIP-7951 P256VERIFY
        ("0x" + "00" * 18 + "01ff", "precompiled-contract"),  # EIP-7587 reserved range
        ("0x000000000000000000000000000000000000dEaD", "0x…dEaD"),
        ("0x000000000000000000000000000000000000dead", "0x…dEaD"),
    ],
)
def test_ethereum_burn_addresses_are_refused(address: str, why: str) -> None:
    normalized = normalize_address(address)
    with pytest.raises(InputError) as refused:
        refuse_unspendable("ethereum", "mainnet", normalized, field="destination")
    assert refused.value.code == CODE and refused.value.field == "destination"
    assert why in refused.value.message and "lost for good" in refused.value.message


@pytest.mark.parametrize(
    "address",
    ["0x" + "00" * 18 + "0200", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"],
)
def test_ordinary_ethereum_addresses_pass(address: str) -> None:
    refuse_unspendable("ethereum", "mainnet", normalize_address(address), field="destination")


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("1111111111111111111114oLvT2", "all-zero key hash"),
        ("31h1vYVSYuKP6AhS86fbRdMw9XHieotbST", "all-zero script hash"),
        ("bc1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq9e75rs", "all-zero witness program"),
        (
            "bc1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqthqst8",
            "all-zero witness program",
        ),
        (
            "bc1pqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqpqqenm",
            "Taproot key x = 0",
        ),
        ("1BitcoinEaterAddressDontSendf59kuE", "well-known burn address"),
        ("1CounterpartyXXXXXXXXXXXXXXXUWLpVr", "well-known burn address"),
    ],
)
def test_bitcoin_burn_addresses_are_refused(address: str, why: str) -> None:
    normalized = btc_normalize(address, NETWORKS["mainnet"])
    with pytest.raises(InputError) as refused:
        refuse_unspendable("bitcoin", "mainnet", normalized, field="destination")
    assert refused.value.code == CODE and why in refused.value.message
    with pytest.raises(InputError, match="lost for good"):
        refuse_unspendable_anywhere("bitcoin", normalized, field="address")


def test_zero_hash_outputs_are_refused_on_every_bitcoin_network() -> None:
    regtest_zero = "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202"
    with pytest.raises(InputError, match="all-zero witness program"):
        refuse_unspendable("bitcoin", "regtest", regtest_zero, field="destination")
    with pytest.raises(InputError, match="all-zero witness program"):
        refuse_unspendable_anywhere("bitcoin", regtest_zero, field="address")


@pytest.mark.parametrize(
    "address",
    ["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"],
)
def test_ordinary_bitcoin_addresses_pass(address: str) -> None:
    refuse_unspendable("bitcoin", "mainnet", address, field="destination")
    refuse_unspendable_anywhere("bitcoin", address, field="address")
