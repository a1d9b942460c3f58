"""The signers and `totp_server_attested` approvals: online, the server's HMAC is verified
(a tampered or foreign attestation refuses and freezes); offline, `kinko cosign` refuses
them unless told `--unsafe-accept-server-attested-approvals`, and then says so."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.core.clock import FixedClock
from kinko.core.errors import KinkoError
from kinko.store.tables.withdrawals import ApprovalRow
from kinko.withdrawals.export import export_bundle
from kinko.withdrawals.states import State
from kinko.withdrawals.wiring import IdentityDirectory, WalletFreezes
from tests.integration.withdrawals.exchange import HOT_KEY, Exchange
from tests.integration.withdrawals.totp import code, configure, enrol_totp, pending
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def approved_with_totp(ex: Exchange, key: str) -> str:
    """A withdrawal approved by bob's TOTP code and carol's WebAuthn assertion."""
    configure(ex, totp=True, weak=True)
    secret = enrol_totp(ex, "bob")
    wd = pending(ex, key)
    assert wd.digest is not None
    # Approved where no node is configured: nothing executes it before the test does.
    approvals = services_of(ex.ctx).stack_on().approvals
    approvals.approve_totp(wd.id, approver=ex.user("bob"), code=code(ex, secret))
    done = approvals.approve(
        wd.id, approver=ex.user("carol"), assertion=ex.assert_digest("carol", wd.digest)
    )
    assert done.state is State.APPROVED
    return wd.id


def frozen(ex: Exchange) -> str | None:
    with ex.ctx.db.transaction() as session:
        return WalletFreezes(services_of(ex.ctx).freezes).frozen_reason_for_wallet(
            session, ex.wallet_id
        )


def test_online_signer_accepts_a_quorum_with_a_totp_approval(exchange: Exchange) -> None:
    wd = approved_with_totp(exchange, "k-ok")
    done = exchange.executor.execute(wd)
    assert done.state is State.BROADCAST and frozen(exchange) is None


@pytest.mark.parametrize("field", ["digest", "approver"])
def test_online_signer_refuses_a_tampered_attestation(exchange: Exchange, field: str) -> None:
    ex = exchange
    wd = approved_with_totp(ex, f"k-{field}")
    with ex.ctx.db.transaction() as session:
        row = session.execute(
            select(ApprovalRow).where(
                ApprovalRow.withdrawal_id == wd, ApprovalRow.approver == ex.user("bob")
            )
        ).scalar_one()
        if field == "digest":
            attestation = dict(row.assertion or {})["attestation"]
            row.assertion = {"attestation": {**attestation, "digest": "ab" * 32}}
        else:
            row.approver = ex.user("dave")
    with pytest.raises(KinkoError, match="does not match its audit entry") as refused:
        ex.executor.execute(wd)
    assert refused.value.code == "attestation_invalid"
    assert frozen(ex) is not None


def test_online_signer_refuses_an_attestation_under_another_key(exchange: Exchange) -> None:
    ex = exchange
    wd = approved_with_totp(ex, "k-key")
    ex.ctx.settings.resolved_secret_key_path.write_bytes(os.urandom(32))
    with pytest.raises(KinkoError, match="does not verify under this Kinko's secret key"):
        ex.executor.execute(wd)
    assert frozen(ex) is not None


def test_online_signer_refuses_totp_approvals_once_the_setting_is_off(
    exchange: Exchange,
) -> None:
    ex = exchange
    wd = approved_with_totp(ex, "k-later-off")
    configure(ex, totp=False, weak=True)
    with pytest.raises(KinkoError, match="allow_totp_approvals") as refused:
        ex.executor.execute(wd)
    assert refused.value.code == "weak_binding_refused"
    assert frozen(ex) is not None


def cosign_cli(ex: Exchange, tmp_path: Path, raw: bytes, *extra: str) -> tuple[int, str]:
    (tmp_path / "bundle.json").write_bytes(raw)
    (tmp_path / "hot.key").write_text(HOT_KEY.hex())
    (tmp_path / "hot.key").chmod(0o600)
    (tmp_path / "log.vkey").write_text(ex.vkey)
    result = CliRunner().invoke(
        app,
        [
            "cosign",
            str(tmp_path / "bundle.json"),
            "--key",
            str(tmp_path / "hot.key"),
            "--vkey",
            str(tmp_path / "log.vkey"),
            "--out",
            str(tmp_path / "signed.hex"),
            *extra,
        ],
        env={"COLUMNS": "400"},
    )
    return result.exit_code, " ".join(result.output.split())


def test_cosign_refuses_server_attested_approvals_unless_told(
    exchange: Exchange, tmp_path: Path
) -> None:
    ex = exchange
    assert isinstance(ex.ctx.clock, FixedClock)
    ex.ctx.clock.set(datetime.now(UTC))  # the CLI checks expiry against the real clock
    wd = approved_with_totp(ex, "k-cosign")
    with ex.ctx.db.transaction() as session:
        raw = export_bundle(
            ex.ctx, session, IdentityDirectory(services_of(ex.ctx).identity), wd
        ).to_bytes()
    status, out = cosign_cli(ex, tmp_path, raw)
    assert status == 1, out
    assert "totp_server_attested" in out and "--unsafe-accept-server-attested-approvals" in out
    assert not (tmp_path / "signed.hex").exists()
    status, out = cosign_cli(ex, tmp_path, raw, "--unsafe-accept-server-attested-approvals")
    assert status == 0, out
    assert "WARNING" in out and "totp_server_attested" in out and "approved by 2/2" in out
    assert (tmp_path / "signed.hex").exists()
