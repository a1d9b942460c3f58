"""Reading a statement's file: its SHA-256 and its rows a line at a time (I/O, no database).

The file is read in binary and decoded as UTF-8 (a BOM allowed) a chunk at a time, so a
file of millions of rows never sits in memory; the rows are checked by
`kinko.custody.statement_rows`.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from kinko.core.errors import InputError
from kinko.core.textfile import refuse_binary
from kinko.custody import statement_rows
from kinko.custody.statement_rows import Row

CHUNK = 1 << 20
# A row is an account id, an asset key and a number: far shorter than this. A longer line
# (a file without line breaks, say) is refused before it is held whole.
MAX_LINE = 1 << 16


def file_digest(path: Path, *, field: str = "file") -> bytes:
    """SHA-256 of the file's bytes, read in chunks; InputError if it cannot be read."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").digest()
    except OSError as exc:
        raise InputError(field, f"cannot read {path.name}: {exc.strerror or exc}") from None


@contextmanager
def open_rows(path: Path, *, name: str = "statement") -> Iterator[tuple[str, Iterator[Row]]]:
    """The file's format and its rows, read a line at a time (UTF-8, a BOM allowed); a
    byte that is not UTF-8 is refused naming its line."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError("file", f"cannot read {path.name}: {exc.strerror or exc}") from None
    with handle:
        head = handle.read(8192)
        refuse_binary(head, field="file", name=path.name)
        handle.seek(0)
        fmt = statement_rows.detect(head.decode("utf-8", errors="ignore"))
        yield fmt, statement_rows.rows(_lines(handle, path.name), fmt, name=name)


def _lines(handle: IO[bytes], name: str) -> Iterator[str]:
    """UTF-8 lines (``\\n`` kept: CSV sees its quoted line breaks) of a binary file."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    number, pending = 0, ""
    while True:
        chunk = handle.read(CHUNK)
        try:
            pending += decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise InputError(
                "file",
                f"{name} is not UTF-8 text after line {number}: save it as UTF-8 and try again",
            ) from None
        *whole, pending = pending.split("\n")
        for line in whole:
            number += 1
            yield line + "\n"
        if len(pending) > MAX_LINE:
            raise InputError(
                "file",
                f"{name} line {number + 1} is longer than {MAX_LINE} characters: a statement "
                "has one row per line (account,asset,base_units); check the file's line breaks",
            )
        if not chunk:
            if pending:
                yield pending
            return
