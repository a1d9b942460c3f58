"""The console's wallets-and-keys page (``/console/wallets``): the wallets the reader may
read (tier, quorum, eligible roles; ``custody:read`` for the wallet or its assets, as
``GET /v1/custody/wallets``), their key shares with holders, devices and sites (as
``GET /v1/custody/keys``), and the cold-share calculation behind the dashboard: every
check of each regime's custody status now, with its value, limit and margin (as
``GET /v1/custody/status``: ``custody:read`` for every asset and wallet). A regime whose
status cannot be computed (no prices, an unknown asset) says why and shows nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from kinko.api.auth import require
from kinko.api.deps import AppServices
from kinko.core.errors import KinkoError
from kinko.custody import holdings, keys, wallets
from kinko.custody.coldshare import CheckResult, Regime
from kinko.identity.model import Principal
from kinko.store.tables.custody import KeyShareRow, WalletRow
from kinko.web.console import render
from kinko.web.page_forms import usernames

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("custody:read"))]


@dataclass(frozen=True, slots=True)
class RegimeStatus:
    regime: str
    currency: str = ""
    checks: tuple[CheckResult, ...] = ()
    error: str | None = None


@router.get("/console/wallets", response_class=HTMLResponse)
def wallets_page(request: Request, principal: Reader, services: AppServices) -> HTMLResponse:
    ctx = services.ctx
    everything = principal.unscoped("custody:read")
    statuses: list[RegimeStatus] = []
    with ctx.db.reading() as session:
        shown: list[WalletRow] = [
            w
            for w in wallets.list_wallets(session)
            if principal.allows_any("custody:read", assets=w.assets, wallet=w.id)
        ]
        ids = {w.id for w in shown}
        shares: list[KeyShareRow] = [
            s for s in keys.shares(session) if everything or s.wallet_id in ids
        ]
        names = usernames(session, [s.holder for s in shares])
        if everything:
            today = ctx.clock.now().date()
            for regime in Regime:
                try:
                    status = holdings.custody_status(session, regime, today)
                except KinkoError as exc:
                    statuses.append(RegimeStatus(regime.value, error=exc.message))
                    continue
                statuses.append(RegimeStatus(regime.value, status.currency, status.checks))
        session.expunge_all()
    return render(
        request,
        "wallets.html",
        principal=principal,
        wallets=shown,
        shares=shares,
        names=names,
        statuses=statuses,
        everything=everything,
    )
