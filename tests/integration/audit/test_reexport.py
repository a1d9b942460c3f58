"""`kinko audit export DIR` again into a directory a witness cosigned keeps the witness's
cosignatures (on the same checkpoint, or the earlier one under cosigned/); a directory where
they would be lost is refused before anything is written."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kinko.audit.checkpoint import verify_checkpoint
from kinko.audit.cosignature import add_signature, cosign, verify_cosignatures
from kinko.audit.note import Signer, Verifier, generate_signer, parse_note, sign_note
from kinko.cli.main import app
from kinko.context import Context
from tests.integration.audit.conftest import fill

runner = CliRunner()


def kinko(ctx: Context, *args: str) -> tuple[int, str]:
    env = {
        "KINKO_DATA_DIR": str(ctx.settings.data_dir),
        "KINKO_DATABASE_URL": ctx.settings.resolved_database_url,
        "KINKO_CONFIG": "",
    }
    result = runner.invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, " ".join(result.output.split())


class Witness:
    def __init__(self, ctx: Context, tmp_path: Path, vkey: str) -> None:
        self.ctx, self.key, self.state = ctx, tmp_path / "w1.key", tmp_path / "w1.state"
        self.log_vkey = tmp_path / "log.vkey"
        self.log_vkey.write_text(vkey + "\n", encoding="utf-8")
        code, out = kinko(
            ctx, "audit", "witness", "init", "--name", "w1.example", "--out", str(self.key)
        )
        assert code == 0, out
        self.verifier = Verifier.parse(Path(f"{self.key}.vkey").read_text(encoding="utf-8"))

    def cosign(self, export: Path) -> None:
        code, out = kinko(
            self.ctx, "audit", "witness", "cosign", str(export), "--log-vkey", str(self.log_vkey),
            "--key", str(self.key), "--state", str(self.state),
        )  # fmt: skip
        assert code == 0, out

    def verify(self, export: Path) -> tuple[int, str]:
        return kinko(
            self.ctx, "audit", "verify", str(export), "--vkey", str(self.log_vkey),
            "--witness", f"{self.key}.vkey",
        )  # fmt: skip

    def cosigned(self, note: str) -> bool:
        return bool(verify_cosignatures(note, [self.verifier], 1))


def test_reexport_keeps_the_cosignatures(ctx: Context, vkey: str, tmp_path: Path) -> None:
    witness = Witness(ctx, tmp_path, vkey)
    export = tmp_path / "export"
    fill(ctx, 30)
    assert kinko(ctx, "audit", "export", str(export))[0] == 0
    witness.cosign(export)
    assert witness.verify(export)[0] == 0

    # Nothing appended since: the same checkpoint, and the witness's line stays on it.
    code, out = kinko(ctx, "audit", "export", str(export))
    assert code == 0 and "kept the cosignatures of w1.example on this checkpoint" in out
    assert witness.cosigned((export / "checkpoint").read_text(encoding="utf-8"))
    assert witness.verify(export)[0] == 0

    # A newer checkpoint: the cosigned one is kept beside it, still verifying.
    fill(ctx, 10, start=30)
    code, out = kinko(ctx, "audit", "export", str(export))
    assert code == 0 and "earlier cosigned checkpoints are kept in" in out
    kept = (export / "cosigned" / "checkpoint.30").read_text(encoding="utf-8")
    assert verify_checkpoint(kept, vkey).size == 30 and witness.cosigned(kept)
    assert verify_checkpoint((export / "checkpoint").read_text(encoding="utf-8"), vkey).size == 40
    code, out = witness.verify(export)
    assert code == 1 and "cosigned by 0/1" in out  # until the witness sees the new one
    witness.cosign(export)
    assert witness.verify(export)[0] == 0
    code, out = kinko(ctx, "audit", "export", str(export))
    assert code == 0 and "kept the cosignatures of w1.example" in out


def test_a_directory_whose_cosignatures_would_be_lost_is_refused(
    ctx: Context, vkey: str, tmp_path: Path
) -> None:
    witness = Witness(ctx, tmp_path, vkey)
    export = tmp_path / "export"
    fill(ctx, 5)
    assert kinko(ctx, "audit", "export", str(export))[0] == 0
    witness.cosign(export)
    cosigned = (export / "checkpoint").read_text(encoding="utf-8")
    # Another log's cosigned checkpoint in the directory: refused, nothing written.
    skey, _ = generate_signer("other.example/log")
    other = sign_note("other.example/log\n99\n" + "A" * 43 + "=\n", Signer.parse(skey))
    witness_key = Signer.parse(witness.key.read_text(encoding="utf-8"))
    other = add_signature(other, cosign(parse_note(other), witness_key, 1_700_000_000))
    (export / "checkpoint").write_text(other, encoding="utf-8")
    before = sorted(p.name for p in export.rglob("*"))
    code, out = kinko(ctx, "audit", "export", str(export))
    assert code == 2 and "cosigned by w1.example for another log" in out, out
    assert sorted(p.name for p in export.rglob("*")) == before
    assert (export / "checkpoint").read_text(encoding="utf-8") == other
    # Not a checkpoint at all: refused too, rather than overwritten.
    (export / "checkpoint").write_text("not a note", encoding="utf-8")
    code, out = kinko(ctx, "audit", "export", str(export))
    assert code == 2 and "is not a checkpoint Kinko can read" in out, out
    # Back to this log's cosigned checkpoint: exported again, the cosignature kept.
    (export / "checkpoint").write_text(cosigned, encoding="utf-8")
    assert kinko(ctx, "audit", "export", str(export))[0] == 0
    assert witness.cosigned((export / "checkpoint").read_text(encoding="utf-8"))
