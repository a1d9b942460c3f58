#!/usr/bin/env bash
# The date guard: the tests that mix the suite's fixed clock with the real one (CLI commands,
# subprocesses, enrolment and token expiry, offline co-signing), run with the machine's clock
# 400 days ahead (Debian's libfaketime). A test that compares a date written into it with the
# real clock fails here long before the calendar catches up with it.
# The whole suite passes the same way: `faketime '+400 days' make test` (about twice as slow).
set -uo pipefail
cd "$(dirname "$0")/.."
command -v faketime >/dev/null 2>&1 || { echo "run-faketime-tests: faketime is not installed (apt-get install faketime)" >&2; exit 1; }
faketime '+400 days' bash scripts/run-tests.sh "$@" \
  tests/integration/identity \
  tests/integration/signer \
  tests/integration/withdrawals/test_totp_approval.py \
  tests/integration/withdrawals/test_cli.py \
  tests/integration/custody/test_cli_api.py \
  tests/integration/audit/test_cli_api.py \
  tests/integration/policy/test_cli.py \
  tests/integration/screening/test_cli_api.py \
  tests/e2e/test_demo.py \
  tests/e2e/test_newcomer.py \
  tests/e2e/test_cli_as_person.py
