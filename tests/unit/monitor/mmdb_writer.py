"""A minimal MaxMind DB writer for tests (IPv4 tree, 24-bit records).

Follows the "MaxMind DB File Format Specification" version 2.0
(https://maxmind.github.io/MaxMind-DB/): binary search tree, 16-byte zero separator,
data section, then ``\\xab\\xcd\\xefMaxMind.com`` and the metadata map.
"""

from __future__ import annotations

import ipaddress
import struct
from pathlib import Path
from typing import Any

METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"


def _ctrl(type_: int, size: int) -> bytes:
    assert size < 29
    if type_ <= 7:
        return bytes([(type_ << 5) | size])
    return bytes([size, type_ - 7])  # extended type: type 0 in the first byte


def _uint(type_: int, value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    return _ctrl(type_, len(raw)) + raw


def encode(value: Any) -> bytes:
    """Data section encoding (spec: "Output Data Section")."""
    if isinstance(value, str):
        raw = value.encode()
        return _ctrl(2, len(raw)) + raw
    if isinstance(value, float):
        return _ctrl(3, 8) + struct.pack(">d", value)
    if isinstance(value, dict):
        out = _ctrl(7, len(value))
        for k, v in value.items():
            out += encode(k) + encode(v)
        return out
    if isinstance(value, list):
        return _ctrl(11, len(value)) + b"".join(encode(v) for v in value)
    if isinstance(value, tuple):  # ("uint16"|"uint32"|"uint64", n)
        kind, number = value
        return _uint({"uint16": 5, "uint32": 6, "uint64": 9}[kind], number)
    raise TypeError(type(value))


def write_mmdb(path: Path, networks: dict[str, dict[str, Any]]) -> None:
    # Trie over the 32 address bits; a leaf holds the data record's offset.
    nodes: list[list[Any]] = [[None, None]]
    data = b""
    for cidr, record in networks.items():
        net = ipaddress.IPv4Network(cidr)
        offset = len(data)
        data += encode(record)
        bits = int(net.network_address)
        node = 0
        for depth in range(net.prefixlen):
            bit = (bits >> (31 - depth)) & 1
            if depth == net.prefixlen - 1:
                nodes[node][bit] = ("data", offset)
            else:
                if not isinstance(nodes[node][bit], int):
                    nodes.append([None, None])
                    nodes[node][bit] = len(nodes) - 1
                node = nodes[node][bit]
    count = len(nodes)

    def record_value(item: Any) -> int:
        if item is None:
            return count  # "no data"
        if isinstance(item, int):
            return item
        return count + 16 + item[1]  # pointer into the data section

    tree = b"".join(
        record_value(left).to_bytes(3, "big") + record_value(right).to_bytes(3, "big")
        for left, right in nodes
    )
    metadata = encode(
        {
            "node_count": ("uint32", count),
            "record_size": ("uint16", 24),
            "ip_version": ("uint16", 4),
            "database_type": "Kinko-Test-City",
            "languages": ["en"],
            "binary_format_major_version": ("uint16", 2),
            "binary_format_minor_version": ("uint16", 0),
            "build_epoch": ("uint64", 1_790_000_000),
            "description": {"en": "test"},
        }
    )
    path.write_bytes(tree + b"\x00" * 16 + data + METADATA_MARKER + metadata)
