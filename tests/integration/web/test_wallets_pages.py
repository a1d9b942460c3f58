"""The console's wallets-and-keys page (issue #17): wallets with tier, quorum and eligible
roles, key shares with holders, devices and sites, within the reader's custody:read scope
(as GET /v1/custody/wallets and /keys); the cold-share calculation for an unscoped reader
only (as GET /v1/custody/status), each check as the custody status computes it."""

from __future__ import annotations

import re

from kinko.context import Context
from kinko.core.errors import KinkoError
from kinko.custody import holdings, keys
from kinko.custody.coldshare import Regime
from kinko.custody.keys import NewKeyShare
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from tests.integration.custody.exchange import ACTOR, fund, set_up
from tests.integration.web.people import forms_in, person
from tests.support.identity import make_user

CEREMONY = {
    "performed_at": "2026-11-01T10:00:00Z",
    "witnesses": ["u-aud", "u-ciso"],
    "procedure": "KGC-7 rev 3",
    "video": "vault://ceremony/2026-11-01",
}


def section(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}".*?</(section|table|p)>', html, re.S)
    assert found is not None, element_id
    return found.group(0)


def test_wallets_keys_and_the_cold_share_calculation_within_scope(ctx: Context) -> None:
    ids = set_up(ctx)
    fund(ctx, ids, btc_hot=10**7, btc_cold=9 * 10**8, eth_hot=10**18, eth_cold=9 * 10**18,
         eth_guarantee=10**18)  # fmt: skip
    holder, _ = make_user(ctx, "hana", with_authenticator=False)
    with ctx.db.transaction() as session:
        share = keys.unsafe_register_share(
            ctx,
            session,
            NewKeyShare(ids.btc_cold, holder, "hsm-7", "osaka-dc2", "Kinko KK", "02ab", CEREMONY),
            actor=ACTOR,
        )
    auditor, _ = person(ctx, "aud", [Role.AUDITOR])
    page = auditor.get("/console/wallets")
    assert page.status_code == 200 and forms_in(page.text) == []
    html = page.text
    cold = section(html, f"wallet-{ids.btc_cold}")
    assert "btc-cold" in cold and "cold" in cold and "2 / 3" in cold
    assert f"wallet-{ids.eth_hot}" in html
    row = section(html, f"share-{share}")
    assert "<strong>hana</strong>" in row and "hsm-7" in row and "osaka-dc2" in row
    with ctx.db.reading() as session:
        for regime in Regime:
            shown = section(html, f"regime-{regime.value}")
            try:
                status = holdings.custody_status(session, regime, ctx.clock.now().date())
            except KinkoError as exc:
                assert "Cannot be computed" in shown and exc.message in shown
                continue
            for check in status.checks:
                assert check.name in shown and str(check.value) in shown
                assert str(check.margin) in shown, check.name
    # a reader scoped to BTC: its wallets and shares only, and no cold-share calculation
    scoped, _ = person(ctx, "btc-approver", [RoleGrant(Role.APPROVER, assets=("bitcoin:BTC",))])
    html = scoped.get("/console/wallets").text
    assert f"wallet-{ids.btc_cold}" in html and f"wallet-{ids.eth_hot}" not in html
    assert f"share-{share}" in html
    assert 'id="cold-share-refused"' in html and 'id="regime-jp"' not in html
    eth_only, _ = person(ctx, "eth-approver", [RoleGrant(Role.APPROVER, assets=("ethereum:ETH",))])
    assert f"share-{share}" not in eth_only.get("/console/wallets").text
    nobody, _ = person(ctx, "nobody", [])  # no role: no custody:read
    assert nobody.get("/console/wallets").status_code == 403
