"""What `kinko demo` leaves in its data directory so that every CLI command (and
`kinko serve`) on that directory behaves as the demo did, and what it remembers of its own
doings so that a re-run undoes only those.

- ``demo-policy.yaml``: the packaged sample policy with a one-second cooling-off for
  every tier and no business-hours window (the demo works at any hour, and its
  address-book entries are in force when it ends). ``kinko.toml`` names it as
  ``policy_path``, unless a policy is configured already.
- ``screening.toml``: the demo's stolen-funds list is the one required list (the real
  OFAC and UN lists are not loaded in a demo), unless the file exists already.
- ``demo-freezes.json``: the freezes the demo's own drill set and has not lifted yet. A
  re-run lifts those and never any other.
- ``demo-alice.token``: an API token of alice's own (she is the requester; it carries
  ``withdrawals:create`` and ``withdrawals:read``, 30 days), so that the CLI can act for
  her while the demo serves: ``KINKO_TOKEN=$(cat kinko-data/demo-alice.token) kinko
  withdraw request ...`` (docs/cli.md). Made again when it is missing or no longer works.

Demo only: never point a real exchange at these files.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from kinko.config import Settings
from kinko.core.secretfile import write_private

if TYPE_CHECKING:
    from kinko.identity.service import IdentityService

POLICY_FILE = "demo-policy.yaml"
CONFIG_FILE = "kinko.toml"
SCREENING_FILE = "screening.toml"
FREEZES_FILE = "demo-freezes.json"
TOKEN_FILE = "demo-alice.token"  # noqa: S105 - a file name
TOKEN_PERMISSIONS = ["withdrawals:create", "withdrawals:read"]
VERSION_SUFFIX = "-demo"
_POLICY_HEADER = """\
# Written by `kinko demo`: the packaged sample policy (kinko/policy/default_policy.yaml)
# with a one-second cooling-off for every tier and without the business-hours window, so
# that the demo works at any hour. Demo only: never use it for real funds.
"""


def demo_policy_text(base_text: str) -> str:
    """`base_text` (a policy YAML) relaxed for the demo; unchanged if it already is."""
    doc = yaml.safe_load(base_text)
    if str(doc["version"]).endswith(VERSION_SUFFIX):
        return base_text
    doc["version"] = f"{doc['version']}{VERSION_SUFFIX}"
    doc["cooling_off"] = dict.fromkeys(doc.get("cooling_off") or ("hot", "warm", "cold"), "1s")
    doc["rules"] = [r for r in doc["rules"] if r.get("kind") != "time_window"]
    return _POLICY_HEADER + yaml.safe_dump(doc, sort_keys=False)


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def persist_config(cfg: Settings) -> tuple[Settings, list[str]]:
    """Write the demo's policy and screening settings into the data directory (keeping any
    the user wrote) and return the settings to run with, and what was written."""
    data_dir = cfg.data_dir
    written: list[str] = []
    policy = data_dir / POLICY_FILE
    if not policy.exists():
        sample = resources.files("kinko.policy").joinpath("default_policy.yaml")
        write_private(policy, demo_policy_text(sample.read_text("utf-8")).encode())
        written.append(POLICY_FILE)
    config = data_dir / CONFIG_FILE
    if cfg.policy_path is None and not os.environ.get("KINKO_CONFIG"):
        line = f"policy_path = {_toml_string(str(policy.resolve()))}  # written by kinko demo\n"
        old = config.read_text(encoding="utf-8") if config.exists() else ""
        write_private(config, (line + old).encode())
        written.append(f"{CONFIG_FILE} (policy_path)")
        cfg = cfg.model_copy(update={"policy_path": policy.resolve()})
    screening = data_dir / SCREENING_FILE
    if not screening.exists():
        from kinko.demo.exchange import DEMO_LIST

        write_private(
            screening,
            (
                "# Written by `kinko demo`: screen against the demo's list only. A real exchange\n"
                '# requires "ofac-sdn" (and more): see docs/screening.md.\n'
                f"required_address_lists = [{_toml_string(DEMO_LIST)}]\n"
                f"required_name_lists = [{_toml_string(DEMO_LIST)}]\n"
            ).encode(),
        )
        written.append(SCREENING_FILE)
    return cfg, written


def own_freezes(data_dir: Path) -> list[str]:
    """Ids of the freezes the demo set and has not lifted yet."""
    path = data_dir / FREEZES_FILE
    if not path.exists():
        return []
    try:
        ids = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [str(i) for i in ids] if isinstance(ids, list) else []


def remember_freezes(data_dir: Path, ids: list[str]) -> None:
    """Record (before lifting them) the freezes the demo's drill set; [] forgets them."""
    path = data_dir / FREEZES_FILE
    if not ids:
        path.unlink(missing_ok=True)
        return
    write_private(path, json.dumps(sorted(set(ids))).encode())


def ensure_cli_token(ids: IdentityService, username: str = "alice") -> Path:
    """`username`'s own API token for the CLI in ``demo-alice.token`` (0600), made when the
    file is missing or its token no longer works (revoked, expired)."""
    from datetime import timedelta

    from kinko.core.errors import KinkoError
    from kinko.identity.model import UserId

    ctx = ids.ctx
    path = ctx.settings.data_dir / TOKEN_FILE
    if path.exists():
        try:
            with ctx.db.reading() as session:
                ids.tokens.lookup(session, path.read_text(encoding="utf-8").strip(), source_ip=None)
            return path
        except (KinkoError, OSError):
            pass  # made again below
    with ctx.db.transaction() as session:
        person = UserId(ids.users.require_user(session, username).id)
        terms = ids.tokens.terms(
            session,
            owner_id=person,
            name=f"demo: {username}'s CLI token",
            permissions=TOKEN_PERMISSIONS,
            ttl=timedelta(days=30),
        )
        _, token = ids.tokens.create_own(session, terms)
    write_private(path, (token + "\n").encode())
    return path
