"""Schema history is append-only: the migrations deployments were created with never
change; a schema change is a new Alembic revision on top of the last one
(docs/architecture.md, "Schema changes")."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

VERSIONS = Path(__file__).parents[3] / "src" / "kinko" / "store" / "migrations" / "versions"

# A revision joins this table once it has been released; its text is then fixed.
FROZEN = {
    "5ed2a2258c22_initial_schema.py": (
        "b93a8f69d6fee2c5ec6d6482048d0b53f4f2aa2566bd45276ec4242b7b6e1bc8"
    ),
}


def _revisions() -> dict[str, str | None]:
    """revision id -> down_revision, from each file's assignments."""
    found: dict[str, str | None] = {}
    for path in sorted(VERSIONS.glob("*.py")):
        values: dict[str, object] = {}
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name) and node.value is not None:
                        values[target.id] = ast.literal_eval(node.value)
        revision, down = values["revision"], values.get("down_revision")
        assert isinstance(revision, str), path
        assert down is None or isinstance(down, str), f"{path.name}: one parent only"
        found[revision] = down
    return found


def test_released_migrations_are_never_edited() -> None:
    for name, digest in FROZEN.items():
        actual = hashlib.sha256((VERSIONS / name).read_bytes()).hexdigest()
        assert actual == digest, (
            f"{name} changed: released migrations are frozen. Undo the edit and add a new "
            "revision on top (alembic revision -m '...' in src/kinko/store/migrations)"
        )


def test_the_history_is_one_line_from_the_initial_schema() -> None:
    revisions = _revisions()
    roots = [r for r, down in revisions.items() if down is None]
    assert roots == ["5ed2a2258c22"]
    children: dict[str, list[str]] = {}
    for revision, down in revisions.items():
        if down is not None:
            assert down in revisions, f"{revision} builds on unknown {down}"
            children.setdefault(down, []).append(revision)
    branched = {parent: kids for parent, kids in children.items() if len(kids) > 1}
    assert not branched, f"two revisions build on the same parent: {branched}"
