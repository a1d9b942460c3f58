"""The customer's verifier imports only the standard library and cryptography."""

from __future__ import annotations

import subprocess
import sys

from tests.unit.audit.test_offline_imports import PROBE

OFFLINE = [
    "kinko.reserves.sumtree",
    "kinko.reserves.roots",
    "kinko.reserves.verify",
    "kinko.reserves.binary",
]
ALLOWED = {
    "kinko.reserves",
    "kinko.reserves.ownership",
    "kinko.reserves.bip322",
    "kinko.reserves.secp256k1",
    "kinko.reserves.segwit",
    "kinko.reserves.ripemd160",
    "kinko.audit.merkle",
    "kinko.audit.note",
    "kinko.audit.checkpoint",
}


def _pulled_in(modules: list[str]) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(modules=modules)],
        capture_output=True,
        text=True,
        check=True,
    )
    return {name for name in out.stdout.strip().split(",") if name}


def test_the_verifier_imports_only_stdlib_cryptography_and_the_audit_verifier() -> None:
    assert _pulled_in(OFFLINE) - ALLOWED - set(OFFLINE) == set()


def test_the_probe_does_flag_a_third_party_import() -> None:
    assert "yaml" in _pulled_in([*OFFLINE, "yaml"])
