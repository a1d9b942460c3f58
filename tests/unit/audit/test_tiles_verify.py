"""tlog-tiles layout and the offline verifier, against an independent writer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from kinko.audit import merkle, tiles
from kinko.audit.tiles import TileWriter, encode_index, tile_path, tile_widths
from kinko.audit.verify import verify_directory
from kinko.core.errors import InputError, IntegrityError
from tests.unit.audit.independent_tlog import Key, mth, write_log


def _entries(n: int, start: int = 0) -> list[bytes]:
    return [json.dumps({"sequence": i, "x": "y" * (i % 7)}).encode() for i in range(start, n)]


def test_index_encoding_and_spec_example_tile_counts() -> None:
    assert encode_index(1234067) == "x001/x234/067"
    assert encode_index(0) == "000"
    assert encode_index(1000) == "x001/000"
    assert tile_path(0, 5, 17) == "tile/0/005.p/17"
    assert tile_path("entries", 1234067) == "tile/entries/x001/x234/067"
    widths = {lvl: list(tile_widths(70_000, lvl)) for lvl in range(3)}
    assert len(widths[0]) == 274 and widths[0][-1] == (273, 112)
    assert widths[1] == [(0, 256), (1, 17)] and widths[2] == [(0, 1)]
    assert list(tile_widths(256, 1)) == [(0, 1)]


def test_bundle_length_prefix_boundaries() -> None:
    bundle = tiles.encode_bundle([b"a", b"x" * 65535])
    assert bundle[:3] == b"\x00\x01a" and bundle[3:5] == b"\xff\xff"
    assert tiles.decode_bundle(bundle, "b") == [b"a", b"x" * 65535]
    with pytest.raises(InputError, match="65535"):
        tiles.encode_bundle([b"x" * 65536])
    with pytest.raises(IntegrityError, match="runs past"):
        tiles.decode_bundle(bundle[:-1], "b")


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 600])
def test_independent_directory_verifies_and_roots_match_pymerkle(tmp_path: Path, size: int) -> None:
    key = Key("other.example/log")
    entries = _entries(size)
    write_log(tmp_path, entries, key)
    report = verify_directory(tmp_path, key.vkey)
    assert report.entries == size
    if size:
        reference = InmemoryTree(algorithm="sha256")
        for e in entries:
            reference.append_entry(e)
        assert report.checkpoint.root_hash == reference.get_root(size)


def test_kinko_writer_output_is_byte_identical_to_the_independent_writer(
    tmp_path: Path,
) -> None:
    key = Key("other.example/log")
    entries = _entries(70_000 // 100)  # 700: full and partial tiles on two levels
    note = write_log(tmp_path / "theirs", entries, key)
    ours = tmp_path / "ours"
    root = TileWriter(ours).write_tiles(
        len(entries), [entries[i : i + 256] for i in range(0, 700, 256)]
    )
    TileWriter(ours).write_checkpoint(note)
    assert root == mth(entries)
    theirs_files = sorted(
        p.relative_to(tmp_path / "theirs") for p in (tmp_path / "theirs").rglob("*") if p.is_file()
    )
    ours_files = sorted(p.relative_to(ours) for p in ours.rglob("*") if p.is_file())
    assert theirs_files == ours_files
    for rel in ours_files:
        assert (ours / rel).read_bytes() == (tmp_path / "theirs" / rel).read_bytes(), rel


def test_deleted_partial_tiles_fall_back_to_full_tiles(tmp_path: Path) -> None:
    key = Key("other.example/log")
    entries = _entries(512)
    note = write_log(tmp_path, entries[:300], key)
    write_log(tmp_path, entries, key)  # the log grew; its full tiles supersede partials
    for partial in ("tile/0/001.p/44", "tile/entries/001.p/44"):
        (tmp_path / partial).unlink()
    (tmp_path / "checkpoint").write_text(note, encoding="utf-8")
    assert verify_directory(tmp_path, key.vkey).entries == 300


def test_sequence_numbers_are_checked_unless_entries_are_opaque(tmp_path: Path) -> None:
    key = Key("other.example/log")
    entries = _entries(10)
    entries[7] = b'{"sequence":8}'
    write_log(tmp_path, entries, key)
    with pytest.raises(IntegrityError, match=r"entry 7 .*tile/entries/000\.p/10.* sequence 8"):
        verify_directory(tmp_path, key.vkey)
    assert verify_directory(tmp_path, key.vkey, kinko_entries=False).entries == 10


def test_unusable_input_is_an_input_error(tmp_path: Path) -> None:
    key = Key("other.example/log")
    with pytest.raises(InputError, match="not a directory"):
        verify_directory(tmp_path / "nope", key.vkey)
    with pytest.raises(InputError, match="checkpoint is missing"):
        verify_directory(tmp_path, key.vkey)
    write_log(tmp_path, _entries(3), key)
    with pytest.raises(InputError, match="vkey"):
        verify_directory(tmp_path, "not-a-key")


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    key = Key("other.example/log")
    root = tmp_path_factory.mktemp("pristine")
    write_log(root, _entries(300), key)
    return root, key.vkey


def _flip_and_verify(pristine: tuple[Path, str], work: Path, rel: Path, bit: int) -> None:
    root, vkey = pristine
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(root, work)
    target = work / rel
    data = bytearray(target.read_bytes())
    bit %= len(data) * 8
    data[bit // 8] ^= 1 << (bit % 8)
    target.write_bytes(bytes(data))
    with pytest.raises((IntegrityError, InputError)):
        verify_directory(work, vkey)


def test_a_flipped_bit_in_each_file_is_rejected(pristine: tuple[Path, str], tmp_path: Path) -> None:
    root, _ = pristine
    files = _files(root)
    assert len(files) == 6  # checkpoint, 2 bundles, 2 level-0 tiles, 1 level-1 tile
    for path in files:
        _flip_and_verify(pristine, tmp_path / "work", path.relative_to(root), 12_345)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_flipped_bit_anywhere_is_rejected(
    pristine: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    root, _ = pristine
    files = [p.relative_to(root) for p in _files(root)]
    rel = data.draw(st.sampled_from(files))
    bit = data.draw(st.integers(0, 2**20))
    _flip_and_verify(pristine, tmp_path_factory.mktemp("flip"), rel, bit)


def test_first_failure_is_named(tmp_path: Path) -> None:
    key = Key("other.example/log")
    write_log(tmp_path, _entries(600), key)
    tile = tmp_path / "tile/1/000.p/2"
    data = bytearray(tile.read_bytes())
    data[40] ^= 1
    tile.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r"tile/1/000\.p/2: hash 1 does not match"):
        verify_directory(tmp_path, key.vkey)
    bundle = tmp_path / "tile/entries/001"
    data = bytearray(bundle.read_bytes())
    data[-3] ^= 1
    bundle.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r"entry 511 \(tile/entries/001, position 255\)"):
        verify_directory(tmp_path, key.vkey)
    (tmp_path / "tile/0/000").unlink()
    with pytest.raises(IntegrityError, match="tile/0/000 is missing"):
        verify_directory(tmp_path, key.vkey)


def test_root_and_node_helpers_agree_with_independent_mth() -> None:
    leaves = [merkle.leaf_hash(e) for e in _entries(77)]
    assert merkle.root_of(leaves) == mth(_entries(77))


def test_standalone_verifier_module_exit_codes(tmp_path: Path) -> None:
    import subprocess
    import sys

    key = Key("other.example/log")
    write_log(tmp_path / "log", _entries(40), key)
    (tmp_path / "log.vkey").write_text(key.vkey + "\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kinko.audit.verify", *args],
            capture_output=True,
            text=True,
            check=False,
        )

    ok = run(str(tmp_path / "log"), "--vkey", str(tmp_path / "log.vkey"))
    assert ok.returncode == 0 and "40 entries" in ok.stdout
    assert run(str(tmp_path / "nope"), "--vkey", str(tmp_path / "log.vkey")).returncode == 2
    assert run(str(tmp_path / "log"), "--vkey", str(tmp_path / "missing.vkey")).returncode == 2
    (tmp_path / "log" / "tile/0/000.p/40").write_bytes(bytes(40 * 32))
    bad = run(str(tmp_path / "log"), "--vkey", str(tmp_path / "log.vkey"))
    assert bad.returncode == 1 and "tile/0/000.p/40" in bad.stderr
    assert "Traceback" not in bad.stderr
