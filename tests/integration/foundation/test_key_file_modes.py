"""Private key files others may read are refused (exit 2) with the chmod to run; 0600 and
0400 are accepted. Key files are made as a user's umask 022 leaves them: 0644."""

from __future__ import annotations

from pathlib import Path

import pytest
from embit import bip32
from embit.networks import NETWORKS
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.core.secretfile import UnsafeKeyFile
from kinko.identity.secretbox import SecretBox
from kinko.signer.offline import read_key_file
from kinko.withdrawals.wiring import FileKeystore

runner = CliRunner()
XPRV = bip32.HDKey.from_seed(bytes(32), version=NETWORKS["test"]["xprv"]).to_base58(
    version=NETWORKS["test"]["xprv"]
)


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"KINKO_CONFIG": "", "KINKO_LOG_JSON": "false"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, " ".join(result.output.split())


def key_file(path: Path, text: str, mode: int) -> Path:
    path.write_text(text + "\n", encoding="ascii")
    path.chmod(mode)
    return path


def refused(out: str, path: Path, mode: str) -> bool:
    return f"its mode is {mode} (others may read it); run 'chmod 600 {path}'" in out


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_cosign_refuses_a_key_file_others_can_read(tmp_path: Path, mode: int) -> None:
    key = key_file(tmp_path / "holder.key", XPRV, mode)
    (tmp_path / "bundle.json").write_text("{}", encoding="utf-8")
    (tmp_path / "log.vkey").write_text("x+00000000+AA==\n", encoding="utf-8")
    code, out = invoke(
        "cosign",
        str(tmp_path / "bundle.json"),
        "--key",
        str(key),
        "--vkey",
        str(tmp_path / "log.vkey"),
    )
    assert code == 2, out
    assert refused(out, key, f"{mode:04o}"), out


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_owner_only_key_files_are_read(tmp_path: Path, mode: int) -> None:
    key = key_file(tmp_path / "holder.key", XPRV, mode)
    assert read_key_file(key)[:4] == bytes.fromhex("04358394")  # tprv
    secret = tmp_path / "secret.key"
    secret.write_bytes(bytes(32))
    secret.chmod(mode)
    SecretBox.from_file(secret)


def test_witness_cosign_refuses_a_key_file_others_can_read(tmp_path: Path) -> None:
    witness = tmp_path / "witness.key"
    code, out = invoke("audit", "witness", "init", "--name", "w1.example", "--out", str(witness))
    assert code == 0, out
    witness.chmod(0o644)
    code, out = invoke(
        "audit",
        "witness",
        "cosign",
        str(tmp_path),
        "--log-vkey",
        str(witness) + ".vkey",
        "--key",
        str(witness),
        "--state",
        str(tmp_path / "state"),
    )
    assert code == 2 and refused(out, witness, "0644"), out


def test_a_webhook_secret_others_can_read_is_refused(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("", encoding="utf-8")
    secret = key_file(tmp_path / "hook.secret", "s" * 32, 0o644)
    code, out = invoke(
        "monitor",
        "ingest",
        str(events),
        "--webhook",
        "https://example.com/hook",
        "--webhook-secret-file",
        str(secret),
    )
    assert code == 2 and refused(out, secret, "0644"), out


def test_the_audit_signing_key_others_can_read_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert invoke("init", "--data-dir", str(data))[0] == 0
    (data / "audit-log.key").chmod(0o644)
    code, out = invoke("--data-dir", str(data), "audit", "checkpoint")
    assert code == 2 and refused(out, data / "audit-log.key", "0644"), out
    (data / "audit-log.key").chmod(0o400)
    assert invoke("--data-dir", str(data), "audit", "checkpoint")[0] == 0


def test_the_secret_key_and_hot_wallet_keys_others_can_read_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.key"
    secret.write_bytes(bytes(32))
    secret.chmod(0o644)
    with pytest.raises(UnsafeKeyFile, match="chmod 600"):
        SecretBox.from_file(secret)
    keys = tmp_path / "keys"
    keys.mkdir()
    key_file(keys / "wal_eth_hot.key", "01" * 32, 0o644)
    with pytest.raises(UnsafeKeyFile, match="chmod 600"):
        FileKeystore(keys).key_for("wal_eth_hot")
    (keys / "wal_eth_hot.key").chmod(0o600)
    assert FileKeystore(keys).key_for("wal_eth_hot") == bytes([1]) * 32
