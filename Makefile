# The two commands a newcomer needs: `make run` and `make test`. Both set themselves up.
VENV := .venv
PY := $(VENV)/bin/python
DATA_DIR ?= kinko-data
HOST ?=
PORT ?=
# Both cores by default; override with `make test WORKERS=1`.
WORKERS ?= 2

.PHONY: run test test-faketime lint typecheck check bench setup setup-run clean lock

setup:
	@bash scripts/bootstrap.sh all

setup-run:
	@bash scripts/bootstrap.sh run

# `make run PORT=8123 HOST=127.0.0.1`: where the demo serves (default: kinko.toml / KINKO_*, else 127.0.0.1:8000)
run: setup-run
	$(VENV)/bin/kinko --data-dir $(DATA_DIR) demo $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

test: setup
	@bash scripts/run-tests.sh -n $(WORKERS)

# The clock-sensitive tests with the machine's clock 400 days ahead (CI runs it after `make test`).
test-faketime: setup
	@bash scripts/run-faketime-tests.sh -n $(WORKERS)

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: setup
	$(VENV)/bin/mypy

check: lint typecheck test

bench: setup
	$(PY) -m bench

lock:
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev -p 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
