"""The console's four-eyes approval page (`kinko.web.approvals`), on both databases: the
second person sees what they approve and its digest, and a button; whoever may not
approve is told why, with no button (issue 13; issue 17's "never a form they cannot use")."""

from __future__ import annotations

import hashlib
import json

from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.identity.model import ProposalState
from kinko.identity.service import IdentityService
from tests.support.identity import make_user, person_headers
from tests.support.votes import vote_json


def test_the_page_shows_what_is_approved_or_why_not(ctx: Context, api: TestClient) -> None:
    _, ann_key = make_user(ctx, "ann", ["security_admin"])
    _, ben_key = make_user(ctx, "ben", ["security_admin"])
    carl, _ = make_user(ctx, "carl")
    assert ann_key is not None and ben_key is not None
    ann, ben = person_headers(ctx, "ann", ann_key), person_headers(ctx, "ben", ben_key)
    body = {"kind": "grant_role", "user_id": carl, "role": "approver", "reason": "new hire"}
    proposal = api.post("/v1/roles/proposals", json=body, headers=ann).json()["id"]
    page = f"/console/approvals/proposal/{proposal}"

    own = api.get(page, headers={**ann, "Accept": "text/html"})
    assert own.status_code == 200
    assert "You cannot approve this" in own.text and "cannot approve their own" in own.text
    assert "approve-button" not in own.text

    theirs = api.get(page, headers={**ben, "Accept": "text/html"})
    assert theirs.status_code == 200 and "approve-button" in theirs.text
    shown = theirs.text.split('<pre id="approval-content">')[1].split("</pre>")[0]
    content = json.loads(shown.replace("&#34;", '"').replace("&quot;", '"'))
    assert content["kind"] == "grant_role" and content["payload"]["user_id"] == carl
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(canonical).hexdigest()
    assert f'data-digest="{digest}"' in theirs.text  # what the step-up will commit to
    assert f'data-url="/v1/roles/proposals/{proposal}/approve"' in theirs.text
    # The page's digest is the challenge's: the script refuses a challenge for other content.
    vote = vote_json(ctx, api, ben, "proposal", proposal)
    approved = api.post(f"/v1/roles/proposals/{proposal}/approve", json=vote, headers=ben)
    assert approved.status_code == 200, approved.text
    with ctx.db.reading() as session:
        [done] = IdentityService(ctx).roles.list_proposals(session, ProposalState.APPROVED)
    assert done.id == proposal

    decided = api.get(page, headers={**ben, "Accept": "text/html"})
    assert "You cannot approve this" in decided.text and "approve-button" not in decided.text
    unknown = api.get("/console/approvals/withdrawal/x", headers={**ben, "Accept": "text/html"})
    assert unknown.status_code in (400, 422) and "approval kind" in unknown.text
