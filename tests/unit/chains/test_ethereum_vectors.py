"""EIP-55 and EIP-1559 against the published vectors in tests/vectors/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kinko.chains import rlp
from kinko.chains.ethereum import tx as txmod
from kinko.chains.ethereum.address import normalize_address
from kinko.core.errors import InputError

VECTORS = Path(__file__).parents[2] / "vectors"
EIP55 = json.loads((VECTORS / "eip55_addresses.json").read_text())
EIP1559 = json.loads((VECTORS / "eip1559_ethereumjs.json").read_text())["vectors"]


@pytest.mark.parametrize("address", EIP55["valid"])
def test_eip55_vectors_round_trip_from_any_single_case(address: str) -> None:
    assert normalize_address(address) == address
    assert normalize_address("0x" + address[2:].lower()) == address
    assert normalize_address("0x" + address[2:].upper()) == address


@pytest.mark.parametrize("address", EIP55["valid"])
def test_eip55_one_flipped_letter_is_refused(address: str) -> None:
    i = next(i for i, ch in enumerate(address) if i > 1 and ch.isalpha())
    flipped = address[:i] + address[i].swapcase() + address[i + 1 :]
    with pytest.raises(InputError, match="fails its EIP-55 checksum") as err:
        normalize_address(flipped)
    assert err.value.code == "bad_checksum"
    assert "Copy the address again from its source" in err.value.message
    # No "did you mean": the checksummed form of what was typed is never offered.
    assert address not in err.value.message and address.lower() not in err.value.message


@pytest.mark.parametrize(
    "text",
    ["", "0x", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aAeb6053F3E94C9b9A09f3366", "0xZZ"],
)
def test_malformed_addresses_are_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InputError, match="not an Ethereum address") as err:
        normalize_address(text, field="destination")
    assert err.value.field == "destination"


def _payload(vector: dict[str, Any]) -> bytes:
    wrapped = bytes.fromhex(vector["signedTransactionRLP"][2:])
    inner = rlp.decode(wrapped)
    assert isinstance(inner, bytes)
    return inner


@pytest.mark.parametrize("vector", EIP1559, ids=lambda v: str(v["nonce"]))
def test_eip1559_vectors_parse_to_their_fields(vector: dict[str, Any]) -> None:
    tx = txmod.parse(_payload(vector))
    assert (tx.chain_id, tx.nonce, tx.value, tx.gas_limit) == (
        7822,
        vector["nonce"],
        vector["value"],
        vector["gasLimit"],
    )
    assert tx.max_priority_fee_per_gas == vector["maxInclusionFeePerGas"]
    assert tx.max_fee_per_gas == vector["maxFeePerGas"]
    assert tx.to == bytes.fromhex(vector["to"][2:])
    assert tx.raw() == _payload(vector)


@pytest.mark.parametrize("vector", EIP1559, ids=lambda v: str(v["nonce"]))
def test_eip1559_vectors_are_reproduced_by_signing_the_unsigned_fields(
    vector: dict[str, Any],
) -> None:
    """RFC 6979 signing is deterministic, so our bytes must equal the published ones."""
    unsigned = txmod.Eip1559Tx(
        chain_id=7822,
        nonce=vector["nonce"],
        max_priority_fee_per_gas=vector["maxInclusionFeePerGas"],
        max_fee_per_gas=vector["maxFeePerGas"],
        gas_limit=vector["gasLimit"],
        to=bytes.fromhex(vector["to"][2:]),
        value=vector["value"],
    )
    signed = txmod.sign(unsigned, bytes.fromhex(vector["privateKey"][2:]))
    assert signed.raw() == _payload(vector)
    assert txmod.parse(signed.raw()).sender() == signed.sender()
