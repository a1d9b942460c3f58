"""The tamper-evident audit log: RFC 9162 Merkle tree, C2SP checkpoints, tiles, witnesses."""
