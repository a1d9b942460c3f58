"""The address book's normaliser reads a Bitcoin address's network from the address itself
(bech32 prefix, base58 version byte): the stored form names it, so an entry can only ever
equal a destination normalised for a network it is valid on."""

from __future__ import annotations

import pytest

from kinko.chains.bitcoin import BitcoinAdapter, bech32
from kinko.core.errors import InputError
from kinko.policy.addressbook import adapter_normalizer, address_networks

# One witness program (BIP-173's example) on each network's prefix.
PROGRAM = bytes.fromhex("751e76e8199196d454941c45d1b3a323f1433bd6")
MAINNET = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"  # BIP-173 test vector
TESTNET = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"  # BIP-173 test vector
REGTEST = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
P2PKH_MAIN = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
P2SH_MAIN = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
P2PKH_TEST = "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn"
P2SH_TEST = "2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc"
LITECOIN = "LaMT348PWRnrqeeWArpwQPbuanpXDZGEUz"  # valid base58check, foreign version byte


def test_the_fixtures_are_one_program_on_three_prefixes() -> None:
    assert [bech32.encode_segwit(hrp, 0, PROGRAM) for hrp in ("bc", "tb", "bcrt")] == [
        MAINNET,
        TESTNET,
        REGTEST,
    ]


@pytest.mark.parametrize(
    ("address", "normalized", "networks"),
    [
        (MAINNET.upper(), MAINNET, ("mainnet",)),
        (TESTNET.upper(), TESTNET, ("testnet", "signet")),
        (REGTEST, REGTEST, ("regtest",)),
        (REGTEST.upper(), REGTEST, ("regtest",)),
        (P2PKH_MAIN, P2PKH_MAIN, ("mainnet",)),
        (P2SH_MAIN, P2SH_MAIN, ("mainnet",)),
        (P2PKH_TEST, P2PKH_TEST, ("testnet", "signet", "regtest")),
        (P2SH_TEST, P2SH_TEST, ("testnet", "signet", "regtest")),
    ],
)
def test_bitcoin_addresses_normalise_with_their_own_network(
    address: str, normalized: str, networks: tuple[str, ...]
) -> None:
    assert address_networks("bitcoin", address) == (normalized, networks)
    assert adapter_normalizer()("bitcoin", address) == normalized
    for network in networks:  # exactly what that network's wallet adapter produces
        assert BitcoinAdapter(network).normalize_address(address) == normalized


def test_a_regtest_entry_never_equals_a_mainnet_destination_or_the_reverse() -> None:
    normalize = adapter_normalizer()
    stored = {normalize("bitcoin", a) for a in (MAINNET, TESTNET, REGTEST)}
    assert len(stored) == 3  # one program, three different entries
    # What WithdrawalService compares against: the wallet's adapter's form, per network.
    assert BitcoinAdapter("regtest").normalize_address(REGTEST) != normalize("bitcoin", MAINNET)
    assert BitcoinAdapter("mainnet").normalize_address(MAINNET) != normalize("bitcoin", REGTEST)
    for network, foreign in (("regtest", MAINNET), ("mainnet", REGTEST), ("regtest", TESTNET)):
        with pytest.raises(InputError) as err:
            BitcoinAdapter(network).normalize_address(foreign)
        assert err.value.code == "wrong_network"


def test_ethereum_addresses_stay_network_independent() -> None:
    lower = "0x52908400098527886e0f7030069857d2e4169ee7"
    checksummed = "0x52908400098527886E0F7030069857D2E4169EE7"  # EIP-55 test vector
    assert address_networks("ethereum", lower) == (checksummed, ("mainnet",))


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("hello", "base58"),
        ("", "non-empty"),
        (REGTEST[:-1] + "q", "checksum"),  # a typo on the regtest prefix names the checksum
        (MAINNET[:-1] + "q", "checksum"),
        (LITECOIN, "not a bitcoin address on any network Kinko knows"),
        ("bcrt1" + MAINNET[3:], "checksum"),  # a mainnet body under the regtest prefix
    ],
)
def test_garbage_and_foreign_addresses_are_refused_naming_the_field(
    address: str, words: str
) -> None:
    with pytest.raises(InputError) as err:
        adapter_normalizer()("bitcoin", address)
    assert err.value.field == "address"
    assert words in err.value.message


def test_an_unknown_chain_is_refused_naming_the_chain() -> None:
    with pytest.raises(InputError) as err:
        adapter_normalizer()("dogecoin", REGTEST)
    assert err.value.field == "chain"
