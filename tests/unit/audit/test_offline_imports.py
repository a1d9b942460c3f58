"""The offline verifier's modules must import only the standard library and cryptography."""

from __future__ import annotations

import subprocess
import sys

OFFLINE = [
    "kinko.audit.merkle",
    "kinko.audit.memtree",
    "kinko.audit.note",
    "kinko.audit.checkpoint",
    "kinko.audit.cosignature",
    "kinko.audit.tiles",
    "kinko.audit.verify",
    "kinko.audit.witness",
]

PROBE = """
import sys
before = set(sys.modules)
for name in {modules!r}:
    __import__(name)
allowed_kinko = {{"kinko", "kinko.audit", "kinko.core", "kinko.core.errors"}}
bad = []
for name in sorted(set(sys.modules) - before):
    top = name.split(".")[0]
    # bcrypt: cryptography's serialization imports it itself when it is installed (its
    # "ssh" extra; compliance-trestle's paramiko installs it); nothing of ours uses it.
    third = {{"cryptography", "_cffi_backend", "_openssl", "bcrypt"}}
    if top in sys.stdlib_module_names or top in third:
        continue
    if name.startswith("kinko.audit.") and name in {modules!r}:
        continue
    if name in allowed_kinko:
        continue
    bad.append(name)
print(",".join(bad))
"""


def test_offline_modules_import_only_stdlib_and_cryptography() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(modules=OFFLINE)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "", f"offline modules pulled in: {out.stdout.strip()}"


def test_the_probe_does_flag_a_third_party_import() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(modules=["kinko.audit.merkle", "yaml"])],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "yaml" in out.stdout.strip().split(",")
