"""Issue 13's insider against the wallets, quorums and key inventory, through the real API
on SQLite and PostgreSQL: an operator registers a "cold" wallet whose keys they hold (so
that funds rebalanced into it are theirs) and approves it alone. Every vote they cast is
refused with a stable code, the monitor alerts naming them (``kinko-insider-refused``),
and the wallet is not registered.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.custody import keys, wallets
from kinko.identity.model import UserId
from kinko.identity.softauthn import SoftAuthenticator
from tests.integration.custody.exchange import ETH_COLD, set_up
from tests.integration.insider.steps import Watch
from tests.support.identity import bearer, make_user, owned_token, person_headers

CEREMONY = {"performed_at": "2026-11-01", "witnesses": ["olga"], "procedure": "at home"}


def signed_in(ctx: Context, name: str, roles: list[str]) -> tuple[UserId, dict[str, str]]:
    user, key = make_user(ctx, name, roles)
    assert isinstance(key, SoftAuthenticator)
    return user, person_headers(ctx, name, key)


def approve(api: TestClient, proposal: str, headers: dict[str, str]) -> Any:
    return api.post(f"/v1/roles/proposals/{proposal}/approve", json={}, headers=headers)


def test_one_operator_cannot_register_a_cold_wallet_alone(
    ctx: Context, api: TestClient, watch: Watch
) -> None:
    set_up(ctx)
    olga, olga_session = signed_in(ctx, "olga", ["operator"])
    pal, pal_session = signed_in(ctx, "pal", ["requester"])  # her accomplice, no custody role
    body = {
        "name": "cold-olga",
        "chain": "ethereum",
        "assets": ["ethereum:ETH"],
        "tier": "cold",
        "owner_class": "customer",
        "purpose": "long_term_cold",
        "quorum_m": 1,
        "quorum_n": 1,
        "address": ETH_COLD,
    }
    proposed = api.post("/v1/custody/wallets", json=body, headers=olga_session)
    assert proposed.status_code == 202 and proposed.json()["state"] == "pending", proposed.text
    proposal = proposed.json()["id"]
    watch.quiet()  # proposing is allowed; it registers nothing
    # Her own vote, with her session and with her own API token; her accomplice's vote.
    watch.refused(approve(api, proposal, olga_session), 403, "self_approval", olga)
    token = bearer(owned_token(ctx, olga, ["custody:write"]))
    watch.refused(approve(api, proposal, token), 403, "person_required", olga)
    watch.refused(approve(api, proposal, pal_session), 403, "approver_ineligible", pal)
    with ctx.db.reading() as session:
        assert "cold-olga" not in {w.name for w in wallets.list_wallets(session)}


def test_the_holder_of_a_key_share_cannot_approve_it(
    ctx: Context, api: TestClient, watch: Watch
) -> None:
    """A second operator holding the share cannot be the second pair of eyes on it."""
    ids = set_up(ctx)
    _, olga_session = signed_in(ctx, "olga", ["operator"])
    oleg, oleg_session = signed_in(ctx, "oleg", ["operator"])
    share = {
        "wallet_id": ids.eth_cold,
        "holder": oleg,
        "device": "oleg-laptop",
        "site": "home",
        "legal_entity": "Kinko KK",
        "public_key": "02" + "33" * 32,
        "ceremony": CEREMONY,
    }
    proposed = api.post("/v1/custody/keys", json=share, headers=olga_session)
    assert proposed.status_code == 202, proposed.text
    watch.refused(approve(api, proposed.json()["id"], oleg_session), 403, "self_approval", oleg)
    with ctx.db.reading() as session:
        assert keys.shares(session, ids.eth_cold) == []
