"""Audit fixtures: a context whose data directory holds an audit-log signing key."""

from __future__ import annotations

import pytest

from kinko.audit.note import generate_signer
from kinko.context import Context


@pytest.fixture
def vkey(ctx: Context) -> str:
    """Write a fresh signing key where `kinko init` would; return the verifier key."""
    skey, verifier = generate_signer(ctx.settings.audit_origin)
    path = ctx.settings.resolved_audit_key_path
    path.write_text(skey + "\n", encoding="utf-8")
    path.chmod(0o600)
    return verifier


def fill(ctx: Context, count: int, start: int = 0) -> None:
    with ctx.db.transaction() as session:
        for i in range(start, start + count):
            ctx.audit.append(
                session,
                actor="user:alice",
                action="test.append",
                subject=f"s{i}",
                details={"i": i},
            )
