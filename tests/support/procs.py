"""Which process is which, from /proc (Linux): children, and who holds a TCP connection."""

from __future__ import annotations

import os
from pathlib import Path


def children(pid: int, *, cmdline_has: str = "") -> list[int]:
    """Live child processes of `pid` whose command line contains `cmdline_has`."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid and cmdline_has in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def _socket_inodes(pid: int) -> set[int]:
    inodes: set[int] = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def server_side_owner(server_port: int, client_port: int, candidates: list[int]) -> int | None:
    """Which of `candidates` holds the server end of the TCP connection from local
    `client_port` to `server_port` (IPv4 loopback), from /proc/net/tcp."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
        if state != "01":  # ESTABLISHED
            continue
        if int(local.split(":")[1], 16) == server_port and (
            int(remote.split(":")[1], 16) == client_port
        ):
            for pid in candidates:
                if inode in _socket_inodes(pid):
                    return pid
    return None
