"""Bootstrap: the first setup of a data directory (`kinko init`, and `kinko demo` on a fresh
one): database, audit-log signing key, secret key and the first administrator.

It is the one place the bootstrap exception of four eyes applies (the first admin is
granted alone, and recorded as such: kinko.identity.roles); it refuses a directory that
is already initialised, so suspending people can never re-enter it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from kinko.config import Settings
from kinko.core.secretfile import (
    PRIVATE_DIR,
    PRIVATE_FILE,
    PUBLIC_FILE,
    create_file,
    make_private_dir,
    write_secret_file,
)


def initialise(cfg: Settings, admin: str) -> tuple[str, str]:
    """Create database, audit-log key, secret key and the first admin.

    Returns (admin enrolment secret, audit verifier key). Refuses if anything exists. Key
    files are written under temporary names and moved into place only after the database
    work committed, so a failure leaves nothing half-initialised behind.
    """
    from kinko.audit.note import generate_signer
    from kinko.context import build_context
    from kinko.core.errors import Conflict
    from kinko.services import build_services
    from kinko.store.migrate import is_initialised, upgrade

    key_path = cfg.resolved_audit_key_path
    secret_path = cfg.resolved_secret_key_path
    for path in (key_path, secret_path):
        if path.exists():
            raise Conflict(
                f"{path} already exists: this data directory is initialised; refusing to overwrite"
            )
    make_private_dir(cfg.data_dir)
    cfg.data_dir.chmod(PRIVATE_DIR)  # also when it existed (an empty directory made for it)
    skey, vkey = generate_signer(cfg.audit_origin)
    pending = [
        (key_path.with_name(key_path.name + ".new"), key_path, skey.encode() + b"\n"),
        (secret_path.with_name(secret_path.name + ".new"), secret_path, secrets.token_bytes(32)),
    ]
    for temporary, _, data in pending:
        temporary.unlink(missing_ok=True)
        write_secret_file(temporary, data)
    ctx = build_context(cfg)
    database = ctx.db.engine.url.database
    created_db = ctx.db.engine.url.get_backend_name() == "sqlite" and not (
        database and Path(database).exists()
    )
    try:
        if is_initialised(ctx.db.engine):
            raise Conflict("the database is already initialised; refusing to overwrite")
        if created_db and database:
            # SQLite gives its -wal and -shm files the database file's mode: make it 0600
            # before SQLite creates it with the umask's (0644 under umask 022).
            create_file(Path(database), b"", PRIVATE_FILE)
        # The identity service reads the secret key (TOTP sealing) from its final path.
        os.link(pending[1][0], secret_path)
        upgrade(ctx.db.engine)
        with ctx.db.transaction() as session:
            enrolment = build_services(ctx).identity.bootstrap_admin(session, admin)
        os.replace(pending[0][0], key_path)
        vkey_path = cfg.data_dir / "audit-log.vkey"  # public: verifiers need it
        vkey_path.unlink(missing_ok=True)
        create_file(vkey_path, (vkey + "\n").encode(), PUBLIC_FILE)
        return enrolment, vkey
    except BaseException:
        if not key_path.exists():
            secret_path.unlink(missing_ok=True)
            _remove_fresh_sqlite(ctx.db.engine.url.database, created_db)
        raise
    finally:
        for temporary, _, _ in pending:
            temporary.unlink(missing_ok=True)
        ctx.db.dispose()


def _remove_fresh_sqlite(database: str | None, created: bool) -> None:
    """Undo a SQLite database this failed `init` created, so that it can simply be re-run."""
    if created and database:
        for suffix in ("", "-wal", "-shm", ".writer-lock"):
            Path(database + suffix).unlink(missing_ok=True)
