"""A tiny EVM assembler (two passes, no compiler) and the constructor that deploys a
runtime with its storage set.

A listing is a list of items: an opcode name (``"SLOAD"``), an int (pushed with the
fewest bytes, ``PUSH1 0`` for 0), ``("PUSH", bytes)`` (pushed as given),
``("LABEL", name)`` (``PUSH2`` of the label's address) and ``("DEF", name)`` (marks the
next byte's address: put ``"JUMPDEST"`` right after it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kinko.chains.ethereum.calldata import selector

OP = {
    "STOP": 0x00,
    "ADD": 0x01,
    "MUL": 0x02,
    "SUB": 0x03,
    "LT": 0x10,
    "GT": 0x11,
    "EQ": 0x14,
    "ISZERO": 0x15,
    "AND": 0x16,
    "SHL": 0x1B,
    "SHR": 0x1C,
    "KECCAK256": 0x20,
    "ADDRESS": 0x30,
    "CALLER": 0x33,
    "CALLVALUE": 0x34,
    "CALLDATALOAD": 0x35,
    "CALLDATASIZE": 0x36,
    "CALLDATACOPY": 0x37,
    "CODECOPY": 0x39,
    "RETURNDATASIZE": 0x3D,
    "RETURNDATACOPY": 0x3E,
    "SELFBALANCE": 0x47,
    "POP": 0x50,
    "MLOAD": 0x51,
    "MSTORE": 0x52,
    "SLOAD": 0x54,
    "SSTORE": 0x55,
    "JUMP": 0x56,
    "JUMPI": 0x57,
    "GAS": 0x5A,
    "JUMPDEST": 0x5B,
    **{f"DUP{n}": 0x7F + n for n in range(1, 17)},
    **{f"SWAP{n}": 0x8F + n for n in range(1, 17)},
    "LOG1": 0xA1,
    "LOG3": 0xA3,
    "CALL": 0xF1,
    "RETURN": 0xF3,
    "DELEGATECALL": 0xF4,
    "STATICCALL": 0xFA,
    "REVERT": 0xFD,
}
ADDRESS_MASK = ("PUSH", b"\xff" * 20)

Item = str | int | tuple[str, object]


def address(text: str) -> tuple[str, object]:
    """``PUSH20`` of a 0x-prefixed address (one baked into the code, as `immutable`)."""
    raw = bytes.fromhex(text.removeprefix("0x"))
    if len(raw) != 20:
        raise ValueError(f"not an address: {text!r}")
    return ("PUSH", raw)


def _push_bytes(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def _size(item: Item) -> int:
    if isinstance(item, str):
        return 1
    if isinstance(item, int):
        return 1 + len(_push_bytes(item))
    kind, arg = item
    if kind == "PUSH":
        assert isinstance(arg, bytes) and 1 <= len(arg) <= 32, item
        return 1 + len(arg)
    return 3 if kind == "LABEL" else 0


def assemble(listing: Sequence[Item]) -> bytes:
    """Two passes: the labels' addresses (every label a ``PUSH2``), then the bytes."""
    labels: dict[object, int] = {}
    pc = 0
    for item in listing:
        if isinstance(item, tuple) and item[0] == "DEF":
            if item[1] in labels:
                raise ValueError(f"label {item[1]!r} defined twice")
            labels[item[1]] = pc
        pc += _size(item)
    out = bytearray()
    for item in listing:
        if isinstance(item, str):
            out.append(OP[item])
        elif isinstance(item, int):
            data = _push_bytes(item)
            out += bytes([0x5F + len(data)]) + data
        elif item[0] == "PUSH":
            raw = item[1]
            assert isinstance(raw, bytes)
            out += bytes([0x5F + len(raw)]) + raw
        elif item[0] == "LABEL":
            out += b"\x61" + labels[item[1]].to_bytes(2, "big")
    return bytes(out)


def deploy_code(runtime: bytes, storage: Mapping[int, int | str] | None = None) -> bytes:
    """Creation code: write `storage` (slot -> a number, or an address as text), then
    copy `runtime` out of the creation code and return it as the contract's code."""
    head: list[Item] = []
    for slot, value in (storage or {}).items():
        head += [address(value) if isinstance(value, str) else value, slot, "SSTORE"]

    def constructor(offset: int) -> bytes:
        tail: list[Item] = [
            ("PUSH", len(runtime).to_bytes(2, "big")),
            ("PUSH", offset.to_bytes(2, "big")),
            0,
            "CODECOPY",
            ("PUSH", len(runtime).to_bytes(2, "big")),
            0,
            "RETURN",
        ]
        return assemble([*head, *tail])

    size = len(constructor(0))  # fixed-width offsets: the size does not depend on them
    return constructor(size) + runtime


RETURN_WORD: list[Item] = [0, "MSTORE", 0x20, 0, "RETURN"]
"""Pops a word and returns it (a `uint256`, `bool` or `address` return value)."""
REQUIRE: list[Item] = ["ISZERO", ("LABEL", "fail"), "JUMPI"]
"""Pops a condition; jumps to the listing's ``fail`` label (a revert) when it is zero."""
FAIL: list[Item] = [("DEF", "fail"), "JUMPDEST", 0, 0, "REVERT"]


def dispatch(*names: tuple[str, str]) -> list[Item]:
    """Jump on the call's selector to the label of each (signature, label); a call
    matching none falls through to what follows (the selector left on the stack)."""
    out: list[Item] = [0, "CALLDATALOAD", 0xE0, "SHR"]
    for signature, label in names:
        out += ["DUP1", ("PUSH", selector(signature)), "EQ", ("LABEL", label), "JUMPI"]
    return out


def arg_address(index: int) -> list[Item]:
    """Pushes the call's `index`-th static argument as an address (masked to 20 bytes)."""
    return [4 + 32 * index, "CALLDATALOAD", ADDRESS_MASK, "AND"]


def mapping_slot(key: list[Item], slot: int) -> list[Item]:
    """Leaves Solidity's storage slot of ``mapping[key]`` for a mapping at `slot`
    (keccak256(key . slot)); `key` pushes the key. Uses memory 0..64."""
    return [*key, 0, "MSTORE", slot, 0x20, "MSTORE", 0x40, 0, "KECCAK256"]
