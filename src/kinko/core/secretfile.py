"""Private key files: read only when no one but their owner can read them.

A key file others can read (mode 0644, the usual umask's default) may already be copied;
Kinko refuses it, as ssh refuses such an identity file, and says the ``chmod`` to run.
Mode 0600 or stricter (0400) is accepted. Standard library only.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kinko.core.errors import InputError

PRIVATE_MODE = 0o600


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
