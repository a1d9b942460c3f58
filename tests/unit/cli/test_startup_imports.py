"""`kinko` starts light: each command imports only what it uses (issue #12, start-up).

Each probe runs the CLI in a fresh interpreter and reads `sys.modules` when it exits.
`kinko --help`, `kinko version` and `import kinko.cli.main` load none of the heavy
libraries (SQLAlchemy, FastAPI, web3/eth-*, embit, BDK, ...) nor Kinko's database layer;
`kinko audit verify` loads only the standard library, `cryptography`, the CLI framework
(typer and what it requires) and Kinko's own audit, core and CLI modules.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import typer.main
from packaging.requirements import Requirement
from typer.testing import CliRunner

from kinko.audit.checkpoint import Checkpoint, sign_checkpoint
from kinko.audit.note import Signer, generate_signer
from kinko.audit.tiles import TileWriter
from kinko.cli.main import COMMANDS, app, registered

# Top-level packages (and Kinko modules) no light command may load.
HEAVY = (
    "sqlalchemy",
    "fastapi",
    "starlette",
    "uvicorn",
    "web3",
    "eth_",  # eth_account, eth_abi, eth_utils, eth_keys, eth_hash, eth_typing, ...
    "embit",
    "bdkpython",
    "psycopg",
    "redis",
    "httpx",
    "kinko.context",
    "kinko.store",
    "kinko.config",
)

RUN_CLI = """
import atexit, json, sys
atexit.register(lambda: sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n"))
sys.argv = ["kinko", *sys.argv[1:]]
from kinko.cli.main import main
main()
"""

LOAD_EVERY_GROUP = """
import json, pkgutil, sys
import typer.main
import kinko.cli
from kinko.cli.main import COMMANDS, registered
for module in pkgutil.iter_modules(kinko.cli.__path__):
    __import__("kinko.cli." + module.name)
for target in {target for target, _ in COMMANDS.values() if target.startswith("kinko.cli.")}:
    typer.main.get_group(registered(target))  # what `kinko GROUP --help` builds
print(json.dumps(sorted(sys.modules)))
"""


def heavy_in(modules: list[str]) -> list[str]:
    return sorted(
        name
        for name in modules
        if any(
            name.startswith(h) if h.endswith("_") else (name == h or name.startswith(h + "."))
            for h in HEAVY
        )
    )


def run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, list[str]]:
    """Exit status, stdout and the modules loaded of `kinko ARGS` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", RUN_CLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    head, sep, tail = result.stderr.rpartition("\nMODULES ")
    assert sep, f"no module list; stderr: {result.stderr}"
    return result.returncode, result.stdout + head, json.loads(tail)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def framework_distributions(*roots: str) -> set[str]:
    """`roots` and everything they require here (no extras; markers evaluated)."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = _normalise(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        for text in importlib.metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def outside_verify_allowance(modules: list[str]) -> list[str]:
    """Modules `kinko audit verify` should not need."""
    baseline = set(
        json.loads(
            subprocess.run(
                [sys.executable, "-c", "import json, sys; print(json.dumps(list(sys.modules)))"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
    )
    # cryptography imports bcrypt itself when it is installed (its "ssh" extra; paramiko,
    # which compliance-trestle needs, installs it): part of cryptography, not Kinko's doing.
    allowed = framework_distributions("typer", "cryptography", "bcrypt")
    owners = importlib.metadata.packages_distributions()
    bad = []
    for name in modules:
        top = name.split(".")[0]
        if name in baseline or top in sys.stdlib_module_names or top.startswith("_sysconfigdata"):
            continue
        if top == "_openssl":  # registered by cryptography's Rust bindings
            continue
        if top == "kinko":
            if name == "kinko" or name.startswith(("kinko.cli", "kinko.audit", "kinko.core")):
                continue
            bad.append(name)
        elif not {_normalise(d) for d in owners.get(top, [])} & allowed:
            bad.append(name)
    return sorted(bad)


def small_export(root: Path, size: int = 40) -> tuple[Path, Path]:
    """A tlog-tiles export of `size` Kinko-shaped entries, written by Kinko's own writer."""
    skey, vkey = generate_signer("startup.example/log")
    entries = [
        f'{{"action":"test.entry","actor":"user:u1","sequence":{i},"subject":"s{i}"}}'.encode()
        for i in range(size)
    ]
    out = root / "export"
    writer = TileWriter(out)
    tree_root = writer.write_tiles(size, [entries])
    checkpoint = Checkpoint("startup.example/log", size, tree_root)
    writer.write_checkpoint(sign_checkpoint(checkpoint, Signer.parse(skey)))
    key_file = root / "log.vkey"
    key_file.write_text(vkey + "\n", encoding="utf-8")
    return out, key_file


def test_importing_the_cli_entry_point_loads_nothing_heavy() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, kinko.cli.main; print(json.dumps(list(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = json.loads(out.stdout)
    assert heavy_in(modules) == []
    assert "structlog" not in modules


def test_help_and_version_load_nothing_heavy() -> None:
    code, output, modules = run_cli("--help")
    assert code == 0 and "audit" in output and "withdraw" in output
    assert heavy_in(modules) == []
    assert "structlog" not in modules
    code, output, modules = run_cli("version")
    assert code == 0 and output.strip()
    assert heavy_in(modules) == []
    assert "structlog" not in modules


def test_audit_verify_loads_only_stdlib_cryptography_and_the_cli_framework(
    tmp_path: Path,
) -> None:
    export, vkey = small_export(tmp_path)
    code, output, modules = run_cli("audit", "verify", str(export), "--vkey", str(vkey))
    assert code == 0, output
    assert "OK: startup.example/log size 40" in output
    assert outside_verify_allowance(modules) == []


def test_the_verify_allowance_does_flag_the_database_layer(tmp_path: Path) -> None:
    export, vkey = small_export(tmp_path)
    _, _, light = run_cli("audit", "verify", str(export), "--vkey", str(vkey))
    assert outside_verify_allowance(light) == []
    # What `kinko audit checkpoint` loads (it opens the database) is refused.
    assert "sqlalchemy" in outside_verify_allowance([*light, "sqlalchemy", "sqlalchemy.orm"])
    assert "kinko.store" in outside_verify_allowance([*light, "kinko.store"])
    assert heavy_in(["eth_utils", "embit.bech32", "kinko.context"]) == [
        "embit.bech32",
        "eth_utils",
        "kinko.context",
    ]


def test_every_cli_module_and_group_loads_nothing_heavy() -> None:
    out = subprocess.run(
        [sys.executable, "-c", LOAD_EVERY_GROUP],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    modules = json.loads(out.stdout)
    assert heavy_in(modules) == []


def test_the_listing_names_exactly_what_each_module_registers() -> None:
    """`COMMANDS` (read by `kinko --help`) matches the commands' own names and help."""
    targets = {target for target, _ in COMMANDS.values()}
    for target in targets:
        group = typer.main.get_group(registered(target))
        listed = {name for name, (t, _) in COMMANDS.items() if t == target}
        assert set(group.commands) == listed, target
        for name, command in group.commands.items():
            first_paragraph = inspect.cleandoc(command.help or "").split("\n\n")[0]
            assert " ".join(first_paragraph.split()) == COMMANDS[name][1], name


def test_a_mistyped_command_is_suggested_from_every_name() -> None:
    result = CliRunner().invoke(app, ["withdarw"])
    assert result.exit_code == 2
    assert "Did you mean 'withdraw'?" in " ".join(result.output.split())
