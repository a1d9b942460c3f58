"""A checksum failure says so and to copy the address again: it never offers a "corrected"
address, which would be the checksum of the typo (pasting it would pay the mistake)."""

from __future__ import annotations

import pytest

from kinko.chains.bitcoin.address import script_pubkey
from kinko.chains.bitcoin.networks import network
from kinko.chains.ethereum.address import normalize_address, to_checksum
from kinko.core.errors import InputError
from kinko.screening.addresses import normalise_address

GOOD = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55 test vector
# One hex digit mistyped (6 -> 7), the letter case copied from the good address.
TYPO = GOOD.replace("6053", "7053")


def test_the_typo_is_a_checksum_failure_whose_corrected_form_looks_valid() -> None:
    # What an error offering "expected ..." would have offered: a valid-looking address
    # that is not the one the customer meant.
    offered = to_checksum(bytes.fromhex(TYPO[2:]))
    assert offered != GOOD and normalize_address(offered) == offered


@pytest.mark.parametrize(
    "check",
    [
        lambda text: normalize_address(text),
        lambda text: normalise_address("ethereum", text),
    ],
    ids=["chains", "screening"],
)
def test_eip55_failure_never_offers_an_address(check: object) -> None:
    assert callable(check)
    with pytest.raises(InputError) as err:
        check(TYPO)
    message = err.value.message
    assert "fails its EIP-55 checksum" in message
    assert "Copy the address again from its source" in message
    offered = to_checksum(bytes.fromhex(TYPO[2:]))
    for form in (offered, offered.lower(), GOOD, GOOD.lower()):
        assert form not in message
    assert message.count("0x") == 1  # only what was typed


@pytest.mark.parametrize(
    "typo",
    [
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # bech32, last character changed
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",  # base58check, last character changed
    ],
)
def test_bitcoin_checksum_failure_says_to_copy_again(typo: str) -> None:
    with pytest.raises(InputError) as err:
        script_pubkey(typo, network("mainnet"))
    assert "checksum does not match" in err.value.message
    assert "copy the address again from its source" in err.value.message
    assert "bc1" not in err.value.message.replace(typo, "")
