"""`kinko audit ...` and the audit HTTP routes, end to end on both databases."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kinko.audit import merkle
from kinko.audit.checkpoint import Checkpoint, sign_checkpoint, verify_checkpoint
from kinko.audit.note import Signer
from kinko.audit.tiles import TileWriter
from kinko.cli.main import app
from kinko.context import Context
from kinko.server import create_app
from tests.integration.audit.conftest import fill

runner = CliRunner()


def _env(ctx: Context) -> dict[str, str]:
    return {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
        "COLUMNS": "400",
    }


def kinko(ctx: Context, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=_env(ctx))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _b(value: str) -> bytes:
    return base64.b64decode(value)


def test_checkpoint_prove_and_consistency_commands(ctx: Context, vkey: str) -> None:
    fill(ctx, 10)
    code, out = kinko(ctx, "audit", "checkpoint")
    assert code == 0
    cp = verify_checkpoint(out, vkey)
    assert cp.size == 10
    code, out = kinko(ctx, "audit", "prove", "4")
    assert code == 0
    proof = json.loads(out)
    assert json.loads(proof["entry"])["sequence"] == 4
    merkle.verify_inclusion(
        _b(proof["leaf_hash"]), 4, 10, [_b(p) for p in proof["proof"]], cp.root_hash
    )
    fill(ctx, 5, start=10)
    code, out = kinko(ctx, "audit", "consistency", "10", "15")
    assert code == 0
    data = json.loads(out)
    assert _b(data["first_root"]) == cp.root_hash
    merkle.verify_consistency(
        10, 15, [_b(p) for p in data["proof"]], cp.root_hash, _b(data["second_root"])
    )
    code, out = kinko(ctx, "audit", "prove", "99", "--size", "15")
    assert code == 2 and "index" in out


def test_export_verify_and_witness_flow(ctx: Context, vkey: str, tmp_path: Path) -> None:
    vkey_file = tmp_path / "log.vkey"
    vkey_file.write_text(vkey + "\n")
    fill(ctx, 300)
    first = tmp_path / "export1"
    assert kinko(ctx, "audit", "export", str(first))[0] == 0
    # verify needs neither the database nor a valid configuration
    bad_env = {"KINKO_PORT": "seventy", "KINKO_DATABASE_URL": "mysql://x", "COLUMNS": "400"}
    result = runner.invoke(
        app, ["audit", "verify", str(first), "--vkey", str(vkey_file)], env=bad_env
    )
    assert result.exit_code == 0, result.output
    assert "300 entries" in result.output

    for name in ("w1", "w2"):
        code, _ = kinko(
            ctx,
            "audit",
            "witness",
            "init",
            "--name",
            f"{name}.example",
            "--out",
            str(tmp_path / name),
        )
        assert code == 0
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600

    def cosign(name: str, directory: Path) -> tuple[int, str]:
        return kinko(
            ctx,
            "audit",
            "witness",
            "cosign",
            str(directory),
            "--log-vkey",
            str(vkey_file),
            "--key",
            str(tmp_path / name),
            "--state",
            str(tmp_path / f"{name}.state"),
        )

    def verify(directory: Path, *witnesses: str) -> tuple[int, str]:
        args = [a for w in witnesses for a in ("--witness", str(tmp_path / f"{w}.vkey"))]
        return kinko(ctx, "audit", "verify", str(directory), "--vkey", str(vkey_file), *args)

    assert cosign("w1", first)[0] == 0
    code, out = verify(first, "w1", "w2")
    assert code == 1 and "cosigned by 1/2 required witnesses" in out
    assert cosign("w2", first)[0] == 0
    assert verify(first, "w1", "w2")[0] == 0

    fill(ctx, 200, start=300)
    second = tmp_path / "export2"
    assert kinko(ctx, "audit", "export", str(second))[0] == 0
    code, out = cosign("w1", second)
    assert code == 0 and "previously witnessed size 300" in out

    # A fork: the log key signs a tree whose history differs from what w1 saw.
    signer = Signer.parse(ctx.settings.resolved_audit_key_path.read_text())
    forked = tmp_path / "fork"
    entries = [json.dumps({"sequence": i, "forged": True}).encode() for i in range(600)]
    writer = TileWriter(forked)
    root = writer.write_tiles(600, [entries[i : i + 256] for i in range(0, 600, 256)])
    writer.write_checkpoint(sign_checkpoint(Checkpoint(signer.name, 600, root), signer))
    state_before = (tmp_path / "w1.state").read_text()
    code, out = cosign("w1", forked)
    assert code == 1 and "consistency proof" in out
    assert (tmp_path / "w1.state").read_text() == state_before
    # A rollback to an older checkpoint is refused too.
    code, out = cosign("w1", first)
    assert code == 1 and "smaller than the 500 already witnessed" in out


def test_verify_exit_codes(ctx: Context, vkey: str, tmp_path: Path) -> None:
    fill(ctx, 20)
    out_dir = tmp_path / "export"
    assert kinko(ctx, "audit", "export", str(out_dir))[0] == 0
    code, out = kinko(ctx, "audit", "verify", str(tmp_path / "missing"), "--vkey", vkey)
    assert code == 2 and "not a directory" in out
    code, out = kinko(ctx, "audit", "verify", str(out_dir), "--vkey", "nonsense")
    assert code == 2
    bundle = out_dir / "tile/entries/000.p/20"
    data = bytearray(bundle.read_bytes())
    data[5] ^= 0x20
    bundle.write_bytes(bytes(data))
    code, out = kinko(ctx, "audit", "verify", str(out_dir), "--vkey", vkey)
    assert code == 1 and "entry 0" in out and "tile/entries/000.p/20" in out


def test_http_routes(ctx: Context, vkey: str) -> None:
    client = TestClient(create_app(ctx))
    response = client.get("/v1/audit/checkpoint")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    fill(ctx, 9)
    with ctx.db.transaction() as session:
        ctx.audit.checkpoint(session)
    response = client.get("/v1/audit/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    cp = verify_checkpoint(response.text, vkey)
    proof = client.get("/v1/audit/proof/7").json()
    assert proof["size"] == 9 and proof["checkpoint"] == response.text
    merkle.verify_inclusion(
        _b(proof["leaf_hash"]), 7, 9, [_b(p) for p in proof["proof"]], cp.root_hash
    )
    assert client.get("/v1/audit/proof/9").status_code == 422
    assert client.get("/v1/audit/proof/2?size=50").status_code == 422
    data = client.get("/v1/audit/consistency?first=4&second=9").json()
    assert len(data["proof"]) == len(merkle.consistency_ranges(4, 9))
    assert client.get("/v1/audit/entries/1").status_code == 401


@pytest.mark.parametrize("interval", [0.05])
def test_background_checkpoints(ctx: Context, vkey: str, interval: float) -> None:
    import time

    fill(ctx, 3)
    ctx.settings = ctx.settings.model_copy(update={"checkpoint_interval_s": interval})
    with TestClient(create_app(ctx, background=True)) as client:
        deadline = time.monotonic() + 60
        while client.get("/v1/audit/checkpoint").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # Signed by the background loop; later ones may also cover what the app appended
        # meanwhile (e.g. the start-up screening freshness alert).
        size = verify_checkpoint(client.get("/v1/audit/checkpoint").text, vkey).size
        with ctx.db.transaction() as session:
            assert 3 <= size <= ctx.audit.size(session)


def _tamper(ctx: Context, seq: int, *, rehash: bool) -> None:
    """What someone with write access to the database would do to entry `seq`."""
    from kinko.store.tables.audit import AuditEntryRow

    with ctx.db.transaction() as session:
        row = session.get(AuditEntryRow, seq)
        assert row is not None
        forged = row.entry.replace(b'"sequence":', b'"forged":true,"sequence":', 1)
        assert forged != row.entry
        row.entry = forged
        if rehash:
            row.leaf_hash = merkle.leaf_hash(forged)


@pytest.mark.parametrize("rehash", [False, True])
def test_prove_refuses_a_tampered_entry(ctx: Context, vkey: str, rehash: bool) -> None:
    """Before: `audit prove` printed the altered entry beside a proof of the original."""
    fill(ctx, 10)
    assert kinko(ctx, "audit", "prove", "4")[0] == 0
    _tamper(ctx, 4, rehash=rehash)
    code, out = kinko(ctx, "audit", "prove", "4")
    assert code == 1, out
    answer = json.loads(out[out.index("{") :])  # after the error line (stderr)
    assert answer["ok"] is False and "entry" not in answer and "forged" not in out
    if rehash:  # the leaf hash was rewritten too: the tree no longer matches what was signed
        assert answer["error"] == "integrity_failure"
        assert "disagree with the head" in answer["message"]
        code, out = kinko(ctx, "audit", "prove", "4", "--size", "10")
        assert code == 1, out
        assert "does not match the checkpoint signed at that size" in out
    else:
        assert answer["error"] == "entry_altered"
        assert "audit entry 4 does not hash to its leaf hash" in answer["message"]
    code, out = kinko(ctx, "audit", "prove", "5")
    # An altered entry alone: the others still prove. A rewritten tree: nothing does.
    assert code == (1 if rehash else 0), out
