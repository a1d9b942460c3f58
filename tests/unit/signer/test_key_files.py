"""Cosigner key files: hex secret keys (Ethereum) or BIP-32 extended private keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from embit import bip32
from embit.networks import NETWORKS

from kinko.core.errors import InputError
from kinko.signer.offline import read_key_file

ROOT = bip32.HDKey.from_seed(bytes(32), version=NETWORKS["test"]["xprv"])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "k.key"
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_hex_and_extended_private_keys(tmp_path: Path) -> None:
    assert read_key_file(write(tmp_path, "0x" + "01" * 32 + "\n")) == bytes([1]) * 32
    xprv = ROOT.to_base58(version=NETWORKS["test"]["xprv"])
    assert read_key_file(write(tmp_path, xprv + "\n")) == bytes(ROOT.serialize())


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("tprv" + "1" * 20, "no valid BIP-32"),
        (ROOT.to_public().to_base58(version=NETWORKS["test"]["xpub"]), "a public key"),
        ("ab" * 31, "holds 31 bytes"),
    ],
)
def test_bad_key_files_are_refused_naming_the_option(tmp_path: Path, text: str, why: str) -> None:
    with pytest.raises(InputError) as err:
        read_key_file(write(tmp_path, text))
    assert err.value.field == "--key"
    assert why in err.value.message
