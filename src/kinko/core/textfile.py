"""Reading the text and CSV files people hand to Kinko, with errors a person can act on.

A file in the wrong encoding, a binary file, a CSV with a bare carriage return inside a
field or with a field beyond the `csv` module's size limit are bad input: they raise
`InputError` naming the file, the line and what to do, never a decoding traceback.
Standard library only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from kinko.core.errors import InputError

_ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "ascii": "ASCII",
    "cp1252": "Windows-1252",
}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def refuse_binary(head: bytes, *, field: str, name: str) -> None:
    """Refuse a file whose first bytes show it is not text (NUL bytes, UTF-16)."""
    if head.startswith(_UTF16_BOMS):
        raise InputError(field, f"{name} is UTF-16 text; save it as UTF-8 and try again")
    if b"\x00" in head:
        raise InputError(
            field, f"{name} is a binary file, not text: check that it is the right file"
        )


def decode_text(
    raw: bytes, *, field: str, name: str, encoding: str = "utf-8", expected: str | None = None
) -> str:
    """`raw` decoded, or InputError naming the first byte that is not `encoding` (called
    `expected` in the message, by default the encoding's usual name)."""
    refuse_binary(raw[:8192], field=field, name=name)
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        expected = expected or _ENCODING_NAMES.get(encoding, encoding)
        raise InputError(
            field,
            f"{name} is not {expected} text (byte {exc.start}, line {line}: "
            f"{raw[exc.start : exc.start + 1]!r}); save it as {expected} and try again",
        ) from None


def read_text(path: Path, *, field: str, encoding: str = "utf-8", name: str | None = None) -> str:
    """The text of `path` (called `name` in messages, by default its path); InputError if
    it cannot be read or is not `encoding` text."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(field, f"cannot read {name or path}: {exc.strerror or exc}") from None
    return decode_text(raw, field=field, name=name or str(path), encoding=encoding)


def csv_rows(text: str, *, field: str, name: str) -> Iterator[list[str]]:
    """The rows of CSV `text`; a malformed row raises InputError naming its line."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(field, f"{name} line {reader.line_num}: {_explain(exc)}") from None
        yield row


def _explain(exc: csv.Error) -> str:
    message = str(exc)
    if "field larger than field limit" in message:
        return (
            f"a field is longer than {csv.field_size_limit():,} characters; "
            "this is not a file Kinko reads: check that it is the right file"
        )
    if "new-line character seen in unquoted field" in message:
        return (
            "a carriage return (\\r) inside an unquoted field: quote that field, or save "
            "the file with \\n or \\r\\n line endings"
        )
    return f"not valid CSV ({message})"
