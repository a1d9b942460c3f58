"""Inspection runs kept by the server (issue #17: self-inspection from the console and the
API) on both databases: a run asked for through the API is performed by the server and
its files kept; a download's SHA-256 is the digest its audit entry holds and
``kinko inspect verify`` passes on the downloaded files; a regulator (the auditor role)
reads and downloads but may not run; bad fields are named; the same run is not started
twice while one is in progress; a failed run says why; ``kinko inspect run`` keeps what
it writes; ``kinko inspect download`` fetches a kept report. Days derive from the real
time (tests/support/clock.py)."""

from __future__ import annotations

import hashlib
import json
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from kinko.context import Context
from kinko.core.errors import Conflict
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from kinko.inspection.evaluate import Period
from kinko.inspection.stored_runs import (
    FAILED_ACTION,
    MAX_RUNNING,
    REQUESTED,
    STALE_AFTER,
    RunRecords,
)
from kinko.server import create_app
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.inspection import InspectionRunRow, InspectionSnapshotRow
from tests.integration.inspection.test_runs import BAD_DAY, DAYS, END, record, vkey
from tests.support.cli_api import kinko, route_cli_to_api, session_of
from tests.support.clock import RUN_DAY
from tests.support.identity import bearer, make_user
from tests.unit.inspection.seed import snapshot

__all__ = ["vkey"]  # the fixture
PERIOD = {"from": DAYS[0].isoformat(), "to": END.isoformat()}


@pytest.fixture
def api(ctx: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> TestClient:
    """The app on `ctx`; the CLI's requests go to it too. People: carol the CISO, dave an
    auditor (a regulator is given this role), sam a CISO limited to BTC."""
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    make_user(ctx, "carol", [Role.CISO], with_authenticator=False)
    make_user(ctx, "dave", [Role.AUDITOR], with_authenticator=False)
    make_user(ctx, "sam", [RoleGrant(Role.CISO, assets=("bitcoin:BTC",))], with_authenticator=False)
    record(ctx, [snapshot(d, cold=94_900_000 if d == BAD_DAY else 97_000_000) for d in DAYS])
    return TestClient(create_app(ctx), base_url="https://x")


def as_(ctx: Context, name: str) -> dict[str, str]:
    return bearer(session_of(ctx, name))


def logged(ctx: Context, seq: int) -> dict[str, object]:
    with ctx.db.reading() as session:
        row = session.execute(select(AuditEntryRow).where(AuditEntryRow.seq == seq)).scalar_one()
    entry: dict[str, object] = json.loads(row.entry)
    return entry


def test_a_run_asked_for_through_the_api_is_kept_and_its_downloads_verify(
    ctx: Context, api: TestClient, vkey: str, tmp_path: Path
) -> None:
    carol = as_(ctx, "carol")
    asked = api.post(
        "/v1/inspection/runs", json={"framework": "jp", **PERIOD, "formats": ["pdf"]}, headers=carol
    )
    assert asked.status_code == 202, asked.text
    assert asked.json()["state"] == "running" and asked.json()["files"] == []
    run_id = asked.json()["id"]

    # The server performed it after answering (the test client waits for that).
    done = api.get(f"/v1/inspection/runs/{run_id}", headers=as_(ctx, "dave")).json()
    assert done["state"] == "done", done
    assert [f["kind"] for f in done["files"]] == ["json", "pdf", "sig", "proof"]
    assert done["summary"]["fail"] == 1 and done["formats"] == ["json", "pdf"]

    # Who ran what: the request and the run are both the CISO's in the audit log.
    entry = logged(ctx, done["audit_seq"])
    carol_id = f"user:{done['requested_by'].removeprefix('user:')}"
    assert entry["action"] == "inspection.run" and entry["actor"] == carol_id
    with ctx.db.reading() as session:
        requested = session.execute(
            select(AuditEntryRow).where(AuditEntryRow.action == REQUESTED)
        ).scalar_one()
    assert json.loads(requested.entry)["details"]["framework"] == "jp"
    assert requested.actor == carol_id and requested.subject == run_id

    # Downloads (the auditor's read): each with its media type and signed name.
    out = tmp_path / "downloaded"
    out.mkdir()
    files = {}
    for kind, media in (("json", "application/json"), ("pdf", "application/pdf"),
                        ("sig", "text/plain"), ("proof", "application/json")):  # fmt: skip
        got = api.get(f"/v1/inspection/runs/{run_id}/files/{kind}", headers=as_(ctx, "dave"))
        assert got.status_code == 200, got.text
        assert got.headers["content-type"].startswith(media)
        name = got.headers["content-disposition"].split('filename="')[1].rstrip('"')
        assert name.startswith(f"inspection-jp-{DAYS[0]}-{END}")
        (out / name).write_bytes(got.content)
        files[kind] = out / name
    details = entry["details"]
    assert isinstance(details, dict)
    assert hashlib.sha256(files["json"].read_bytes()).hexdigest() == details["digest"]
    assert files["pdf"].read_bytes().startswith(b"%PDF-")
    for kind in ("json", "pdf"):
        code, said = kinko(ctx, "inspect", "verify", str(files[kind]), "--vkey", vkey, "--json")
        assert code == 0, said
        assert json.loads(said)["digest"] == details["digest"]

    # The auditor's view: a regulator reads and downloads, and may not run.
    refused = api.post("/v1/inspection/runs", json={"framework": "kr"}, headers=as_(ctx, "dave"))
    assert refused.status_code == 403 and refused.json()["error"] == "missing_permission"
    assert api.get("/v1/inspection/runs/irun_nope", headers=carol).status_code == 404
    missing = api.get(f"/v1/inspection/runs/{run_id}/files/html", headers=carol)
    assert missing.status_code == 404  # html was not asked for
    listed = api.get("/v1/inspection/runs", headers=as_(ctx, "dave")).json()["runs"]
    assert [r["id"] for r in listed] == [run_id]


def test_bad_fields_are_named_and_scoped_grants_are_refused(ctx: Context, api: TestClient) -> None:
    carol = as_(ctx, "carol")
    later = (RUN_DAY + timedelta(days=2)).isoformat()
    for body, field in (
        ({"framework": "us"}, "framework"),
        ({"framework": "jp", "from": "2026-13-01"}, "from"),
        ({"framework": "jp", "to": later}, "to"),
        ({"framework": "jp", "from": END.isoformat(), "to": DAYS[0].isoformat()}, "to"),
        ({"framework": "jp", "formats": ["docx"]}, "formats"),
        ({"formats": ["pdf"]}, "framework"),
    ):
        answer = api.post("/v1/inspection/runs", json=body, headers=carol)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["field"] == field, (body, answer.json())
    with ctx.db.reading() as session:  # nothing was claimed
        assert session.execute(select(InspectionRunRow)).first() is None
    assert api.get("/v1/inspection/runs/x/files/docx", headers=carol).json()["field"] == "kind"

    sam = as_(ctx, "sam")  # inspection:run and :read limited to one asset
    scoped = api.post("/v1/inspection/runs", json={"framework": "jp", **PERIOD}, headers=sam)
    assert scoped.status_code == 403 and "every asset and wallet" in scoped.json()["message"]
    ran = api.post("/v1/inspection/runs", json={"framework": "jp", **PERIOD}, headers=carol)
    run_id = ran.json()["id"]
    download = api.get(f"/v1/inspection/runs/{run_id}/files/json", headers=sam)
    assert download.status_code == 403, download.text


def test_the_same_run_is_not_started_twice_and_an_abandoned_one_no_longer_blocks(
    ctx: Context, api: TestClient, vkey: str
) -> None:
    carol = as_(ctx, "carol")
    held = RunRecords(ctx).claim("jp", Period(DAYS[0], END), ("json",), actor="user:other")
    again = api.post("/v1/inspection/runs", json={"framework": "jp", **PERIOD}, headers=carol)
    assert again.status_code == 409, again.text
    assert again.json()["error"] == "run_in_progress" and held.id in again.json()["message"]
    other = api.post("/v1/inspection/runs", json={"framework": "kr", **PERIOD}, headers=carol)
    assert other.status_code == 202  # another framework runs

    with ctx.db.transaction() as session:  # its process stopped long ago
        session.execute(
            update(InspectionRunRow)
            .where(InspectionRunRow.id == held.id)
            .values(requested_at=ctx.clock.now() - STALE_AFTER - timedelta(minutes=1))
        )
    now = api.post("/v1/inspection/runs", json={"framework": "jp", **PERIOD}, headers=carol)
    assert now.status_code == 202, now.text
    abandoned = RunRecords(ctx).get(held.id)
    assert abandoned.state == "failed" and "abandoned" in (abandoned.error or "")
    assert RunRecords(ctx).get(now.json()["id"]).state == "done"


def test_a_failed_run_says_why_keeps_nothing_and_frees_its_period(
    ctx: Context, api: TestClient, vkey: str
) -> None:
    with ctx.db.transaction() as session:  # a stored snapshot altered after it was logged
        row = session.get(InspectionSnapshotRow, BAD_DAY.isoformat())
        assert row is not None
        row.document = zlib.compress(zlib.decompress(row.document).replace(b"9", b"8", 1))
    carol = as_(ctx, "carol")
    asked = api.post("/v1/inspection/runs", json={"framework": "jp", **PERIOD}, headers=carol)
    assert asked.status_code == 202
    failed = api.get(f"/v1/inspection/runs/{asked.json()['id']}", headers=carol).json()
    assert failed["state"] == "failed" and failed["files"] == []
    assert "does not match its digest" in failed["error"]
    with ctx.db.reading() as session:
        entry = session.execute(
            select(AuditEntryRow).where(AuditEntryRow.action == FAILED_ACTION)
        ).scalar_one()
    assert json.loads(entry.entry)["details"]["error"] == failed["error"]
    retried = api.post("/v1/inspection/runs", json={"framework": "jp", **PERIOD}, headers=carol)
    assert retried.status_code == 202  # the failure freed the period


def test_the_cli_run_is_kept_and_download_fetches_it_for_verify(
    ctx: Context, api: TestClient, vkey: str, tmp_path: Path
) -> None:
    args = ("inspect", "run", "--framework", "jp", "--from", PERIOD["from"], "--to",
            PERIOD["to"], "--format", "html", "--out", str(tmp_path / "cli"), "--json")  # fmt: skip
    held = RunRecords(ctx).claim("jp", Period(DAYS[0], END), ("json",), actor="user:other")
    code, out = kinko(ctx, *args)  # the console's run of the same period is in progress
    assert code == 2 and "already in progress" in out, out
    RunRecords(ctx).fail(held.id, "stopped for the test")
    code, out = kinko(ctx, *args)
    assert code == 0, out
    said = json.loads(out)
    kept = RunRecords(ctx).get(said["run"])
    assert kept.state == "done" and kept.digest == said["digest"]
    assert [f.kind for f in kept.files] == ["json", "html", "sig", "proof"]
    written = {Path(p).name: Path(p).read_bytes() for p in said["files"]}
    assert {f.name: f.digest for f in kept.files if f.kind in ("json", "html")} == {
        name: hashlib.sha256(data).hexdigest() for name, data in written.items()
    }

    into = tmp_path / "fetched"
    code, out = kinko(
        ctx, "inspect", "download", kept.id, "--format", "html", "--out", str(into), "--json",
        as_="dave",
    )  # fmt: skip
    assert code == 0, out
    paths = [Path(f["path"]) for f in json.loads(out)["files"]]
    assert [p.suffix for p in paths] == [".html", ".sig", ".proof"]
    assert paths[0].read_bytes() == written[paths[0].name]
    code, out = kinko(ctx, "inspect", "verify", str(paths[0]), "--vkey", vkey, "--json")
    assert code == 0, out

    code, out = kinko(ctx, "inspect", "download", "irun_nope", "--out", str(into), as_="dave")
    assert code == 2 and "no inspection run" in out
    code, out = kinko(ctx, "inspect", "download", kept.id, "--format", "doc", "--out", str(into))
    assert code == 2 and "--format" in out


def test_runs_at_once_are_bounded_whatever_their_framework_or_period(ctx: Context) -> None:
    """Each framework and period is its own key: without a bound, one request per day of
    the period would each take a worker thread and a core (every run scans its period)."""
    records = RunRecords(ctx)
    held = [
        records.claim("jp", Period(DAYS[0], END - timedelta(days=i)), ("json",), actor="user:c")
        for i in range(MAX_RUNNING)
    ]
    with pytest.raises(Conflict) as refused:
        records.claim("kr", Period(DAYS[0], END), ("json",), actor="user:c")
    assert refused.value.code == "runs_busy" and held[0].id in refused.value.message
    records.fail(held[0].id, "stopped")  # one finished: the next one runs
    assert records.claim("kr", Period(DAYS[0], END), ("json",), actor="user:c").state == "running"


def test_a_run_taken_over_as_abandoned_does_not_finish_as_done(ctx: Context) -> None:
    """The first process was only slow: when it finishes, the run it no longer holds stays
    failed (abandoned), and nothing of it is kept beside the run that took over."""
    records = RunRecords(ctx)
    slow = records.claim("jp", Period(DAYS[0], END), ("json",), actor="user:c")
    with ctx.db.transaction() as session:
        session.execute(
            update(InspectionRunRow)
            .where(InspectionRunRow.id == slow.id)
            .values(requested_at=ctx.clock.now() - STALE_AFTER - timedelta(minutes=1))
        )
    records.claim("jp", Period(DAYS[0], END), ("json",), actor="user:c")
    with pytest.raises(Conflict) as refused:
        records.finish(slow.id, {"r.json": b"{}"}, report="r.json", digest="00", audit_seq=1,
                       summary={})  # fmt: skip
    assert refused.value.code == "run_abandoned"
    after = records.get(slow.id)
    assert after.state == "failed" and after.files == () and "abandoned" in (after.error or "")
