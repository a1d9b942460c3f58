"""Red flags on the withdrawal page, from the transaction's own bytes (the signer's
classifier): delegatecall, upgrades, owner/threshold and module changes, approvals,
undecodable calls — and none for a plain transfer."""

from __future__ import annotations

from typing import Any

from kinko.chains.ethereum.calldata import selector
from kinko.web.red_flags import red_flags
from tests.unit.chains.test_ethereum_decode import _call, _exec

TOKEN = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
SAFE = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
OTHER = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"
ZERO = "0x" + "00" * 20


# The calldata the signer's own decoding tests build (a call; a Safe execTransaction).
call, exec_tx = _call, _exec


def intent(to: str, data: bytes, value: int = 0, chain: str = "ethereum") -> dict[str, Any]:
    return {"chain": chain, "details": {"to": to, "value": str(value), "data": "0x" + data.hex()}}


def codes(i: dict[str, Any]) -> list[str]:
    return [f.code for f in red_flags(i)]


def test_plain_transfers_raise_no_flag() -> None:
    assert codes(intent(OTHER, b"", value=10**18)) == []
    transfer = call("transfer(address,uint256)", ["address", "uint256"], [OTHER, 5])
    assert codes(intent(TOKEN, transfer)) == []
    assert red_flags(None) == [] and red_flags({"chain": "bitcoin", "details": {}}) == []


def test_approvals_are_flagged_with_the_spender() -> None:
    approve = call("approve(address,uint256)", ["address", "uint256"], [OTHER, 2**256 - 1])
    (flag,) = red_flags(intent(TOKEN, approve))
    assert (flag.code, flag.target.lower()) == ("approval", OTHER.lower())
    for_all = call("setApprovalForAll(address,bool)", ["address", "bool"], [OTHER, True])
    assert codes(intent(TOKEN, for_all)) == ["approval_for_all"]


def test_control_changes_are_flagged_by_kind() -> None:
    assert codes(intent(SAFE, call("upgradeTo(address)", ["address"], [OTHER]))) == ["upgrade"]
    threshold = call("changeThreshold(uint256)", ["uint256"], [1])
    assert codes(intent(SAFE, threshold)) == ["owners"]
    swap = call("swapOwner(address,address,address)", ["address"] * 3, [ZERO, OTHER, TOKEN])
    assert codes(intent(SAFE, swap)) == ["owners"]
    assert codes(intent(SAFE, call("setGuard(address)", ["address"], [OTHER]))) == ["modules"]


def test_a_safe_transaction_is_opened_and_a_delegatecall_flagged() -> None:
    inner = call("changeThreshold(uint256)", ["uint256"], [1])
    assert codes(intent(SAFE, exec_tx(SAFE, inner, 0))) == ["owners"]
    # Bybit: a Safe transaction whose operation is a delegatecall into another contract.
    transfer = call("transfer(address,uint256)", ["address", "uint256"], [OTHER, 1])
    flags = red_flags(intent(SAFE, exec_tx(OTHER, transfer, 1)))
    assert [f.code for f in flags] == ["delegatecall"]
    assert "delegatecall" in flags[0].facts[0]


def test_calls_kinko_cannot_read_are_flagged() -> None:
    assert codes(intent(TOKEN, bytes.fromhex("deadbeef") + b"\x00" * 32)) == ["unknown_call"]
    broken = selector("approve(address,uint256)") + b"\x01\x02"
    assert codes(intent(TOKEN, broken)) == ["dangerous"]
    assert codes({"chain": "ethereum", "details": {"to": TOKEN, "data": "0xzz"}}) == ["undecodable"]
