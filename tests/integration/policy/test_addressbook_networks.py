"""`kinko addressbook propose` and `POST /v1/addressbook/proposals` take Bitcoin addresses
of every network (regtest, testnet/signet, mainnet), store each in its own network's
canonical form, and refuse garbage naming the field."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.core.errors import InputError
from kinko.custody.model import Tier
from kinko.policy.model import OwnerKind
from kinko.server import create_app
from tests.integration.policy.test_cli import approve, kinko, staff
from tests.support.addressbook import approve_entry, propose_entry
from tests.support.identity import bearer, make_token
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MAINNET = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
TESTNET = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
REGTEST = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
__all__ = ["staff"]  # the CLI test's users, as a fixture here


def test_service_keeps_one_entry_per_network_for_one_program(ctx: Context) -> None:
    book = services_of(ctx).address_book
    for address in (MAINNET.upper(), TESTNET, REGTEST.upper()):
        proposal = propose_entry(
            ctx,
            address,
            chain="bitcoin",
            label="same program",
            owner_kind=OwnerKind.PARTNER,
            tiers=[Tier.COLD],
        )
        with ctx.db.transaction() as s:
            found = book.proposal(s, proposal)
        # never a "change" of another network's entry
        assert found is not None and found.action == "add"
        approve_entry(ctx, proposal)
    with ctx.db.transaction() as s:
        stored = sorted(e.address for e in book.entries(s))
        assert stored == sorted([MAINNET, TESTNET, REGTEST])
        assert book.lookup(s, "bitcoin", REGTEST) is not None
        book.remove(s, chain="bitcoin", address=REGTEST, actor="u_alice", reason="closed")
        assert book.lookup(s, "bitcoin", REGTEST) is None
        assert book.lookup(s, "bitcoin", MAINNET) is not None  # untouched
    with pytest.raises(InputError) as err:
        propose_entry(ctx, "bcrt1qnotanaddress", chain="bitcoin", label="typo")
    assert err.value.field == "address"


@pytest.mark.usefixtures("staff")
def test_cli_proposes_a_regtest_address_and_refuses_garbage(ctx: Context) -> None:
    base = ["addressbook", "propose", "--chain", "bitcoin", "--label", "regtest customer"]
    rest = ["--owner", "customer_verified", "--tier", "cold"]
    code, out = kinko(ctx, *base, "--address", REGTEST.upper(), *rest, as_="both")
    assert code == 0 and "add proposal prp_" in out and REGTEST in out, out
    proposal_id = re.search(r"prp_[0-9a-z]+", out).group(0)  # type: ignore[union-attr]
    code, out = approve(ctx, "addressbook", proposal_id, as_="senior")
    assert code == 0 and f"approved {REGTEST}" in out, out
    listed = json.loads(kinko(ctx, "addressbook", "list", "--json")[1])
    assert [(e["chain"], e["address"]) for e in listed["entries"]] == [("bitcoin", REGTEST)]
    code, out = kinko(ctx, *base, "--address", "bcrt1-not-an-address", *rest, as_="both")
    assert code == 2 and "address:" in out, out


def test_api_proposes_a_regtest_address_and_refuses_garbage(ctx: Context) -> None:
    api = TestClient(create_app(ctx), base_url="https://testserver")
    proposer = make_token(ctx, roles_or_permissions=["addressbook:propose"])
    body = {
        "chain": "bitcoin",
        "address": REGTEST.upper(),
        "label": "regtest customer",
        "owner_kind": "customer_verified",
        "tiers": ["cold"],
    }
    made = api.post("/v1/addressbook/proposals", json=body, headers=bearer(proposer))
    assert made.status_code == 201, made.text
    assert made.json()["address"] == REGTEST
    for garbage in ("hello", "LaMT348PWRnrqeeWArpwQPbuanpXDZGEUz", REGTEST[:-1] + "q"):
        bad = api.post(
            "/v1/addressbook/proposals",
            json={**body, "address": garbage},
            headers=bearer(proposer),
        )
        assert (bad.status_code, bad.json()["field"]) == (422, "address"), bad.text
