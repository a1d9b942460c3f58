"""C2SP tlog-tiles layout (c2sp.org/tlog-tiles): paths, entry bundles, reading and writing.

Standard library only. A tile at level L holds up to 256 consecutive Merkle Tree Hashes
of height 8·L; the n-th tile of level L covers leaves [n·256^(L+1), (n+1)·256^(L+1)).
Partial (rightmost) tiles have a ``.p/<W>`` suffix. Entry bundles are sequences of
big-endian uint16 length-prefixed entries, so no entry may exceed 65,535 bytes.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from kinko.audit import merkle
from kinko.core.errors import InputError, IntegrityError

TILE_WIDTH = 256
TILE_HEIGHT = 8
MAX_ENTRY_BYTES = 0xFFFF
"""The 16-bit length prefix of entry bundles caps an entry at 65,535 bytes."""


def encode_index(n: int) -> str:
    """tlog-tiles "Merkle Tree": 1234067 -> "x001/x234/067"."""
    if n < 0:
        raise ValueError("tile index must be non-negative")
    groups = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def tile_path(level: int | str, index: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]``; level "entries" gives an entry bundle path."""
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"tile width {width} is outside 1..256")
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{encode_index(index)}{suffix}"


def tile_widths(size: int, level: int) -> Iterator[tuple[int, int]]:
    """(index, width) of every tile at `level` for a tree of `size` leaves."""
    count = size // TILE_WIDTH**level
    for index in range(count // TILE_WIDTH):
        yield index, TILE_WIDTH
    if count % TILE_WIDTH:
        yield count // TILE_WIDTH, count % TILE_WIDTH


def tile_levels(size: int) -> int:
    """How many levels carry at least one tile for a tree of `size` leaves."""
    levels = 0
    while size // TILE_WIDTH**levels:
        levels += 1
    return levels


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY_BYTES:
            raise InputError("entry", f"{len(entry)} bytes; an entry bundle allows 65535")
        out += struct.pack(">H", len(entry))
        out += entry
    return bytes(out)


def decode_bundle(data: bytes, where: str) -> list[bytes]:
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise IntegrityError(f"{where}: truncated length prefix at byte {pos}")
        (length,) = struct.unpack_from(">H", data, pos)
        pos += 2
        if pos + length > len(data):
            raise IntegrityError(f"{where}: entry {len(entries)} runs past the end of the bundle")
        entries.append(data[pos : pos + length])
        pos += length
    return entries


def split_hashes(data: bytes, where: str) -> list[bytes]:
    if len(data) % merkle.HASH_SIZE:
        raise IntegrityError(f"{where}: {len(data)} bytes is not a whole number of hashes")
    size = merkle.HASH_SIZE
    return [data[i : i + size] for i in range(0, len(data), size)]


class TileReader:
    """Reads tiles and bundles from an exported directory, falling back to full tiles.

    The spec lets a log delete a partial tile once the full one exists; a reader then
    takes the first W hashes (or entries) of the full tile.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _read(self, level: int | str, index: int, width: int) -> tuple[bytes, str, bool]:
        path = tile_path(level, index, width)
        try:
            return (self.root / path).read_bytes(), path, False
        except FileNotFoundError:
            if width == TILE_WIDTH:
                raise IntegrityError(f"{path} is missing") from None
        full = tile_path(level, index)
        try:
            return (self.root / full).read_bytes(), full, True
        except FileNotFoundError:
            raise IntegrityError(f"{path} is missing (and so is {full})") from None

    def hashes(self, level: int, index: int, width: int) -> tuple[list[bytes], str]:
        data, path, fallback = self._read(level, index, width)
        hashes = split_hashes(data, path)
        if (fallback and len(hashes) != TILE_WIDTH) or (not fallback and len(hashes) != width):
            raise IntegrityError(f"{path}: holds {len(hashes)} hashes; expected {width}")
        return hashes[:width], path

    def entries(self, index: int, width: int) -> tuple[list[bytes], str]:
        data, path, fallback = self._read("entries", index, width)
        entries = decode_bundle(data, path)
        if (fallback and len(entries) != TILE_WIDTH) or (not fallback and len(entries) != width):
            raise IntegrityError(f"{path}: holds {len(entries)} entries; expected {width}")
        return entries[:width], path


class TileWriter:
    """Writes a tlog-tiles directory for one checkpoint from entries streamed in order."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.upper: list[list[bytes]] = []  # upper[L-1]: hashes of height 8L seen so far

    def _write(self, relative: str, data: bytes) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def write_tiles(self, size: int, chunks: Iterable[Sequence[bytes]]) -> bytes:
        """Write bundles and tiles for `size` entries given in chunks of 256; return the root.

        Call `write_checkpoint` afterwards (once the root is checked), so that a reader
        never sees a checkpoint before its tiles.
        """
        edge: list[bytes] = []
        created: list[tuple[int, int, bytes]] = []
        written = 0
        chunk_iter = iter(chunks)
        for index, width in tile_widths(size, 0):
            entries = list(next(chunk_iter, ()))
            if len(entries) != width:
                raise IntegrityError(f"entry bundle {index}: got {len(entries)}, need {width}")
            self._write(tile_path("entries", index, width), encode_bundle(entries))
            leaves = []
            for entry in entries:
                leaf = merkle.leaf_hash(entry)
                leaves.append(leaf)
                created.clear()
                merkle.append_to_edge(edge, written, leaf, created)
                written += 1
                for height, _, value in created:
                    if height % TILE_HEIGHT == 0:
                        self._remember(height // TILE_HEIGHT, value)
            self._write(tile_path(0, index, width), b"".join(leaves))
        for level in range(1, tile_levels(size)):
            hashes = self.upper[level - 1]
            for index, width in tile_widths(size, level):
                start = index * TILE_WIDTH
                self._write(tile_path(level, index, width), b"".join(hashes[start : start + width]))
        return merkle.fold_right(edge) if edge else merkle.EMPTY_ROOT

    def write_checkpoint(self, checkpoint_text: str) -> None:
        self._write("checkpoint", checkpoint_text.encode())

    def _remember(self, level: int, value: bytes) -> None:
        while len(self.upper) < level:
            self.upper.append([])
        self.upper[level - 1].append(value)


class TileHashes:
    """Any full-subtree hash of a tree of `size` leaves, read from its tiles.

    A node of height h = 8·L + r is the Merkle Tree Hash of 2**r consecutive hashes of a
    level-L tile, so proofs (and a witness's consistency check) can be computed from an
    exported directory alone.
    """

    def __init__(self, reader: TileReader, size: int) -> None:
        self.reader = reader
        self.size = size
        self._cache: dict[tuple[int, int], list[bytes]] = {}

    def _tile(self, level: int, index: int) -> list[bytes]:
        key = (level, index)
        if key not in self._cache:
            available = self.size // TILE_WIDTH**level - index * TILE_WIDTH
            if available <= 0:
                raise IntegrityError(f"tile {level}/{index} lies beyond tree size {self.size}")
            width = min(TILE_WIDTH, available)
            self._cache[key] = self.reader.hashes(level, index, width)[0]
        return self._cache[key]

    def lookup(self, needed: Iterable[merkle.NodeId]) -> dict[merkle.NodeId, bytes]:
        found = {}
        for height, index in needed:
            level, rest = divmod(height, TILE_HEIGHT)
            first = index << rest  # first hash of the node among level-`level` hashes
            tile = self._tile(level, first // TILE_WIDTH)
            offset = first % TILE_WIDTH
            found[(height, index)] = merkle.root_of(tile[offset : offset + (1 << rest)])
        return found
