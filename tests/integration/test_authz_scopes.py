"""Asset and wallet scopes on every route, reads included (issue 13, point 3).

`ROUTES` classifies every route of `create_app(ctx)` that needs credentials: either the
test that proves a caller scoped to some assets or wallets sees and does only what its
scope allows there, or why the route carries no asset or wallet data. A route added
anywhere in Kinko fails `test_every_route_is_classified_for_scopes` until it is placed.
Credentials that name no one validly now (revoked, expired, IP-refused, suspended owners,
idle sessions) and shadowed routes are in tests/integration/test_authz_matrix.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from kinko.server import create_app
from tests.integration.custody.exchange import Wallets, set_up
from tests.integration.policy.support import COLD_ADDR
from tests.integration.test_authz_matrix import rules_of
from tests.support.identity import (
    bearer,
    make_token,
    make_user,
    owned_token,
    person_headers,
)
from tests.support.votes import vote_json

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
HERE = "tests/integration/test_authz_scopes.py"
MATRIX = "tests/integration/test_authz_matrix.py"
WD = "tests/integration/withdrawals/test_scopes.py"
CONSOLE = "tests/integration/withdrawals/test_console_scopes.py"
MONITOR = "tests/integration/monitor/test_alert_scopes.py"
BTC_ADDR = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
# Why a route carries no asset or wallet data (scopes do not apply to it).
PEOPLE = "-people, roles and sessions: identity data, not assets or wallets"
OWN = "-the caller's own session or tokens"
LISTS = "-screening lists and verdicts are global data, not a wallet's"
RULES = "-the monitor's rule pack, the same for everyone"
INGEST = "-events in: the ingest token writes, reads nothing back but its own alerts' ids"
POLICY = "-a policy text spans every asset; four eyes via roles:propose"

# The tests that prove a scoped caller sees and does only what its scope allows.
WD_CREATE = f"{WD}::test_a_requester_scoped_to_one_wallet_cannot_spend_from_another"
WD_LIST = f"{WD}::test_a_scoped_list_fills_its_limit_from_what_the_caller_may_read"
WD_ONE = f"{WD}::test_reads_and_approvals_hold_to_asset_and_wallet_scopes"
WD_CANCEL = "tests/integration/withdrawals/test_cancel.py::test_scopes_hold_on_cancel"
EVERYTHING = f"{HERE}::test_views_over_everything_need_an_unscoped_grant"
SETTLE = f"{CONSOLE}::test_settlement_steps_hold_to_the_withdrawal_scope"
PAGES = f"{CONSOLE}::test_console_shows_only_withdrawals_in_the_callers_scope"
CUSTODY = f"{MATRIX}::test_scopes_hold_on_custody_reads_and_writes"
KEYS = f"{HERE}::test_key_shares_hold_to_their_wallet"
STATEMENTS = "tests/integration/custody/test_statements_cli_api.py::test_statements_hold_to_scopes"
DELEGATIONS = (
    "tests/integration/custody/test_delegations_cli_api.py::test_delegations_hold_to_their_wallet"
)
FREEZES = f"{HERE}::test_freezes_hold_to_the_frozen_wallet_or_asset"
BOOK = f"{HERE}::test_address_book_holds_to_the_chains_of_the_callers_wallets"
ALERTS = f"{MONITOR}::test_alerts_hold_to_the_wallet_or_asset_they_are_about"
RELEASE = f"{MONITOR}::test_releasing_a_response_holds_to_what_it_froze"
REGISTER = (
    "tests/integration/inspection/test_register_api.py"
    "::test_bad_input_is_refused_naming_the_field"
)  # the governance register: changes need an unscoped register:write grant
READ_REGISTER = "-the governance register: organisation-wide records, no asset or wallet data"
WEB = "tests/integration/web"
ALERT_PAGES = f"{WEB}/test_alert_pages.py::test_readers_are_told_why_and_scopes_hold"
AUDIT_PAGES = f"{WEB}/test_audit_pages.py::test_entries_need_audit_read_for_everything"
WD_PAGES = f"{WEB}/test_withdrawal_pages.py::test_the_list_filters_and_holds_to_scope"
FREEZE_PAGES = (
    f"{WEB}/test_freezes_pages.py::test_freeze_then_propose_lifting_it_and_the_vote_is_linked"
)
BOOK_PAGES = (
    f"{WEB}/test_freezes_pages.py::test_propose_an_address_and_the_approval_is_identitys_page"
)
WALLET_PAGES = (
    f"{WEB}/test_wallets_pages.py::test_wallets_keys_and_the_cold_share_calculation_within_scope"
)
RUNS = "-self-inspection runs: organisation-wide findings, no asset or wallet data"
KEPT_RUNS = (
    "tests/integration/inspection/test_kept_runs.py"
    "::test_bad_fields_are_named_and_scoped_grants_are_refused"
)  # a run and its report span every asset and wallet: unscoped inspection:run / :read
KEPT_PAGES = (
    f"{WEB}/test_inspection_pages.py"
    "::test_a_refused_form_says_why_and_scoped_grants_run_and_download_nothing"
)

ROUTES: dict[str, str] = {
    # withdrawals (API)
    "POST /v1/withdrawals": WD_CREATE,
    "GET /v1/withdrawals": WD_LIST,
    "GET /v1/withdrawals/{withdrawal_id}": WD_ONE,
    "GET /v1/withdrawals/{withdrawal_id}/bundle": WD_ONE,
    "POST /v1/withdrawals/{withdrawal_id}/approval-challenge": WD_ONE,
    "POST /v1/withdrawals/{withdrawal_id}/approve": WD_ONE,
    "POST /v1/withdrawals/{withdrawal_id}/reject": WD_ONE,
    "POST /v1/withdrawals/{withdrawal_id}/execute": WD_ONE,
    "POST /v1/withdrawals/{withdrawal_id}/cancel": WD_CANCEL,
    "POST /v1/withdrawals/rebalance": SETTLE,
    "POST /v1/withdrawals/{withdrawal_id}/signed": SETTLE,
    "POST /v1/withdrawals/{withdrawal_id}/sent": SETTLE,
    "POST /v1/withdrawals/{withdrawal_id}/confirmed": SETTLE,
    # console pages
    "GET /console/": PAGES,
    "GET /console/withdrawals/{withdrawal_id}": PAGES,
    "GET /console/withdrawals": WD_PAGES,
    "GET /console/alerts": ALERT_PAGES,
    "GET /console/alerts/{alert_id}": ALERT_PAGES,
    "POST /console/alerts/{alert_id}/triage": ALERT_PAGES,
    "GET /console/audit": AUDIT_PAGES,  # entries shown whole: an unscoped audit:read only
    "GET /console/audit/{seq}": AUDIT_PAGES,
    "GET /console/approvals/{kind}/{subject}": BOOK,
    "GET /console/freezes": FREEZE_PAGES,
    "POST /console/freezes": FREEZE_PAGES,
    "POST /console/freezes/{freeze_id}/unfreeze": FREEZE_PAGES,
    "GET /console/proposals": FREEZE_PAGES,  # a freeze's or an entry's: in scope only
    "GET /console/address-book": BOOK_PAGES,
    "POST /console/address-book": BOOK_PAGES,
    "GET /console/wallets": WALLET_PAGES,
    "GET /console/screening": LISTS,
    "GET /console/screening/cases/{case_id}": LISTS,
    "POST /console/screening/cases/{case_id}/decide": LISTS,
    "GET /console/inspection": RUNS,
    "POST /console/logout": OWN,
    "GET /console/device": OWN,
    "POST /console/device/deny": OWN,
    # custody
    "GET /v1/custody/wallets": CUSTODY,
    "GET /v1/custody/liabilities": CUSTODY,
    "PUT /v1/custody/liabilities": CUSTODY,
    "GET /v1/custody/status": CUSTODY,
    "GET /v1/custody/rebalance": CUSTODY,
    "GET /v1/custody/keys": KEYS,
    "POST /v1/custody/keys": KEYS,
    "POST /v1/custody/keys/{share_id}/status": KEYS,
    "GET /v1/custody/delegations": DELEGATIONS,
    "POST /v1/custody/delegations": DELEGATIONS,
    "POST /v1/custody/delegations/{delegation_id}/revoke": DELEGATIONS,
    "POST /v1/custody/wallets/{wallet_id}/utxos": KEYS,
    "PUT /v1/custody/wallets/{wallet_id}/balances/{asset}": KEYS,
    "POST /v1/custody/assets": EVERYTHING,
    "POST /v1/custody/wallets": EVERYTHING,
    "POST /v1/custody/liabilities/import": EVERYTHING,
    "PUT /v1/custody/prices": EVERYTHING,
    "POST /v1/custody/snapshots": EVERYTHING,
    "POST /v1/custody/statements": STATEMENTS,
    "GET /v1/custody/statements": STATEMENTS,
    "GET /v1/custody/statements/at": STATEMENTS,
    "GET /v1/custody/statements/{statement_id}": STATEMENTS,
    # freezes and the address book
    "POST /v1/freezes": FREEZES,
    "GET /v1/freezes": FREEZES,
    "POST /v1/freezes/{freeze_id}/unfreeze": FREEZES,
    "POST /v1/unfreeze-proposals/{proposal_id}/approve": FREEZES,
    "GET /v1/addressbook": BOOK,
    "POST /v1/addressbook/proposals": BOOK,
    "POST /v1/addressbook/proposals/{proposal_id}/approve": BOOK,
    "POST /v1/addressbook/proposals/{proposal_id}/reject": BOOK,
    "POST /v1/addressbook/remove": BOOK,
    "POST /v1/policy/proposals": POLICY,
    # monitor
    "GET /v1/alerts": ALERTS,
    "GET /v1/alerts/{alert_id}": ALERTS,
    "POST /v1/alerts/{alert_id}/acknowledge": ALERTS,
    "POST /v1/alerts/{alert_id}/assign": ALERTS,
    "POST /v1/alerts/{alert_id}/close": ALERTS,
    "POST /v1/responses/{response_id}/release": RELEASE,
    "POST /v1/events": INGEST,
    "POST /v1/events/sources/{source}": INGEST,
    "GET /v1/monitor/rules": RULES,
    # screening
    "GET /v1/screening/lists": LISTS,
    "POST /v1/screening/lists": LISTS,
    "POST /v1/screening/address": LISTS,
    "POST /v1/screening/name": LISTS,
    "POST /v1/screening/rescreen": EVERYTHING,
    "GET /v1/screening/cases": LISTS,
    "GET /v1/screening/cases/{case_id}": LISTS,
    "POST /v1/screening/cases/{case_id}/decide": LISTS,
    # the governance register (self-inspection)
    "GET /v1/register/records": READ_REGISTER,
    "GET /v1/register/records/{kind}/{key:path}": READ_REGISTER,
    "GET /v1/register/attachments/{digest}": READ_REGISTER,
    "POST /v1/register/proposals": REGISTER,
    "POST /v1/register/attachments": REGISTER,
    # self-inspection runs kept by the server (#17): running and downloading need unscoped grants
    "POST /v1/inspection/runs": KEPT_RUNS,
    "GET /v1/inspection/runs": RUNS,
    "GET /v1/inspection/runs/{run_id}": RUNS,
    "GET /v1/inspection/runs/{run_id}/files/{kind}": KEPT_RUNS,
    "POST /console/inspection/runs": KEPT_PAGES,
    "GET /console/inspection/runs/{run_id}/{kind}": KEPT_PAGES,
    "GET /console/inspection/trend": RUNS,
    # audit: entries are evidence shown whole, never cut to a scope
    "GET /v1/audit/entries/{seq}": EVERYTHING,
}


def _classified(rules: list[Any]) -> dict[str, str]:
    """`ROUTES`, with people, roles, tokens, sign-in and device-flow routes (they carry no
    asset or wallet data) placed by their prefix."""
    out = dict(ROUTES)
    for rule in rules:
        key = f"{rule.method} {rule.path}"
        if key in out:
            continue
        if rule.path.startswith(("/v1/users", "/v1/roles", "/v1/auth/")):
            out[key] = PEOPLE
        elif rule.path.startswith(("/v1/tokens", "/console/tokens")):
            out[key] = OWN
    return out


def _proof_exists(target: str) -> bool:
    path, _, name = target.partition("::")
    file = Path(__file__).resolve().parents[2] / path
    return file.is_file() and f"def {name}(" in file.read_text()


def test_every_route_is_classified_for_scopes(ctx: Context) -> None:
    rules, problems = rules_of(create_app(ctx))
    assert problems == [], "\n".join(problems)
    guarded = [r for r in rules if r.rule != "public"]
    routes = _classified(guarded)
    keys = {f"{r.method} {r.path}" for r in guarded}
    missing = sorted(keys - routes.keys())
    assert missing == [], "classify these routes in ROUTES (a proving test or why not):\n" + (
        "\n".join(missing)
    )
    stale = sorted(routes.keys() - keys)
    assert stale == [], f"ROUTES names routes that do not exist: {stale}"
    unproven = sorted(
        f"{k} -> {v}" for k, v in routes.items() if not v.startswith("-") and not _proof_exists(v)
    )
    assert unproven == [], "\n".join(unproven)


@pytest.fixture
def wallets(ctx: Context) -> Wallets:
    return set_up(ctx)


@pytest.fixture
def api(ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(ctx), base_url="https://testserver") as client:
        yield client


def test_address_book_holds_to_the_chains_of_the_callers_wallets(
    ctx: Context, wallets: Wallets, api: TestClient
) -> None:
    proposer = make_token(ctx, roles_or_permissions=["addressbook:propose", "custody:read"])
    btc_only = make_token(
        ctx,
        roles_or_permissions=["addressbook:propose", "addressbook:approve", "custody:read"],
        assets=["BTC"],
    )
    _, auth = make_user(ctx, "btc-senior", [RoleGrant(Role.SENIOR_APPROVER, assets=("BTC",))])
    assert auth is not None
    btc_person = person_headers(ctx, "btc-senior", auth)
    _, auth = make_user(ctx, "senior", [Role.SENIOR_APPROVER])
    assert auth is not None
    anyone = person_headers(ctx, "senior", auth)

    def propose(chain: str, address: str, label: str, token: str) -> Any:
        body = {
            "chain": chain,
            "address": address,
            "label": label,
            "owner_kind": "own_wallet",
            "tiers": ["hot"],
        }
        return api.post("/v1/addressbook/proposals", json=body, headers=bearer(token))

    eth = propose("ethereum", COLD_ADDR, "eth-dest", proposer)
    btc = propose("bitcoin", BTC_ADDR, "btc-dest", proposer)
    assert eth.status_code == 201 and btc.status_code == 201, (eth.text, btc.text)
    assert propose("ethereum", COLD_ADDR, "mine", btc_only).status_code == 403
    # The console's approval page holds to the same scope as the approve route.
    page = "/console/approvals/proposal/{}"
    html = {**btc_person, "Accept": "text/html"}
    assert api.get(page.format(eth.json()["id"]), headers=html).status_code == 403
    shown = api.get(page.format(btc.json()["id"]), headers=html)
    assert shown.status_code == 200 and "approve-button" in shown.text, shown.text
    approve = "/v1/addressbook/proposals/{}/approve"
    refused = api.post(approve.format(eth.json()["id"]), headers=btc_person)
    assert refused.status_code == 403, refused.text
    reject = f"/v1/addressbook/proposals/{eth.json()['id']}/reject"
    assert api.post(reject, headers=bearer(btc_only)).status_code == 403
    # Nor through identity's own routes, where every proposal can be named: refusing is a
    # vote within the same scope, and approving goes to the entry's own route.
    refuse = f"/v1/roles/proposals/{eth.json()['id']}/refuse"
    refused = api.post(refuse, json={"reason": "not ours"}, headers=btc_person)
    assert refused.status_code == 403 and "ethereum" in refused.text, refused.text
    generic = api.post(f"/v1/roles/proposals/{eth.json()['id']}/approve", headers=anyone)
    assert generic.status_code == 422 and "/v1/addressbook/proposals/" in generic.text
    seen = api.get("/v1/addressbook", headers=bearer(btc_only)).json()
    assert [p["label"] for p in seen["proposals"]] == ["btc-dest"]
    # Identity's list of proposals holds to the same chains for a scoped reader.
    btc_reader = make_token(ctx, roles_or_permissions=["users:read"], assets=["BTC"])
    everyone = make_token(ctx, roles_or_permissions=["users:read"])
    for token, ids in (
        (btc_reader, [btc.json()["id"]]),
        (everyone, [eth.json()["id"], btc.json()["id"]]),
    ):
        listed = api.get("/v1/roles/proposals", params={"state": "pending"}, headers=bearer(token))
        assert sorted(p["id"] for p in listed.json()) == sorted(ids), listed.text
    for proposal, person in ((btc, btc_person), (eth, anyone)):
        pid = proposal.json()["id"]
        body = vote_json(ctx, api, person, "proposal", pid)
        assert api.post(approve.format(pid), json=body, headers=person).status_code == 200
    seen = api.get("/v1/addressbook", headers=bearer(btc_only)).json()
    assert [e["label"] for e in seen["entries"]] == ["btc-dest"] and seen["proposals"] == []
    every = api.get("/v1/addressbook", headers=bearer(proposer)).json()
    assert sorted(e["label"] for e in every["entries"]) == ["btc-dest", "eth-dest"]
    remove = {"chain": "ethereum", "address": COLD_ADDR, "reason": "not mine"}
    refused = api.post("/v1/addressbook/remove", json=remove, headers=bearer(btc_only))
    assert refused.status_code == 403, refused.text
    assert len(api.get("/v1/addressbook", headers=bearer(proposer)).json()["entries"]) == 2


def test_freezes_hold_to_the_frozen_wallet_or_asset(
    ctx: Context, wallets: Wallets, api: TestClient
) -> None:
    """A BTC-only token neither freezes nor sees an ETH wallet's freeze; lifting a freeze
    needs the same scope as setting it (tests/integration/test_authz_matrix.py has the
    wallet-scoped person)."""
    admin_id, admin_auth = make_user(ctx, "admin", [Role.SECURITY_ADMIN])
    _, other_auth = make_user(ctx, "admin2", [Role.SECURITY_ADMIN])
    btc_id, btc_auth = make_user(
        ctx, "btc-admin", [RoleGrant(Role.SECURITY_ADMIN, assets=("BTC",))]
    )
    assert admin_auth is not None and other_auth is not None and btc_auth is not None
    admin = owned_token(ctx, admin_id, ["freeze:set", "freeze:release"])
    reader = make_token(ctx, roles_or_permissions=["custody:read"])
    btc_only = make_token(ctx, roles_or_permissions=["freeze:set", "custody:read"], assets=["BTC"])
    btc_admin = owned_token(ctx, btc_id, ["freeze:set", "freeze:release"])

    def freeze(token: str, scope: str, target: str | None) -> Any:
        body = {"scope": scope, "target": target, "reason": "drill"}
        return api.post("/v1/freezes", json=body, headers=bearer(token))

    assert freeze(btc_only, "wallet", wallets.eth_hot).status_code == 403
    assert freeze(btc_only, "asset", "ethereum:ETH").status_code == 403
    mine = freeze(btc_only, "wallet", wallets.btc_hot)
    assert mine.status_code == 201, mine.text
    eth = freeze(admin, "wallet", wallets.eth_hot).json()["id"]
    seen = api.get("/v1/freezes", headers=bearer(btc_only)).json()["freezes"]
    assert [f["target"] for f in seen] == [wallets.btc_hot]
    assert len(api.get("/v1/freezes", headers=bearer(reader)).json()["freezes"]) == 2
    reason = {"reason": "resolved"}
    refused = api.post(f"/v1/freezes/{eth}/unfreeze", json=reason, headers=bearer(btc_admin))
    assert refused.status_code == 403, refused.text
    proposal = api.post(f"/v1/freezes/{eth}/unfreeze", json=reason, headers=bearer(admin))
    assert proposal.status_code == 201, proposal.text
    approve = f"/v1/unfreeze-proposals/{proposal.json()['id']}/approve"
    refused = api.post(approve, headers=person_headers(ctx, "btc-admin", btc_auth))
    assert refused.status_code == 403, refused.text
    assert len(api.get("/v1/freezes", headers=bearer(reader)).json()["freezes"]) == 2
    admin2 = person_headers(ctx, "admin2", other_auth)
    body = vote_json(ctx, api, admin2, "proposal", proposal.json()["id"])
    lifted = api.post(approve, json=body, headers=admin2)
    assert lifted.status_code == 200, lifted.text


def test_key_shares_hold_to_their_wallet(ctx: Context, wallets: Wallets, api: TestClient) -> None:
    """Key shares, balances and UTXOs belong to one wallet: a token limited to one asset
    reaches only the wallets holding it (a wallet id alone names no asset)."""
    writer = make_token(ctx, roles_or_permissions=["custody:write", "custody:read"])
    btc_only = make_token(
        ctx, roles_or_permissions=["custody:write", "custody:read"], assets=["BTC"]
    )
    eth_only = make_token(ctx, roles_or_permissions=["custody:write"], assets=["ETH"])

    holder, _ = make_user(ctx, "key-holder", with_authenticator=False)

    def share(token: str, wallet: str, n: int) -> Any:
        body = {
            "wallet_id": wallet,
            "holder": holder,
            "device": "hsm",
            "site": "tokyo",
            "legal_entity": "kinko-kk",
            "public_key": f"{n:064x}",
            "ceremony": {"performed_at": "2026-11-01", "witnesses": ["a", "b"], "procedure": "K"},
        }
        return api.post("/v1/custody/keys", json=body, headers=bearer(token))

    # A registration is a proposal (202) a second operator approves with their session.
    _, key = make_user(ctx, "key-approver", ["operator"])
    assert key is not None
    second = person_headers(ctx, "key-approver", key)

    def registered(proposed: Any) -> None:
        assert proposed.status_code == 202, proposed.text
        path = f"/v1/roles/proposals/{proposed.json()['id']}/approve"
        body = vote_json(ctx, api, second, "proposal", proposed.json()["id"])
        approval = api.post(path, json=body, headers=second)
        assert approval.status_code == 200 and approval.json()["state"] == "approved", approval.text

    refused = share(btc_only, wallets.eth_hot, 1)
    assert refused.status_code == 403, refused.text
    registered(share(writer, wallets.eth_hot, 2))
    registered(share(btc_only, wallets.btc_hot, 3))
    every = api.get("/v1/custody/keys", headers=bearer(writer)).json()
    eth_share, btc_share = (
        next(k["id"] for k in every if k["wallet_id"] == w)
        for w in (wallets.eth_hot, wallets.btc_hot)
    )
    listed = api.get("/v1/custody/keys", headers=bearer(btc_only)).json()
    assert [k["id"] for k in listed] == [btc_share]
    status = {"status": "revoked", "reason": "rotated"}
    path = f"/v1/custody/keys/{eth_share}/status"
    assert api.post(path, json=status, headers=bearer(btc_only)).status_code == 403
    balance = api.put(
        f"/v1/custody/wallets/{wallets.eth_hot}/balances/ethereum:ETH",
        json={"base_units": 1},
        headers=bearer(btc_only),
    )
    assert balance.status_code == 403, balance.text
    utxo = api.post(
        f"/v1/custody/wallets/{wallets.btc_hot}/utxos",
        json={"tx": "00", "vout": 0},
        headers=bearer(eth_only),
    )
    assert utxo.status_code == 403, utxo.text


def test_views_over_everything_need_an_unscoped_grant(ctx: Context, api: TestClient) -> None:
    """What spans every asset and wallet (new assets and wallets, prices, snapshots,
    liabilities files, a re-screen of every target, the audit log,
    whose entries are evidence shown whole) is refused to a caller limited to some (the
    rebalancing plan: tests/integration/withdrawals/test_console_scopes.py)."""
    scoped = {
        permission: make_token(ctx, roles_or_permissions=[permission], assets=["BTC"])
        for permission in ("custody:write", "screening:write", "audit:read")
    }
    compliance = make_token(ctx, roles_or_permissions=["screening:write"])
    auditor = make_token(ctx, roles_or_permissions=["audit:read"])
    for permission, method, path, body in (
        ("custody:write", "POST", "/v1/custody/assets", {}),
        ("custody:write", "POST", "/v1/custody/wallets", {}),
        ("custody:write", "POST", "/v1/custody/liabilities/import", None),
        ("custody:write", "PUT", "/v1/custody/prices", {}),
        ("custody:write", "POST", "/v1/custody/snapshots", {}),
        ("screening:write", "POST", "/v1/screening/rescreen", None),
        ("audit:read", "GET", "/v1/audit/entries/0", None),
    ):
        answer = api.request(method, path, json=body, headers=bearer(scoped[permission]))
        # 422: the body is checked before the handler's scope check (nothing is done).
        assert answer.status_code in (403, 422), (path, answer.text)
        if answer.status_code == 403:
            assert "every asset and wallet" in answer.json()["message"], (path, answer.text)
    assert (
        api.post("/v1/screening/rescreen", headers=bearer(scoped["screening:write"])).status_code
        == 403
    )
    assert api.get("/v1/audit/entries/0", headers=bearer(scoped["audit:read"])).status_code == 403
    assert api.post("/v1/screening/rescreen", headers=bearer(compliance)).status_code == 200
    assert api.get("/v1/audit/entries/0", headers=bearer(auditor)).status_code == 200
