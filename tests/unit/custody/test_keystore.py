"""The scrypt + AES-GCM file keystore."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest

from kinko.core.errors import InputError, IntegrityError, NotFound
from kinko.custody.keystore import FileKeystore, Passphrase

SECRET = bytes(range(32))
GOOD = Passphrase(b"correct horse battery staple")


@pytest.fixture
def store(tmp_path: Path) -> FileKeystore:
    return FileKeystore(tmp_path / "keys", scrypt_n=2**10)


def test_round_trip_and_private_file_mode(store: FileKeystore) -> None:
    store.store("hot-eth-1", SECRET, GOOD)
    assert store.load("hot-eth-1", GOOD) == SECRET
    assert store.key_ids() == ["hot-eth-1"]
    path = store.directory / "hot-eth-1.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SECRET.hex() not in path.read_text()


def test_wrong_passphrase_and_tampering_are_refused(store: FileKeystore) -> None:
    store.store("k", SECRET, GOOD)
    with pytest.raises(IntegrityError, match="wrong passphrase"):
        store.load("k", Passphrase(b"not the passphrase at all"))
    path = store.directory / "k.json"
    doc = json.loads(path.read_text())
    doc["ciphertext"] = ("00" if doc["ciphertext"][:2] != "00" else "11") + doc["ciphertext"][2:]
    path.write_text(json.dumps(doc))
    with pytest.raises(IntegrityError, match="altered"):
        store.load("k", GOOD)


def test_a_file_copied_under_another_key_id_does_not_open(store: FileKeystore) -> None:
    store.store("a", SECRET, GOOD)
    (store.directory / "b.json").write_text((store.directory / "a.json").read_text())
    with pytest.raises(IntegrityError):
        store.load("b", GOOD)


def test_missing_key_existing_key_and_bad_ids(store: FileKeystore) -> None:
    with pytest.raises(NotFound):
        store.load("nope", GOOD)
    store.store("x", SECRET, GOOD)
    with pytest.raises(InputError, match="already exists"):
        store.store("x", SECRET, GOOD)
    with pytest.raises(InputError, match="key_id"):
        store.store("../etc/passwd", SECRET, GOOD)


def test_passphrase_sources_and_secrecy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("KINKO_TEST_PASSPHRASE", "from the environment 123")
    from_env = Passphrase.from_env("KINKO_TEST_PASSPHRASE")
    assert from_env.reveal() == b"from the environment 123"
    file = tmp_path / "pass.txt"
    file.write_bytes(b"from a file on disk\n")
    assert Passphrase.from_file(file).reveal() == b"from a file on disk"
    logging.getLogger("test").warning("passphrase is %s / %r", from_env, from_env)
    assert "environment" not in caplog.text and "***" in caplog.text
    with pytest.raises(InputError, match="KINKO_NOT_SET is not set"):
        Passphrase.from_env("KINKO_NOT_SET")
    with pytest.raises(InputError, match="cannot read"):
        Passphrase.from_file(tmp_path / "missing")
    with pytest.raises(InputError, match="at least 12"):
        Passphrase(b"short")


def test_ethereum_v3_keystore_round_trip_interoperates_with_eth_account(tmp_path: Path) -> None:
    from eth_account import Account

    from kinko.custody.keystore import EthereumV3Keystore

    store = EthereumV3Keystore(tmp_path / "v3", scrypt_n=2**10)
    store.store("hot-eth", SECRET, GOOD)
    path = tmp_path / "v3" / "hot-eth.v3.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert bytes(Account.decrypt(path.read_text(), GOOD.reveal().decode())) == SECRET
    assert store.load("hot-eth", GOOD) == SECRET and store.key_ids() == ["hot-eth"]
    with pytest.raises(IntegrityError, match="wrong passphrase"):
        store.load("hot-eth", Passphrase(b"definitely not it"))
    doc = json.loads(path.read_text())
    doc["address"] = "00" * 20
    path.write_text(json.dumps(doc))
    with pytest.raises(IntegrityError, match="another address"):
        store.load("hot-eth", GOOD)
