"""What the withdrawal pages show beside a withdrawal (read-only): names for the ids (the
wallet's name, the destination's address-book label, people's usernames), the asset's
decimals for amounts in its units, and — for the person looking — whether they may
approve it, or the reason in words (the approval service's own answer,
`ApprovalService.refusal`, after the page's check of the permission in scope).

Names from custody (wallet names, address-book labels) are shown to those who may read
them in the API (``custody:read`` in scope); others see the ids. Whether someone may
approve is decided again by the approval service when they do (this only spares them a
button they could not use).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.api.scopes import Concern, Scopes
from kinko.context import Context
from kinko.identity.model import Principal
from kinko.store.tables.custody import AssetRow, WalletRow
from kinko.store.tables.identity import UserRow
from kinko.store.tables.policy import AddressBookEntryRow
from kinko.web.formatting import units
from kinko.withdrawals.approvals import ApprovalService
from kinko.withdrawals.records import WithdrawalView


@dataclass(frozen=True, slots=True)
class Facts:
    wallet_name: str | None
    eligible_roles: tuple[str, ...]
    decimals: int | None
    """Of the withdrawal's asset (None: not registered, amounts stay in base units)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Address-book labels by address (only for those who may read the address book)."""
    names: Mapping[str, str] = field(default_factory=dict)
    """Usernames by user id (requester, approvers)."""

    def amount(self, base_units: int | str | None) -> str | None:
        """`base_units` in the asset's units, or None where the decimals are unknown."""
        if base_units is None or self.decimals is None:
            return None
        return units(int(base_units), self.decimals)


def facts_of(ctx: Context, view: WithdrawalView, principal: Principal) -> Facts:
    with ctx.db.reading() as session:
        wallet = session.get(WalletRow, view.wallet_id)
        asset = session.execute(
            select(AssetRow).where(AssetRow.chain == view.chain, AssetRow.symbol == view.asset)
        ).scalar_one_or_none()
        custody = Scopes.within(principal, "custody:read", session)
        shows_names = principal.has("custody:read") and custody.sees(
            Concern(chain=view.chain, wallet=view.wallet_id)
        )
        labels = _labels(session, view) if shows_names else {}
        ids = {view.requester, *(str(a.get("approver", "")) for a in view.approvals)} - {""}
        names = {
            row.id: row.username
            for row in session.execute(select(UserRow).where(UserRow.id.in_(ids))).scalars()
        }
    return Facts(
        wallet_name=wallet.name if wallet is not None and shows_names else None,
        eligible_roles=tuple(wallet.eligible_roles) if wallet is not None else (),
        decimals=None if asset is None else asset.decimals,
        labels=labels,
        names=names,
    )


def amounts_of(ctx: Context, views: list[WithdrawalView]) -> dict[str, str]:
    """Each withdrawal's amount in its asset's units, by id (those whose asset has no
    registered decimals are left out: shown in base units only)."""
    with ctx.db.reading() as session:
        decimals = {
            (row.chain, row.symbol): row.decimals
            for row in session.execute(select(AssetRow)).scalars()
        }
    return {
        v.id: units(v.amount, decimals[(v.chain, v.asset)])
        for v in views
        if (v.chain, v.asset) in decimals
    }


def _labels(session: Session, view: WithdrawalView) -> dict[str, str]:
    addresses = {view.destination}
    if view.intent:
        addresses.add(str(view.intent.get("destination", "")))
    rows = session.execute(
        select(AddressBookEntryRow).where(
            AddressBookEntryRow.chain == view.chain,
            AddressBookEntryRow.address.in_(sorted(addresses - {""})),
        )
    ).scalars()
    return {row.address: row.label for row in rows}


def page_refusal(view: WithdrawalView, principal: Principal) -> str | None:
    """What only the page checks before asking the approval service (`ApprovalService.refusal`,
    the one source of the approval rules): an approval is a person's, with
    ``withdrawals:approve`` for this asset and wallet (None: ask the service)."""
    if principal.kind != "user":
        return "an approval is a person's, with their own security key."
    if not principal.allows("withdrawals:approve", asset=view.asset, wallet=view.wallet_id):
        return f"you do not hold withdrawals:approve for {view.asset} from wallet {view.wallet_id}."
    return None


def refusal(
    approvals: ApprovalService, session: Session, view: WithdrawalView, principal: Principal
) -> str | None:
    """Why `principal` may not approve `view` now, in words (None: they may): the page's own
    checks, then the approval service's (state, expiry, four eyes, separation of duties),
    then whether there is a transaction to sign."""
    refused = page_refusal(view, principal) or approvals.refusal(
        session, view.id, approver=str(principal.subject)
    )
    if refused is None and view.digest is None:
        return "no transaction has been built for it yet, so there is nothing to sign."
    return refused
