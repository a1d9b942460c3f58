"""A minimal ERC-20 token, hand-assembled EVM bytecode (no compiler needed).

Where the bytecode comes from: the assembly listing below, assembled by `assemble()` at
import time. `MinimalToken.sol` beside this file is the same behaviour written in
Solidity for the reader; it is documentation, not the source of these bytes.

Behaviour: the deployer receives the whole supply; `balanceOf(address)`, `decimals()`
(returns 6) and `transfer(address,uint256)` (reverts on insufficient balance, emits
`Transfer(from, to, value)`, returns true). Balances live at storage slot = address.
"""

from __future__ import annotations

from eth_utils.crypto import keccak

OP = {
    "STOP": 0x00,
    "ADD": 0x01,
    "SUB": 0x03,
    "LT": 0x10,
    "EQ": 0x14,
    "AND": 0x16,
    "SHR": 0x1C,
    "CALLER": 0x33,
    "CALLDATALOAD": 0x35,
    "CODECOPY": 0x39,
    "MSTORE": 0x52,
    "SLOAD": 0x54,
    "SSTORE": 0x55,
    "JUMPI": 0x57,
    "JUMPDEST": 0x5B,
    "DUP1": 0x80,
    "DUP2": 0x81,
    "DUP3": 0x82,
    "SWAP1": 0x90,
    "LOG3": 0xA3,
    "RETURN": 0xF3,
    "REVERT": 0xFD,
}
TRANSFER_TOPIC = bytes(keccak(b"Transfer(address,address,uint256)"))
ADDRESS_MASK = b"\xff" * 20


def _sel(signature: str) -> bytes:
    return bytes(keccak(signature.encode()))[:4]


RUNTIME = [
    ("PUSH", b"\x00"),
    "CALLDATALOAD",
    ("PUSH", b"\xe0"),
    "SHR",
    "DUP1",
    ("PUSH", _sel("transfer(address,uint256)")),
    "EQ",
    ("LABEL", "transfer"),
    "JUMPI",
    "DUP1",
    ("PUSH", _sel("balanceOf(address)")),
    "EQ",
    ("LABEL", "balanceOf"),
    "JUMPI",
    "DUP1",
    ("PUSH", _sel("decimals()")),
    "EQ",
    ("LABEL", "decimals"),
    "JUMPI",
    ("DEF", "fail"),
    "JUMPDEST",
    ("PUSH", b"\x00"),
    "DUP1",
    "REVERT",
    ("DEF", "balanceOf"),
    "JUMPDEST",
    ("PUSH", b"\x04"),
    "CALLDATALOAD",
    "SLOAD",
    ("PUSH", b"\x00"),
    "MSTORE",
    ("PUSH", b"\x20"),
    ("PUSH", b"\x00"),
    "RETURN",
    ("DEF", "decimals"),
    "JUMPDEST",
    ("PUSH", b"\x06"),
    ("PUSH", b"\x00"),
    "MSTORE",
    ("PUSH", b"\x20"),
    ("PUSH", b"\x00"),
    "RETURN",
    ("DEF", "transfer"),
    "JUMPDEST",
    # stack: [bal(sender), amount]; revert when bal < amount
    "CALLER",
    "SLOAD",
    ("PUSH", b"\x24"),
    "CALLDATALOAD",
    "DUP1",
    "DUP3",
    "LT",
    ("LABEL", "fail"),
    "JUMPI",
    # balance[sender] = bal - amount
    "SWAP1",
    "DUP2",
    "SWAP1",
    "SUB",
    "CALLER",
    "SSTORE",
    # balance[to] += amount
    ("PUSH", b"\x04"),
    "CALLDATALOAD",
    ("PUSH", ADDRESS_MASK),
    "AND",
    "DUP1",
    "SLOAD",
    "DUP3",
    "ADD",
    "SWAP1",
    "SSTORE",
    # emit Transfer(caller, to, amount)
    ("PUSH", b"\x00"),
    "MSTORE",
    ("PUSH", b"\x04"),
    "CALLDATALOAD",
    ("PUSH", ADDRESS_MASK),
    "AND",
    "CALLER",
    ("PUSH", TRANSFER_TOPIC),
    ("PUSH", b"\x20"),
    ("PUSH", b"\x00"),
    "LOG3",
    ("PUSH", b"\x01"),
    ("PUSH", b"\x00"),
    "MSTORE",
    ("PUSH", b"\x20"),
    ("PUSH", b"\x00"),
    "RETURN",
]


def assemble(listing: list[object]) -> bytes:
    """Two passes: label addresses (all PUSH2), then bytes."""

    def size(item: object) -> int:
        if isinstance(item, str):
            return 1
        kind, arg = item  # type: ignore[misc]
        if kind == "PUSH":
            return 1 + len(arg)
        return 3 if kind == "LABEL" else 0

    labels, pc = {}, 0
    for item in listing:
        if isinstance(item, tuple) and item[0] == "DEF":
            labels[item[1]] = pc
        pc += size(item)
    out = bytearray()
    for item in listing:
        if isinstance(item, str):
            out.append(OP[item])
        elif item[0] == "PUSH":
            out.append(0x5F + len(item[1]))
            out += item[1]
        elif item[0] == "LABEL":
            out.append(0x61)
            out += labels[item[1]].to_bytes(2, "big")
    return bytes(out)


def deploy_code(supply: int) -> bytes:
    runtime = assemble(RUNTIME)
    head_len = 1 + 32 + 1 + 1 + 3 + 3 + 2 + 1 + 3 + 2 + 1  # constructor bytes, fixed size
    constructor = assemble(
        [
            ("PUSH", supply.to_bytes(32, "big")),
            "CALLER",
            "SSTORE",
            ("PUSH", len(runtime).to_bytes(2, "big")),
            ("PUSH", head_len.to_bytes(2, "big")),
            ("PUSH", b"\x00"),
            "CODECOPY",
            ("PUSH", len(runtime).to_bytes(2, "big")),
            ("PUSH", b"\x00"),
            "RETURN",
        ]
    )
    assert len(constructor) == head_len, len(constructor)
    return constructor + runtime


ABI = [
    {
        "type": "function",
        "name": "transfer",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "to", "type": "address"}, {"name": "value", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "type": "function",
        "name": "balanceOf",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "function",
        "name": "decimals",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "uint8"}],
    },
    {
        "type": "event",
        "name": "Transfer",
        "anonymous": False,
        "inputs": [
            {"name": "from", "type": "address", "indexed": True},
            {"name": "to", "type": "address", "indexed": True},
            {"name": "value", "type": "uint256", "indexed": False},
        ],
    },
]
