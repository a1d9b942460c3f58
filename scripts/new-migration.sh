#!/usr/bin/env bash
# Autogenerate an Alembic migration from the tables against a scratch SQLite database
# upgraded to the current head. Review the generated file before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
msg=${1:?usage: scripts/new-migration.sh "what changed"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
.venv/bin/python - "$tmp/db.sqlite" "$msg" <<'PY'
import sys
from alembic import command
from sqlalchemy import create_engine
from kinko.store.migrate import alembic_config, upgrade

url = f"sqlite:///{sys.argv[1]}"
upgrade(create_engine(url))
command.revision(alembic_config(url), message=sys.argv[2], autogenerate=True)
PY
.venv/bin/ruff format -q src/kinko/store/migrations/versions
.venv/bin/ruff check -q --fix src/kinko/store/migrations/versions || true
