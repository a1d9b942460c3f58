"""Properties of address keys: every spelling of one address gives one key, and a
corrupted address never validates silently as another."""

from __future__ import annotations

from embit import base58, bech32
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from kinko.core.errors import InputError
from kinko.screening.addresses import normalise_address

payloads = st.binary(min_size=20, max_size=20)


@settings(max_examples=60, deadline=None)
@given(payloads)
def test_evm_spellings_share_one_key(raw: bytes) -> None:
    lower = "0x" + raw.hex()
    keys = {
        normalise_address("ethereum", spelling).key
        for spelling in (lower, "0x" + raw.hex().upper(), to_checksum_address(lower))
    }
    assert keys == {"evm:" + lower}


@settings(max_examples=60, deadline=None)
@given(payloads)
def test_segwit_case_does_not_matter(raw: bytes) -> None:
    address = bech32.encode("bc", 0, raw)
    assert normalise_address("bitcoin", address.upper()).key == "btc:" + address


@settings(max_examples=60, deadline=None)
@given(payloads, st.integers(min_value=1, max_value=30))
def test_base58_single_character_change_is_refused_or_different(raw: bytes, at: int) -> None:
    address = base58.encode_check(b"\x41" + raw)
    key = normalise_address("tron", address).key
    position = at % len(address)
    replacement = "2" if address[position] != "2" else "3"
    mutated = address[:position] + replacement + address[position + 1 :]
    try:
        other = normalise_address("tron", mutated).key
    except InputError:
        return
    assert other != key  # a 4-byte checksum collision would still be another address
