#!/usr/bin/env bash
# Set up everything Kinko's commands need on a fresh Debian machine with Python 3.11:
# system packages (PostgreSQL, Redis, libsecp256k1, Chromium, Pango and CJK fonts) and the locked
# virtualenv in .venv.
# Idempotent: re-running does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

want_system=${1:-all}   # "all" for tests, "run" for the demo only
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3

need=()
if [ "$want_system" = "all" ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  ldconfig -p 2>/dev/null | grep -q libsecp256k1 || need+=(libsecp256k1-1)
  # The browser test drives Debian's Chromium through Playwright (no browser download).
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  # `make test-faketime` runs the clock-sensitive tests a year ahead.
  command -v faketime >/dev/null 2>&1 || need+=(faketime)
fi
# Inspection reports: WeasyPrint lays the PDF out with Pango, in Noto CJK for the
# Japanese and Korean text (`kinko inspect run --format pdf`, `make run` and `make test`).
ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "bootstrap: installing system packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts a cluster and a redis service on install; the tests use their own.
fi

stamp=.venv/.kinko-lock.sha256
lock_sum=$(sha256sum requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  echo "bootstrap: creating .venv from requirements.lock"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check uv==0.13.9
  # uv writes no bytecode unless told: without it every `kinko` process recompiles what it
  # imports (and the environment may set PYTHONDONTWRITEBYTECODE, so it is never cached).
  .venv/bin/uv pip sync -q --compile-bytecode -p .venv/bin/python requirements.lock
  .venv/bin/uv pip install -q --compile-bytecode -p .venv/bin/python --no-deps -e .
  echo "$lock_sum" > "$stamp"
fi
# Kinko's own modules (an editable install): compileall skips what is already up to date.
.venv/bin/python -m compileall -q -j 0 src >/dev/null
