"""Private files: created 0600 (directories 0700) whatever the umask, and key files read
only when no one but their owner can read them.

A key file others can read (mode 0644, the usual umask's default) may already be copied;
Kinko refuses it, as ssh refuses such an identity file, and says the ``chmod`` to run.
Mode 0600 or stricter (0400) is accepted. Standard library only.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kinko.core.errors import InputError

PRIVATE_FILE, PUBLIC_FILE, PRIVATE_DIR = 0o600, 0o644, 0o700
"""Modes of what Kinko creates in its data directory, whatever the umask: files 0600,
directories 0700; only a file meant to be published (the audit log's verifier key) is 0644
(docs/configuration.md)."""


def make_private_dir(path: Path) -> None:
    """Create the directory `path` (and its parents) with mode 0700 if it is missing."""
    if not path.is_dir():
        path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        path.chmod(PRIVATE_DIR)  # mkdir's mode is narrowed by the umask: set it exactly


def create_file(path: Path, data: bytes, mode: int = PRIVATE_FILE) -> None:
    """Create `path` with exactly `mode`; FileExistsError if it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(fd, mode)  # the umask narrowed (or, at 000, kept) the mode: set it
        handle.write(data)


def write_secret_file(path: Path, data: bytes) -> None:
    """Create `path` with mode 0600 (its directory 0700 if missing), whatever the umask;
    refuses to overwrite an existing file."""
    make_private_dir(path.parent)
    create_file(path, data, PRIVATE_FILE)


def write_private(path: Path, data: bytes) -> None:
    """Write `path` (replacing it, atomically) as a 0600 file, whatever the umask."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    temporary.unlink(missing_ok=True)
    create_file(temporary, data, PRIVATE_FILE)
    os.replace(temporary, path)


class UnsafeKeyFile(InputError):
    """A private key file that its group or others may read or write."""

    code = "key_file_mode"


def check_private(path: Path, mode: int, *, field: str) -> None:
    """Refuse `mode` (of the file `path`) if it grants anything to group or others."""
    if stat.S_IMODE(mode) & 0o077:
        raise UnsafeKeyFile(
            field,
            f"{path} is a private key file but its mode is {stat.S_IMODE(mode):04o} (others "
            f"may read it); run 'chmod 600 {path}' and try again",
        )


def read_private(path: Path, *, field: str) -> bytes:
    """The bytes of the private key file `path`, once its mode is 0600 or stricter.

    The mode is read from the open file (fstat), so it is that of the bytes returned."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise InputError(field, f"cannot read {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise InputError(field, f"{path} is not a regular file")
        check_private(path, status.st_mode, field=field)
        return handle.read()
