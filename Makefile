# The two commands a newcomer needs: `make run` and `make test`. Both set themselves up.
VENV := .venv
PY := $(VENV)/bin/python
DATA_DIR ?= kinko-data
# Both cores by default; override with `make test WORKERS=1`.
WORKERS ?= 2

.PHONY: run test lint typecheck check bench setup setup-run clean lock

setup:
	@bash scripts/bootstrap.sh all

setup-run:
	@bash scripts/bootstrap.sh run

run: setup-run
	$(VENV)/bin/kinko --data-dir $(DATA_DIR) demo

test: setup
	@bash scripts/run-tests.sh -n $(WORKERS)

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
