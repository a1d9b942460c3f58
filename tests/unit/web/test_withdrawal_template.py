"""The withdrawal page's template on its own: every red flag is said in its own words
(none falls through to the generic one), above the intent; a transaction that does not
match the request is called out; markup in any field stays text."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from eth_abi.abi import encode

from kinko.chains.ethereum.calldata import selector
from kinko.web.console import templates
from kinko.web.red_flags import RedFlag, red_flags
from kinko.web.withdrawal_facts import Facts
from kinko.withdrawals.records import WithdrawalView
from kinko.withdrawals.states import State

TOKEN = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
OTHER = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"
CODES = (
    "delegatecall",
    "upgrade",
    "owners",
    "modules",
    "approval",
    "approval_for_all",
    "unknown_call",
)


def view(intent: dict[str, Any], *, amount: int, reason: str | None = None) -> WithdrawalView:
    return WithdrawalView(
        id="wd_1",
        state=State.PENDING_APPROVAL,
        reason=reason,
        requester="usr_a",
        wallet_id="wal_eth_hot",
        chain="ethereum",
        network="devnet",
        asset="ETH",
        amount=amount,
        destination=OTHER,
        customer_ref=None,
        digest="ab" * 32,
        intent=intent,
        decision=None,
        approvals=(),
        expires_at=None,
        txid=None,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def page(wd: WithdrawalView, flags: list[RedFlag]) -> str:
    return templates.get_template("withdrawal_approval.html").render(
        principal=None,
        csrf_token="",
        csp_nonce="n",
        wd=wd,
        intent=wd.intent,
        facts=Facts(wallet_name="ETH hot", eligible_roles=("approver",), decimals=18),
        code="AB",
        flags=flags,
        decision={},
        refusal="you requested it.",
        can_approve=False,
        credentials=[],
        rp_id="localhost",
        demo_approve=False,
    )


def test_each_red_flag_has_its_own_words() -> None:
    sentences = set()
    for code in CODES:
        html = page(view({}, amount=1), [RedFlag(code, OTHER, "f(address)", ("why",))])
        item = re.search(r'<li class="flag-(\w+)">(.*?)</li>', html, re.S)
        assert item is not None and item.group(1) == code
        assert "A <strong>dangerous call</strong>" not in item.group(2), code
        assert "why" in item.group(2)
        sentences.add(re.sub(r"<[^>]+>", "", item.group(2)).strip())
    assert len(sentences) == len(CODES)


def test_an_approval_is_flagged_above_the_intent_and_a_mismatch_called_out() -> None:
    data = selector("approve(address,uint256)") + encode(["address", "uint256"], [OTHER, 5])
    intent = {
        "chain": "ethereum",
        "network": "devnet",
        "asset": "erc20:" + TOKEN,
        "destination": OTHER,
        "amount": "5",
        "fee": "21000",
        "call_kind": "token_approval",
        "details": {"to": TOKEN, "value": "0", "data": "0x" + data.hex()},
    }
    wd = view(intent, amount=10**18, reason="<script>alert(1)</script>")
    html = page(wd, red_flags(intent))
    assert html.index('id="red-flags"') < html.index('id="intent"')
    assert "token approval" in html and 'id="intent-differs"' in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert 'id="approval-refused"' in html and "data-approve" not in html
