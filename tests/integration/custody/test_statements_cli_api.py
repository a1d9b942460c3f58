"""`kinko liabilities ...` and /v1/custody/statements, on both databases: an operator imports
through the API with their own session; reads, scopes and refusals."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kinko.context import Context
from kinko.server import create_app
from kinko.store.tables.liabilities import LiabilityStatementRow
from tests.integration.custody.exchange import BTC, ETH, set_up
from tests.support.cli_api import kinko, route_cli_to_api
from tests.support.identity import bearer, make_token, make_user

ROWS = (
    "account,asset,base_units\nacct-1,bitcoin:BTC,5\nacct-1,ethereum:ETH,7\nacct-2,bitcoin:BTC,3\n"
)


@pytest.fixture(autouse=True)
def people(ctx: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    set_up(ctx)
    make_user(ctx, "ops", ["operator"], with_authenticator=False)
    make_user(ctx, "req", ["requester"], with_authenticator=False)


def _cut_off(ctx: Context, hours: int = 1) -> str:
    return (ctx.clock.now() - timedelta(hours=hours)).astimezone(UTC).isoformat()


def _statements(ctx: Context) -> int:
    with ctx.db.reading() as s:
        return s.execute(select(func.count()).select_from(LiabilityStatementRow)).scalar_one()


def test_an_operator_imports_and_anyone_with_custody_read_reads(
    ctx: Context, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(ROWS)
    code, out = kinko(
        ctx, "liabilities", "import", str(ledger), "--as-of", _cut_off(ctx), "--json", as_="ops"
    )
    assert code == 0, out
    done = json.loads(out)
    assert done["imported_by"].startswith("user:") and done["source"] == "ledger.csv"
    assert done["totals"] == [
        {"asset": BTC, "base_units": "8", "holders": 2},
        {"asset": ETH, "base_units": "7", "holders": 1},
    ]
    code, out = kinko(ctx, "liabilities", "show", "--account", "acct-1", "--json")
    assert code == 0, out
    shown = json.loads(out)
    assert shown["id"] == done["id"]
    assert shown["account"]["balances"] == [
        {"asset": BTC, "base_units": "5"},
        {"asset": ETH, "base_units": "7"},
    ]
    code, out = kinko(ctx, "liabilities", "list", "--json")
    assert code == 0 and [s["id"] for s in json.loads(out)["statements"]] == [done["id"]]
    code, out = kinko(ctx, "liabilities", "show", "--at", _cut_off(ctx, 2))
    assert code == 2 and "no liabilities statement at or before" in out
    # Not an operator: refused by the API, nothing kept.
    code, out = kinko(
        ctx, "liabilities", "import", str(ledger), "--as-of", _cut_off(ctx), as_="req"
    )
    assert code == 1 and "liabilities:import" in out
    # Bad input: exit 2 naming the field, nothing kept.
    ledger.write_text("account,asset,base_units\nacct-1,bitcoin:BTC,-5\n")
    code, out = kinko(
        ctx, "liabilities", "import", str(ledger), "--as-of", _cut_off(ctx), "--json", as_="ops"
    )
    assert code == 2, out
    assert "statement line 2: base_units" in out and "negative" in out
    future = (ctx.clock.now() + timedelta(days=1)).isoformat()
    code, out = kinko(ctx, "liabilities", "import", str(ledger), "--as-of", future, as_="ops")
    assert code == 2 and "as_of" in out and "future" in out
    assert _statements(ctx) == 1


def test_statements_hold_to_scopes(ctx: Context) -> None:
    """A statement spans every asset: importing one needs an unscoped grant; a reader
    limited to some assets sees only their totals, and no account's balances."""
    importer = make_token(ctx, roles_or_permissions=["liabilities:import"])
    btc_importer = make_token(ctx, roles_or_permissions=["liabilities:import"], assets=["BTC"])
    btc_reader = make_token(ctx, roles_or_permissions=["custody:read"], assets=["BTC"])
    reader = make_token(ctx, roles_or_permissions=["custody:read"])
    form = {"as_of": _cut_off(ctx)}
    upload = {"file": ("ledger.csv", ROWS.encode())}
    with TestClient(create_app(ctx), base_url="https://testserver") as api:
        path = "/v1/custody/statements"
        refused = api.post(path, data=form, files=upload, headers=bearer(btc_importer))
        assert refused.status_code == 403, refused.text
        done = api.post(path, data=form, files=upload, headers=bearer(importer))
        assert done.status_code == 201, done.text
        statement = done.json()["id"]
        again = api.post(path, data=form, files=upload, headers=bearer(importer))
        assert again.status_code == 409 and statement in again.json()["message"]
        seen = api.get(f"{path}/{statement}", headers=bearer(btc_reader)).json()
        assert [t["asset"] for t in seen["totals"]] == [BTC]
        listed = api.get(path, headers=bearer(btc_reader)).json()["statements"]
        assert [t["asset"] for t in listed[0]["totals"]] == [BTC]
        at = {"at": ctx.clock.now().isoformat(), "account": "acct-1"}
        assert api.get(f"{path}/at", params=at, headers=bearer(btc_reader)).status_code == 403
        whole = api.get(f"{path}/at", params=at, headers=bearer(reader)).json()
        assert whole["id"] == statement and len(whole["account"]["balances"]) == 2
        bad = api.get(f"{path}/at", params={"at": "yesterday"}, headers=bearer(reader))
        assert bad.status_code == 422 and bad.json()["field"] == "at"
        assert api.get(f"{path}/lst_none", headers=bearer(reader)).status_code == 404
        assert api.post(path, data=form, files=upload, headers=bearer(reader)).status_code == 403


def test_a_statement_larger_than_a_request_body_is_read_from_an_importer_only(
    ctx: Context,
) -> None:
    """Statements run to millions of rows: the 1 MiB body limit is lifted for a caller
    holding liabilities:import (checked before the body is read), for no one else."""
    body = "account,asset,base_units\n" + "".join(
        f"acct-{n:07d},{BTC},{n + 1}\n" for n in range(50_000)
    )
    assert len(body) > ctx.settings.max_request_bytes
    form = {"as_of": _cut_off(ctx)}
    upload = {"file": ("big.csv", body.encode())}
    reader = make_token(ctx, roles_or_permissions=["custody:read"])
    importer = make_token(ctx, roles_or_permissions=["liabilities:import"])
    with TestClient(create_app(ctx), base_url="https://testserver") as api:
        path = "/v1/custody/statements"
        refused = api.post(path, data=form, files=upload, headers=bearer(reader))
        assert refused.status_code == 413, refused.text
        done = api.post(path, data=form, files=upload, headers=bearer(importer))
        assert done.status_code == 201, done.text
    assert done.json()["holdings"] == 50_000
    assert done.json()["totals"] == [
        {"asset": BTC, "base_units": str(50_000 * 50_001 // 2), "holders": 50_000}
    ]


def test_a_time_at_the_edge_of_the_calendar_is_a_clear_422(ctx: Context) -> None:
    """A cut-off or `at` whose zone carries it past year 1 or 9999 names its field (it
    was a 500: the conversion to UTC overflowed)."""
    importer = make_token(ctx, roles_or_permissions=["liabilities:import"])
    reader = make_token(ctx, roles_or_permissions=["custody:read"])
    upload = {"file": ("ledger.csv", ROWS.encode())}
    path = "/v1/custody/statements"
    with TestClient(
        create_app(ctx), base_url="https://testserver", raise_server_exceptions=False
    ) as api:
        for edge in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
            done = api.post(path, data={"as_of": edge}, files=upload, headers=bearer(importer))
            assert (done.status_code, done.json().get("field")) == (422, "as_of"), done.text
            at = api.get(f"{path}/at", params={"at": edge}, headers=bearer(reader))
            assert (at.status_code, at.json().get("field")) == (422, "at"), at.text
    assert _statements(ctx) == 0
