"""Round-trip properties of the strict encoders (RLP, Bech32/Bech32m segwit addresses)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kinko.chains import rlp
from kinko.chains.bitcoin import bech32

items = st.recursive(
    st.binary(max_size=80), lambda children: st.lists(children, max_size=5), max_leaves=20
)


@given(items)
def test_rlp_decode_inverts_encode(item: rlp.Item) -> None:
    assert rlp.decode(rlp.encode(item)) == item


@given(st.integers(min_value=0, max_value=2**256 - 1))
def test_rlp_integers_round_trip_canonically(value: int) -> None:
    raw = rlp.decode(rlp.encode(rlp.encode_int(value)))
    assert rlp.decode_int(raw, "x") == value


@given(
    st.sampled_from(["bc", "tb", "bcrt"]),
    st.one_of(
        st.tuples(
            st.just(0),
            st.sampled_from([20, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
        ),
        st.tuples(st.integers(1, 16), st.binary(min_size=2, max_size=40)),
    ),
)
def test_segwit_addresses_round_trip(hrp: str, version_program: tuple[int, bytes]) -> None:
    version, program = version_program
    address = bech32.encode_segwit(hrp, version, program)
    assert bech32.decode_segwit(hrp, address) == (version, program)
    assert bech32.decode_segwit(hrp, address.upper()) == (version, program)
