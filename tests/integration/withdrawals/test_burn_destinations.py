"""A burn address is refused as a withdrawal's destination and as an address-book entry,
on both databases (issue #13, point 9: the zero address was accepted)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kinko.core.errors import InputError
from kinko.server import create_app
from kinko.withdrawals.service import WithdrawalRequest
from tests.integration.withdrawals.exchange import Exchange
from tests.support.addressbook import propose_entry
from tests.support.identity import bearer, make_token

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ZERO = "0x" + "00" * 20
DEAD = "0x000000000000000000000000000000000000dEaD"


@pytest.mark.parametrize("destination", [ZERO, DEAD, "0x" + "00" * 19 + "04"])
def test_a_withdrawal_to_a_burn_address_is_refused(exchange: Exchange, destination: str) -> None:
    ex = exchange
    with pytest.raises(InputError) as refused:
        ex.withdrawals.request(
            WithdrawalRequest(asset="ETH", amount="0.5", destination=destination),
            requester=ex.user("alice"),
            idempotency_key=f"k-burn-{destination}",
            channel="api",
        )
    assert refused.value.field == "destination"
    assert refused.value.code == "unspendable_destination"
    assert "lost for good" in refused.value.message
    assert ex.withdrawals.list() == []  # nothing recorded, nothing reserved


def test_the_api_answers_422_naming_the_field(exchange: Exchange) -> None:
    app = create_app(exchange.ctx, services=exchange.services)
    creator = make_token(exchange.ctx, roles_or_permissions=["withdrawals:create"])
    with TestClient(app) as client:
        answer = client.post(
            "/v1/withdrawals",
            json={"asset": "ETH", "amount": "0.5", "destination": ZERO},
            headers={**bearer(creator), "Idempotency-Key": "k-burn-api"},
        )
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert (body["error"], body["field"]) == ("unspendable_destination", "destination")
    assert "the zero address" in body["message"]


@pytest.mark.parametrize(
    ("chain", "address"),
    [("ethereum", ZERO), ("bitcoin", "1111111111111111111114oLvT2")],
)
def test_a_burn_address_never_enters_the_address_book(
    exchange: Exchange, chain: str, address: str
) -> None:
    with pytest.raises(InputError) as refused:
        propose_entry(exchange.ctx, address, chain=chain, label="burn")
    assert (refused.value.field, refused.value.code) == ("address", "unspendable_destination")
