"""Decoding Ethereum payloads: transfers, approvals and the dangerous calls policy denies."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode
from eth_account import Account

from kinko.chains.base import CallKind
from kinko.chains.ethereum import EthereumAdapter, Fees, Transfer
from kinko.chains.ethereum import tx as txmod
from kinko.chains.ethereum.calldata import EXEC_TRANSACTION, classify, selector
from kinko.core.errors import InputError

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
SOURCE = Account.from_key(KEY).address
DEST = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
SAFE = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
TOKEN = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"
FEES = Fees(max_fee_per_gas=30 * 10**9, max_priority_fee_per_gas=2 * 10**9, gas_limit=90_000)
ADAPTER = EthereumAdapter("mainnet", tokens={TOKEN: "USDC"})


def _call(signature: str, types: list[str], args: list[object]) -> bytes:
    return selector(signature) + encode(types, args)


def _payload(to: str, data: bytes, value: int = 0) -> bytes:
    return txmod.Eip1559Tx(
        chain_id=1,
        nonce=0,
        max_priority_fee_per_gas=1,
        max_fee_per_gas=2,
        gas_limit=90_000,
        to=bytes.fromhex(to[2:]),
        value=value,
        data=data,
    ).unsigned_payload()


def _exec(inner_to: str, inner_data: bytes, operation: int) -> bytes:
    return _call(
        EXEC_TRANSACTION,
        [
            "address",
            "uint256",
            "bytes",
            "uint8",
            "uint256",
            "uint256",
            "uint256",
            "address",
            "address",
            "bytes",
        ],
        [inner_to, 0, inner_data, operation, 0, 0, 0, "0x" + "00" * 20, "0x" + "00" * 20, b""],
    )


def test_known_selectors_match_their_published_values() -> None:
    assert selector("transfer(address,uint256)").hex() == "a9059cbb"
    assert selector("approve(address,uint256)").hex() == "095ea7b3"
    assert selector(EXEC_TRANSACTION).hex() == "6a761202"
    assert selector("upgradeTo(address)").hex() == "3659cfe6"


def test_native_and_token_transfers_decode_to_what_was_built() -> None:
    native = ADAPTER.decode(ADAPTER.build(Transfer(SOURCE, DEST, 5 * 10**17, 7, FEES)))
    assert (native.call_kind, native.asset, native.destination, native.amount) == (
        CallKind.NATIVE_TRANSFER,
        "ETH",
        DEST,
        5 * 10**17,
    )
    assert native.fee == 90_000 * 30 * 10**9
    token = ADAPTER.decode(ADAPTER.build(Transfer(SOURCE, DEST, 2_500_000, 8, FEES, token=TOKEN)))
    assert (token.call_kind, token.asset, token.destination, token.amount) == (
        CallKind.TOKEN_TRANSFER,
        "USDC",
        DEST,
        2_500_000,
    )
    assert token.details["to"] == TOKEN and token.details["value"] == "0"


def test_unknown_token_contract_is_named_by_address() -> None:
    adapter = EthereumAdapter("mainnet")
    intent = adapter.decode(adapter.build(Transfer(SOURCE, DEST, 1, 0, FEES, token=TOKEN)))
    assert intent.asset == f"erc20:{TOKEN}"


def test_signed_payload_decodes_with_its_recovered_sender_and_same_digest() -> None:
    payload = ADAPTER.build(Transfer(SOURCE, DEST, 1, 0, FEES))
    signed = ADAPTER.sign(payload, KEY)
    assert ADAPTER.decode(signed).source == SOURCE
    assert ADAPTER.decode(payload).source == ""
    assert ADAPTER.signing_digest(signed) == ADAPTER.signing_digest(payload)
    with pytest.raises(InputError, match="already signed"):
        ADAPTER.sign(signed, KEY)


@pytest.mark.parametrize(
    ("signature", "types", "args", "spender"),
    [
        ("approve(address,uint256)", ["address", "uint256"], [DEST, 2**256 - 1], DEST),
        ("setApprovalForAll(address,bool)", ["address", "bool"], [DEST, True], DEST),
        (
            "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
            ["address", "address", "uint256", "uint256", "uint8", "bytes32", "bytes32"],
            [SAFE, DEST, 10, 0, 27, b"\x01" * 32, b"\x02" * 32],
            DEST,
        ),
    ],
)
def test_approvals_are_classified_with_the_spender(
    signature: str, types: list[str], args: list[object], spender: str
) -> None:
    intent = ADAPTER.decode(_payload(TOKEN, _call(signature, types, args)))
    assert intent.call_kind is CallKind.TOKEN_APPROVAL
    assert intent.destination == spender


@pytest.mark.parametrize(
    ("signature", "types", "args"),
    [
        ("upgradeTo(address)", ["address"], [DEST]),
        ("upgradeToAndCall(address,bytes)", ["address", "bytes"], [DEST, b"\x00"]),
        ("changeMasterCopy(address)", ["address"], [DEST]),
        ("addOwnerWithThreshold(address,uint256)", ["address", "uint256"], [DEST, 1]),
        ("changeThreshold(uint256)", ["uint256"], [1]),
        ("enableModule(address)", ["address"], [DEST]),
        ("setGuard(address)", ["address"], [DEST]),
        ("transferOwnership(address)", ["address"], [DEST]),  # Radiant 2024
        ("renounceOwnership()", [], []),
        ("grantRole(bytes32,address)", ["bytes32", "address"], [bytes(32), DEST]),
        (
            "upgradeAndCall(address,address,bytes)",
            ["address", "address", "bytes"],
            [SAFE, DEST, b""],
        ),
    ],
)
def test_control_changes_are_dangerous_directly_and_inside_a_safe(
    signature: str, types: list[str], args: list[object]
) -> None:
    data = _call(signature, types, args)
    direct = ADAPTER.decode(_payload(SAFE, data))
    assert direct.call_kind is CallKind.DANGEROUS
    assert signature.split("(", maxsplit=1)[0] in direct.details["call"]["reasons"][0]
    nested = ADAPTER.decode(_payload(SAFE, _exec(SAFE, data, operation=0)))
    assert nested.call_kind is CallKind.DANGEROUS
    assert nested.details["call"]["inner"]["function"] == signature


def test_a_safe_delegatecall_is_dangerous_even_when_the_inner_call_looks_like_a_transfer() -> None:
    """The Bybit pattern: execTransaction(operation=1) shown as an innocent token transfer."""
    transfer = _call("transfer(address,uint256)", ["address", "uint256"], [DEST, 1])
    call = _exec(TOKEN, transfer, operation=0)
    benign = ADAPTER.decode(_payload(SAFE, call))
    assert benign.call_kind is CallKind.TOKEN_TRANSFER
    assert (benign.asset, benign.destination, benign.amount) == ("USDC", DEST, 1)
    evil = ADAPTER.decode(_payload(SAFE, _exec(TOKEN, transfer, operation=1)))
    assert evil.call_kind is CallKind.DANGEROUS
    assert "delegatecall" in evil.details["call"]["reasons"][0]


def test_nesting_beyond_the_limit_is_dangerous() -> None:
    data = _call("transfer(address,uint256)", ["address", "uint256"], [DEST, 1])
    for _ in range(6):
        data = _exec(SAFE, data, operation=0)
    assert classify(SAFE, 0, data).kind is CallKind.DANGEROUS


def test_known_selector_with_garbage_arguments_is_dangerous() -> None:
    info = classify(TOKEN, 0, selector("transfer(address,uint256)") + b"\x01\x02")
    assert info.kind is CallKind.DANGEROUS


def test_unknown_selector_is_a_contract_call() -> None:
    intent = ADAPTER.decode(_payload(TOKEN, bytes.fromhex("deadbeef") + bytes(32)))
    assert intent.call_kind is CallKind.CONTRACT_CALL
    assert intent.details["call"]["args"]["selector"] == "0xdeadbeef"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "empty"),
        (b"\x01\xc0", "type 0x01 is not supported"),
        (b"\x02\xc3\x01\x02\x03", "9 \\(unsigned\\) or 12"),
        (b"\x02\xc1", "ends early"),
        (b"\x02\xc0\x00", "trailing bytes"),
        (b"\x02" + bytes([0xC9]) + b"\x81\x01" + b"\x80" * 8, "non-canonical"),
    ],
)
def test_unparsable_payloads_are_refused_with_the_reason(payload: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ADAPTER.decode(payload)


def test_build_refuses_bad_amounts_and_addresses() -> None:
    with pytest.raises(InputError, match="greater than zero"):
        ADAPTER.build(Transfer(SOURCE, DEST, 0, 0, FEES))
    with pytest.raises(InputError, match="destination"):
        ADAPTER.build(Transfer(SOURCE, DEST.lower()[:-1] + "X", 1, 0, FEES))
    with pytest.raises(InputError, match="max_priority_fee_per_gas"):
        ADAPTER.build(Transfer(SOURCE, DEST, 1, 0, Fees(1, 2, 21_000)))


def test_two_rfc6979_signatures_never_share_r() -> None:
    seen: set[int] = set()
    for nonce in range(40):
        signed = ADAPTER.sign(ADAPTER.build(Transfer(SOURCE, DEST, 1, nonce, FEES)), KEY)
        (sig,) = ADAPTER.signatures(signed)
        assert sig.r not in seen
        seen.add(sig.r)
    again = ADAPTER.sign(ADAPTER.build(Transfer(SOURCE, DEST, 1, 0, FEES)), KEY)
    assert ADAPTER.signatures(again)[0].r in seen  # same message, same key: same signature
