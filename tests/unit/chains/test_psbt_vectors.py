"""BIP-174 PSBT test vectors: the valid parse, the invalid are refused with InputError."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from kinko.chains.bitcoin import psbt as psbtmod
from kinko.core.errors import InputError

VECTORS = json.loads((Path(__file__).parents[2] / "vectors" / "bip174_psbt.json").read_text())


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["case"][:40])
def test_valid_psbts_parse(vector: dict[str, Any]) -> None:
    parsed = psbtmod.parse(base64.b64decode(vector["base64"]))
    assert len(parsed.inputs) == len(parsed.tx.vin) >= 1


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["case"][:40])
def test_invalid_psbts_are_refused(vector: dict[str, Any]) -> None:
    with pytest.raises(InputError) as err:
        psbtmod.parse(base64.b64decode(vector["base64"]))
    assert err.value.field.startswith("psbt")


@pytest.mark.parametrize("payload", [b"", b"psbt", b"\x02\x00\x00\x00", b"psbt\xff\x00"])
def test_non_psbt_bytes_are_refused(payload: bytes) -> None:
    with pytest.raises(InputError) as err:
        psbtmod.parse(payload)
    assert err.value.field == "psbt"
