"""`kinko audit verify --json`: the report, and a failed verification as JSON with exit 1."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from typer.testing import CliRunner

from kinko.audit.checkpoint import verify_checkpoint
from kinko.cli.main import app
from kinko.context import Context
from tests.integration.audit.conftest import fill
from tests.support.cli import assert_iso

runner = CliRunner()


def kinko(ctx: Context, *args: str) -> tuple[int, str]:
    env = {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
    }
    result = runner.invoke(app, list(args), env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout


def test_verify_json(ctx: Context, vkey: str, tmp_path: Path) -> None:
    vkey_file = tmp_path / "log.vkey"
    vkey_file.write_text(vkey + "\n")
    fill(ctx, 40)
    export = tmp_path / "export"
    assert kinko(ctx, "audit", "export", str(export))[0] == 0
    witness = tmp_path / "w1"
    assert (
        kinko(ctx, "audit", "witness", "init", "--name", "w1.example", "--out", str(witness))[0]
        == 0
    )
    code, _ = kinko(
        ctx, "audit", "witness", "cosign", str(export), "--log-vkey", str(vkey_file),
        "--key", str(witness), "--state", str(tmp_path / "w1.state"),
    )  # fmt: skip
    assert code == 0
    args = ["--vkey", str(vkey_file), "--witness", f"{witness}.vkey", "--json"]

    code, out = kinko(ctx, "audit", "verify", str(export), *args)
    assert code == 0, out
    report = json.loads(out)
    checkpoint = verify_checkpoint((export / "checkpoint").read_text(), vkey)
    assert report["ok"] is True
    assert (report["origin"], report["size"]) == (checkpoint.origin, 40)
    assert base64.b64decode(report["root_hash"]) == checkpoint.root_hash
    assert report["entries"] == 40 and report["tiles"] >= 1
    [cosigned] = report["cosignatures"]
    assert cosigned["witness"] == "w1.example"
    assert_iso(cosigned["time"])

    bundle = export / "tile/entries/000.p/40"
    data = bytearray(bundle.read_bytes())
    data[5] ^= 0x20
    bundle.write_bytes(bytes(data))
    code, out = kinko(ctx, "audit", "verify", str(export), *args)
    assert code == 1  # a failed verification still fails, and says so in the JSON
    failed = json.loads(out)
    assert failed["ok"] is False and failed["error"] == "integrity_failure"
    assert "entry 0" in failed["message"]

    code, out = kinko(ctx, "audit", "verify", str(tmp_path / "missing"), *args)
    assert code == 2
    assert json.loads(out)["error"] == "invalid_input"


def test_checkpoint_and_witness_cosign_json(ctx: Context, vkey: str, tmp_path: Path) -> None:
    fill(ctx, 12)
    code, out = kinko(ctx, "audit", "checkpoint", "--json")
    assert code == 0, out
    shown = json.loads(out)
    checkpoint = verify_checkpoint(shown["note"], vkey)
    assert (shown["origin"], shown["size"]) == (checkpoint.origin, 12)
    assert base64.b64decode(shown["root_hash"]) == checkpoint.root_hash
    code, out = kinko(ctx, "audit", "prove", "3", "--json")
    assert code == 0 and json.loads(out)["index"] == 3

    vkey_file = tmp_path / "log.vkey"
    vkey_file.write_text(vkey + "\n")
    export = tmp_path / "export"
    assert kinko(ctx, "audit", "export", str(export))[0] == 0
    witness = tmp_path / "w1"
    init = ["audit", "witness", "init", "--name", "w1.example", "--out", str(witness)]
    assert kinko(ctx, *init)[0] == 0
    cosign = ["audit", "witness", "cosign", str(export), "--log-vkey", str(vkey_file)]
    cosign += ["--key", str(witness), "--state", str(tmp_path / "w1.state"), "--json"]
    code, out = kinko(ctx, *cosign)
    assert code == 0, out
    assert json.loads(out) == {
        "ok": True,
        "origin": checkpoint.origin,
        "size": 12,
        "previous_size": None,
    }
    code, out = kinko(ctx, *cosign[:-5], "--key", str(tmp_path / "nope"), *cosign[-3:])
    assert code == 2 and json.loads(out)["field"] == "key"
