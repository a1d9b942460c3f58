"""The console's audit-log pages (issue #17): the entries newest first, by action, a page
at a time; an entry as it was hashed with its inclusion proof in the last signed
checkpoint, checked before it is called proven; an altered entry called altered; the
verifier key; and the same unscoped audit:read the API asks."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from kinko.audit.note import generate_signer
from kinko.context import Context
from kinko.core.secretfile import write_secret_file
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from kinko.identity.sessions import COOKIE_NAME
from kinko.server import create_app
from kinko.store.tables.audit import AuditEntryRow
from kinko.web.audit_pages import PAGE_SIZE
from tests.support.identity import make_user, sign_in

BROWSER = {"Accept": "text/html"}


def reader(ctx: Context, name: str, grant: Role | RoleGrant) -> TestClient:
    _, auth = make_user(ctx, name, [grant])
    assert auth is not None
    cookie, _ = sign_in(ctx, name, auth)
    return TestClient(create_app(ctx), cookies={COOKIE_NAME: cookie}, headers=BROWSER)


def append(ctx: Context, n: int, action: str = "test.thing") -> list[int]:
    with ctx.db.transaction() as session:
        return [
            ctx.audit.append(
                session, actor="user:x", action=action, subject=f"<s>{i}</s>", details={"i": i}
            ).seq
            for i in range(n)
        ]


def test_browse_filter_and_page(ctx: Context) -> None:
    client = reader(ctx, "aud", Role.AUDITOR)  # signing up and in are entries too
    things = append(ctx, PAGE_SIZE + 5)
    other = append(ctx, 1, action="test.other")[0]
    page = client.get("/console/audit")
    assert page.status_code == 200
    shown = [int(s) for s in re.findall(r'<a href="/console/audit/(\d+)">', page.text)]
    assert shown[0] == other and shown == sorted(shown, reverse=True)
    assert len(shown) == PAGE_SIZE and "&lt;s&gt;" in page.text
    older = re.search(r'id="older" href="([^"]+)"', page.text)
    assert older is not None
    rest = client.get(older.group(1).replace("&amp;", "&"))
    rest_seqs = [int(s) for s in re.findall(r'<a href="/console/audit/(\d+)">', rest.text)]
    assert rest_seqs and max(rest_seqs) < min(shown)
    only = client.get("/console/audit?action=test.other").text
    assert re.findall(r'<a href="/console/audit/(\d+)">', only) == [str(other)]
    assert str(things[0]) in client.get(f"/console/audit/{things[0]}").text


def test_an_entry_is_proven_only_once_checked(ctx: Context) -> None:
    key = ctx.settings.resolved_audit_key_path
    if not key.exists():
        write_secret_file(key, generate_signer(ctx.settings.audit_origin)[0].encode())
    (seq,) = append(ctx, 1)
    client = reader(ctx, "aud", Role.AUDITOR)
    before = client.get(f"/console/audit/{seq}").text
    assert 'id="proof-pending"' in before and "&lt;s&gt;0&lt;/s&gt;" in before
    with ctx.db.transaction() as session:
        ctx.audit.checkpoint(session)
    proven = client.get(f"/console/audit/{seq}").text
    assert 'id="proof-ok"' in proven, proven
    vkey = client.get("/console/audit/verifier-key")
    assert vkey.status_code == 200
    assert vkey.text.strip() == ctx.audit.signer().verifier().text()
    with ctx.db.transaction() as session:
        row = session.get(AuditEntryRow, seq)
        assert row is not None
        row.entry = row.entry.replace(b'"i":0', b'"i":1')
    altered = client.get(f"/console/audit/{seq}").text
    assert 'id="proof-ok"' not in altered and "it was altered" in altered


def test_entries_need_audit_read_for_everything(ctx: Context) -> None:
    (seq,) = append(ctx, 1)
    scoped = reader(ctx, "eth-aud", RoleGrant(Role.AUDITOR, assets=("ethereum:ETH",)))
    assert scoped.get("/console/audit").status_code == 403
    assert scoped.get(f"/console/audit/{seq}").status_code == 403
    nobody = reader(ctx, "nobody", RoleGrant(Role.REQUESTER))
    assert nobody.get("/console/audit").status_code == 403
    assert reader(ctx, "aud", Role.AUDITOR).get("/console/audit/999999").status_code == 404
