"""Offline verification of an exported tlog-tiles directory.

Standard library and `cryptography` only, so that auditors can run it on an air-gapped
machine without the database or Kinko's configuration. Works on any correct tlog-tiles
directory (RFC 6962 hashing, Ed25519 signed-note checkpoint), not only Kinko's own.

What is checked, in order: the checkpoint signature (and witness cosignatures when
asked); every entry against its level-0 tile hash; each entry's own ``sequence`` (for
Kinko logs); every higher tile against the hashes recomputed from below; and the root
recomputed from all entries against the checkpoint's root hash.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kinko.audit import merkle
from kinko.audit.checkpoint import Checkpoint, verify_checkpoint
from kinko.audit.cosignature import Cosigned, verify_cosignatures
from kinko.audit.note import Verifier
from kinko.audit.tiles import TILE_HEIGHT, TILE_WIDTH, TileReader, tile_levels, tile_widths
from kinko.core.errors import InputError, IntegrityError


@dataclass(frozen=True, slots=True)
class VerifyReport:
    checkpoint: Checkpoint
    entries: int
    tiles: int
    cosignatures: tuple[Cosigned, ...]


def load_checkpoint_text(directory: Path) -> str:
    if not directory.is_dir():
        raise InputError("DIR", f"{directory} is not a directory; give an exported audit log")
    path = directory / "checkpoint"
    if not path.is_file():
        raise InputError("DIR", f"{path} is missing; is this a tlog-tiles export?")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise IntegrityError("checkpoint is not valid UTF-8") from exc


def verify_directory(
    directory: Path,
    vkey_text: str,
    *,
    witnesses: Sequence[str] = (),
    witness_threshold: int = 0,
    kinko_entries: bool = True,
    now: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Verify the whole directory; raise `IntegrityError` naming the first failure."""
    note_text = load_checkpoint_text(directory)
    checkpoint = verify_checkpoint(note_text, vkey_text)
    cosigned: list[Cosigned] = []
    if witnesses or witness_threshold:
        verifiers = [Verifier.parse(w) for w in witnesses]
        cosigned = verify_cosignatures(note_text, verifiers, witness_threshold, now=now)
    reader = TileReader(directory)
    size = checkpoint.size
    upper: list[list[bytes]] = [[] for _ in range(tile_levels(size))]
    edge: list[bytes] = []
    created: list[tuple[int, int, bytes]] = []
    tiles = 0
    seq = 0
    for index, width in tile_widths(size, 0):
        entries, bundle_path = reader.entries(index, width)
        hashes, tile_path = reader.hashes(0, index, width)
        tiles += 1
        for position, (entry, expected) in enumerate(zip(entries, hashes, strict=True)):
            leaf = merkle.leaf_hash(entry)
            if leaf != expected:
                raise IntegrityError(
                    f"entry {seq} ({bundle_path}, position {position}) does not match "
                    f"hash {position} of {tile_path}"
                )
            if kinko_entries:
                _check_sequence(entry, seq, bundle_path)
            created.clear()
            merkle.append_to_edge(edge, seq, leaf, created)
            for height, _, value in created:
                if height % TILE_HEIGHT == 0:
                    upper[height // TILE_HEIGHT].append(value)
            seq += 1
        if progress is not None:
            progress(seq)
    for level in range(1, len(upper)):
        computed = upper[level]
        for index, width in tile_widths(size, level):
            hashes, tile_path = reader.hashes(level, index, width)
            tiles += 1
            start = index * TILE_WIDTH
            for position, value in enumerate(hashes):
                if value != computed[start + position]:
                    raise IntegrityError(
                        f"{tile_path}: hash {position} does not match the tiles below it"
                    )
    root = merkle.fold_right(edge) if edge else merkle.EMPTY_ROOT
    if root != checkpoint.root_hash:
        raise IntegrityError(
            f"the {size} entries hash to a root that differs from the checkpoint's root"
        )
    return VerifyReport(checkpoint, size, tiles, tuple(cosigned))


_decode = json.JSONDecoder().decode


def _check_sequence(entry: bytes, seq: int, where: str) -> None:
    try:
        value = _decode(entry.decode("utf-8"))
    except ValueError:  # includes UnicodeDecodeError
        raise IntegrityError(f"entry {seq} ({where}) is not JSON") from None
    found = _seq_of(value)
    if type(found) is not int or found != seq:
        raise IntegrityError(f"entry {seq} ({where}) records sequence {found!r}; expected {seq}")


def _seq_of(value: object) -> object:
    return value.get("sequence") if isinstance(value, dict) else None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kinko.audit.verify DIR --vkey FILE``: the verifier without Kinko's CLI.

    For an air-gapped machine that has only Python and `cryptography`: same checks and
    exit codes as ``kinko audit verify`` (0 holds, 1 first failure, 2 unusable input).
    """
    import argparse
    import sys
    import time

    from kinko.core.errors import KinkoError

    parser = argparse.ArgumentParser(prog="python -m kinko.audit.verify")
    parser.add_argument("directory", type=Path, help="an exported tlog-tiles directory")
    parser.add_argument("--vkey", required=True, type=Path, help="the log's verifier key file")
    parser.add_argument("--witness", action="append", type=Path, default=[])
    parser.add_argument("--witness-threshold", type=int, default=0)
    parser.add_argument("--any-entries", action="store_true", help="skip the sequence check")
    args = parser.parse_args(argv)
    try:
        keys = [p.read_text(encoding="utf-8").strip() for p in [args.vkey, *args.witness]]
    except OSError as exc:
        print(f"error: cannot read key file: {exc}", file=sys.stderr)
        return 2
    threshold = args.witness_threshold or len(args.witness)
    try:
        report = verify_directory(
            args.directory,
            keys[0],
            witnesses=keys[1:],
            witness_threshold=threshold,
            kinko_entries=not args.any_entries,
            now=int(time.time()) + 300,
        )
    except KinkoError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    cp = report.checkpoint
    print(f"OK: {cp.origin} size {cp.size}, {report.entries} entries, {report.tiles} tiles")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
