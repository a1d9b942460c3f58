"""A minimal ERC-20 token, hand-assembled EVM bytecode (no compiler needed).

Where the bytecode comes from: the assembly listing below, assembled at import time by
`kinko.replays.contracts.asm.assemble` (the assembler the replays' contracts use).
`MinimalToken.sol` beside this file is the same behaviour written in Solidity for the
reader; it is documentation, not the source of these bytes.

Behaviour: the deployer receives the whole supply; `balanceOf(address)`, `decimals()`
(returns 6) and `transfer(address,uint256)` (reverts on insufficient balance, emits
`Transfer(from, to, value)`, returns true). Balances live at storage slot = address.
"""

from __future__ import annotations

from eth_utils.crypto import keccak

from kinko.chains.ethereum.calldata import selector
from kinko.replays.contracts.asm import Item, assemble

TRANSFER_TOPIC = bytes(keccak(b"Transfer(address,address,uint256)"))
ADDRESS_MASK = b"\xff" * 20


RUNTIME: list[Item] = [
    ("PUSH", b"\x00"),
    "CALLDATALOAD",
    ("PUSH", b"\xe0"),
    "SHR",
    "DUP1",
    ("PUSH", selector("transfer(address,uint256)")),
    "EQ",
    ("LABEL", "transfer"),
    "JUMPI",
    "DUP1",
    ("PUSH", selector("balanceOf(address)")),
    "EQ",
    ("LABEL", "balanceOf"),
    "JUMPI",
    "DUP1",
    ("PUSH", selector("decimals()")),
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
