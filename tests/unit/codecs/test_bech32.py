"""Kinko's Bech32/Bech32m and segwit addresses against the BIP-350 reference (differential).

The reference is Pieter Wuille's `segwit_addr.py` as embit ships it (`embit.bech32`, with
Bech32m; the `bech32` package on PyPI predates BIP-350). On every string, valid or not,
Kinko accepts exactly what the reference accepts and decodes it to the same values; where
the reference answers only None, Kinko raises an InputError naming the rule. Address
routing (`kinko.chains.bitcoin.address`) is checked against embit's `Script.address`.
"""

from __future__ import annotations

from typing import Any

from embit import bech32 as ref
from embit.networks import NETWORKS as EMBIT_NETWORKS
from embit.script import Script
from hypothesis import given, settings
from hypothesis import strategies as st

from kinko.chains.bitcoin import bech32
from kinko.chains.bitcoin.address import address_of, script_pubkey
from kinko.chains.bitcoin.networks import NETWORKS
from kinko.core.errors import InputError

HRPS = ("bc", "tb", "bcrt")
TO_REF = {
    bech32.Encoding.BECH32: ref.Encoding.BECH32,
    bech32.Encoding.BECH32M: ref.Encoding.BECH32M,
}

programs = st.one_of(
    st.tuples(
        st.just(0), st.sampled_from([20, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n))
    ),
    st.tuples(st.integers(1, 16), st.binary(min_size=2, max_size=40)),
)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.sampled_from(HRPS), programs)
def test_valid_segwit_addresses_match_the_reference(hrp: str, program: tuple[int, bytes]) -> None:
    version, data = program
    address = bech32.encode_segwit(hrp, version, data)
    assert address == ref.encode(hrp, version, data)
    for spelling in (address, address.upper()):
        assert bech32.decode_segwit(hrp, spelling) == (version, data)
        assert ref.decode(hrp, spelling) == (version, list(data))


def _checksummed(draw: Any, hrp: str) -> str:
    """A string with a valid Bech32 or Bech32m checksum, often a near-valid segwit address."""
    ours = st.sampled_from([hrp] * 6 + list(HRPS))
    anything = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=6)
    hrp = draw(st.one_of(ours, ours, ours, ours, anything))
    if draw(st.integers(0, 3)) == 0:
        data = draw(st.lists(st.integers(0, 31), max_size=70))
        encoding = draw(st.sampled_from([ref.Encoding.BECH32, ref.Encoding.BECH32M]))
    else:  # segwit-shaped: any version, any program length, sometimes a stray group
        version = draw(st.sampled_from([0, 0, 0, 1, 1, 2, 16, 17, 31]))
        size = draw(st.sampled_from([20, 32, 20, 32, 2, 40, 0, 1, 19, 21, 33, 41]))
        program = draw(st.binary(min_size=size, max_size=size))
        data = [
            version,
            *ref.convertbits(list(program), 8, 5),
            *draw(st.sampled_from([[]] * 5 + [[0], [1], [16]])),
        ]
        right = ref.Encoding.BECH32 if version == 0 else ref.Encoding.BECH32M
        encoding = draw(
            st.sampled_from([right, right, right, ref.Encoding.BECH32, ref.Encoding.BECH32M])
        )
    return str(ref.bech32_encode(encoding, hrp.lower(), data))


@st.composite
def candidates(draw: Any, hrp: str = "bc") -> str:
    """Checksum-valid strings (breaking only segwit rules), then typical corruptions."""
    text = _checksummed(draw, hrp)
    if not text:
        return text
    at = draw(st.integers(0, len(text) - 1))
    change = draw(
        st.sampled_from(
            ["none"] * 12 + ["upper", "swapcase-one", "substitute", "delete", "insert", "truncate"]
        )
    )
    if change == "upper":
        return text.upper()
    if change == "swapcase-one":
        return text[:at] + text[at].swapcase() + text[at + 1 :]
    if change == "substitute":
        return text[:at] + draw(st.sampled_from(bech32.CHARSET + "1bio ")) + text[at + 1 :]
    if change == "delete":
        return text[:at] + text[at + 1 :]
    if change == "insert":
        return text[:at] + draw(st.sampled_from(bech32.CHARSET)) + text[at:]
    if change == "truncate":
        return text[:at]
    return text


def _ours(hrp: str, text: str) -> tuple[int, list[int]] | None:
    try:
        version, program = bech32.decode_segwit(hrp, text)
    except InputError:
        return None
    return version, list(program)


def _reference(hrp: str, text: str) -> tuple[int, list[int]] | None:
    version, program = ref.decode(hrp, text)
    return None if version is None else (version, program)


@st.composite
def hrp_and_candidate(draw: Any) -> tuple[str, str]:
    hrp = draw(st.sampled_from(HRPS))
    return hrp, draw(candidates(hrp))


@settings(max_examples=500, derandomize=True, deadline=None)
@given(hrp_and_candidate())
def test_segwit_decode_accepts_exactly_what_the_reference_accepts(
    case: tuple[str, str],
) -> None:
    hrp, text = case
    assert _ours(hrp, text) == _reference(hrp, text)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(candidates() | st.text(max_size=95))
def test_bech32_strings_decode_like_the_reference(text: str) -> None:
    encoding, hrp, data = ref.bech32_decode(text)
    try:
        ours = bech32.decode(text)
    except InputError:
        assert encoding is None
        return
    assert (ours[0], ours[1], TO_REF[ours[2]]) == (hrp, data, encoding)


scripts = st.one_of(
    st.binary(min_size=20, max_size=20).map(lambda h: b"\x76\xa9\x14" + h + b"\x88\xac"),
    st.binary(min_size=20, max_size=20).map(lambda h: b"\xa9\x14" + h + b"\x87"),
    st.binary(min_size=20, max_size=20).map(lambda h: b"\x00\x14" + h),
    st.binary(min_size=32, max_size=32).map(lambda h: b"\x00\x20" + h),
    st.binary(min_size=32, max_size=32).map(lambda h: b"\x51\x20" + h),
)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.sampled_from(sorted(NETWORKS)), scripts)
def test_addresses_of_standard_scripts_match_embit(name: str, script: bytes) -> None:
    net = NETWORKS[name]
    address = address_of(script, net)
    assert address == Script(script).address(EMBIT_NETWORKS[net.embit])
    assert address is not None
    assert script_pubkey(address, net) == script
