"""Custody's registrations wait for four eyes: an asset, a wallet, a key share, a
delegation of a legal entity's signing.

No single person changes the wallets, their quorums or the key inventory (issue 13): a
holder of ``custody:write`` proposes a registration through the identity proposal
mechanism (`RoleService.propose`, kinds ``register_asset``, ``register_wallet``,
``register_key_share``, ``register_delegation``; ``POST
/v1/custody/assets|wallets|keys|delegations`` answer 202 with the proposal), and a second,
different, active person holding ``custody:write`` or ``security_admin`` approves it
(``POST /v1/roles/proposals/ID/approve``, ``kinko role approve ID``; who is eligible:
`kinko.identity.rules.eligibility`). The holder of a key share approves nothing of their
own share.

`RegistrationHandler.check` validates the payload when it is proposed (the same checks
as the registration itself: bad input is refused naming the field, and nothing is
proposed); `apply` checks again and registers on approval (audited, with its
``custody.*.registered`` event naming the proposal and its proposer); `refuse` leaves
nothing registered. The composition root (kinko.services) gives identity one handler per
kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.amount import Asset
from kinko.core.errors import Conflict, InputError
from kinko.custody import delegations, keys, wallets
from kinko.identity.model import ProposalKind, ProposalState, UserId
from kinko.store.tables.identity import ProposalRow

EVENT_TYPE = "custody.proposal"
"""The event type these proposals are announced under (proposed/approved/refused)."""

_WALLET_TEXT = ("name", "chain", "network", "tier", "owner_class", "purpose")
_SHARE_TEXT = ("wallet_id", "holder", "device", "site", "legal_entity", "public_key")


def _text(payload: dict[str, Any], name: str, *, default: str | None = None) -> str:
    value = payload.get(name, default)
    if not isinstance(value, str) or not value.strip():
        raise InputError(name, "must be a non-empty string")
    return value


def _optional_text(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(name, "must be a string")
    return value


def _int(payload: dict[str, Any], name: str, *, optional: bool = False) -> int | None:
    value = payload.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(name, "must be an integer")
    return value


def _strings(payload: dict[str, Any], name: str) -> tuple[str, ...]:
    value = payload.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(name, "must be a list of strings")
    return tuple(value)


def parse_asset(payload: dict[str, Any]) -> Asset:
    decimals = _int(payload, "decimals")
    assert decimals is not None
    return Asset(
        _text(payload, "symbol"),
        _text(payload, "chain"),
        decimals,
        _optional_text(payload, "contract"),
    )


def parse_wallet(payload: dict[str, Any]) -> wallets.NewWallet:
    m, n = _int(payload, "quorum_m"), _int(payload, "quorum_n")
    assert m is not None and n is not None
    defaults = {"network": "mainnet", "purpose": "operational"}
    text = {name: _text(payload, name, default=defaults.get(name)) for name in _WALLET_TEXT}
    return wallets.NewWallet(
        name=text["name"],
        chain=text["chain"],
        network=text["network"],
        assets=_strings(payload, "assets"),
        tier=text["tier"],
        owner_class=text["owner_class"],
        purpose=text["purpose"],
        quorum_m=m,
        quorum_n=n,
        eligible_roles=_strings(payload, "eligible_roles"),
        address=_optional_text(payload, "address"),
        descriptor=_optional_text(payload, "descriptor"),
        cap_base_units=_int(payload, "cap_base_units", optional=True),
        floor_base_units=_int(payload, "floor_base_units", optional=True),
    )


def parse_share(payload: dict[str, Any]) -> keys.NewKeyShare:
    ceremony = payload.get("ceremony")
    if not isinstance(ceremony, dict):
        raise InputError("ceremony", "must be a JSON object")
    text = {name: _text(payload, name) for name in _SHARE_TEXT}
    return keys.NewKeyShare(
        text["wallet_id"],
        text["holder"],
        text["device"],
        text["site"],
        text["legal_entity"],
        text["public_key"],
        dict(ceremony),
    )


def _time(payload: dict[str, Any], name: str, *, default: datetime | None = None) -> datetime:
    raw = payload.get(name)
    if raw is None and default is not None:
        return default
    if not isinstance(raw, str):
        raise InputError(name, "must be an ISO 8601 time with a zone, e.g. 2027-01-31T00:00Z")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(name, f"{raw!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise InputError(name, "give a time zone, e.g. 2027-01-31T00:00:00+00:00")
    return value


def parse_delegation(payload: dict[str, Any], now: datetime) -> delegations.NewDelegation:
    """A delegation's payload; `starts_at` defaults to `now` (the proposal's time)."""
    return delegations.NewDelegation(
        _text(payload, "wallet_id"),
        _text(payload, "from_entity"),
        _text(payload, "to_entity"),
        _time(payload, "starts_at", default=now),
        _time(payload, "ends_at"),
    )


def delegation_payload(new: delegations.NewDelegation) -> dict[str, Any]:
    return {
        "wallet_id": new.wallet_id,
        "from_entity": new.from_entity,
        "to_entity": new.to_entity,
        "starts_at": new.starts_at.isoformat(),
        "ends_at": new.ends_at.isoformat(),
    }


def asset_payload(asset: Asset) -> dict[str, Any]:
    return {
        "symbol": asset.symbol,
        "chain": asset.chain,
        "decimals": asset.decimals,
        "contract": asset.contract,
        "asset_key": asset.key,
    }


def wallet_payload(spec: wallets.NewWallet) -> dict[str, Any]:
    return {
        "name": spec.name,
        "chain": spec.chain,
        "network": spec.network,
        "assets": list(spec.assets),
        "tier": spec.tier,
        "owner_class": spec.owner_class,
        "purpose": spec.purpose,
        "quorum_m": spec.quorum_m,
        "quorum_n": spec.quorum_n,
        "eligible_roles": list(spec.eligible_roles),
        "address": spec.address,
        "descriptor": spec.descriptor,
        "cap_base_units": spec.cap_base_units,
        "floor_base_units": spec.floor_base_units,
    }


def share_payload(share: keys.NewKeyShare) -> dict[str, Any]:
    return {
        "wallet_id": share.wallet_id,
        "holder": share.holder,
        "device": share.device,
        "site": share.site,
        "legal_entity": share.legal_entity,
        "public_key": share.public_key,
        "ceremony": dict(share.ceremony),
    }


class RegistrationHandler:
    """Checks, applies and refuses one kind of custody registration for the role service."""

    event_type = EVENT_TYPE

    def __init__(self, ctx: Context, kind: ProposalKind) -> None:
        self.ctx = ctx
        self.kind = kind

    def _pending(self, session: Session) -> Iterable[tuple[str, dict[str, Any]]]:
        """The pending, unexpired proposals of this kind: (id, payload)."""
        now = self.ctx.clock.now()
        rows = session.execute(
            select(ProposalRow).where(
                ProposalRow.kind == self.kind.value,
                ProposalRow.state == ProposalState.PENDING.value,
            )
        ).scalars()
        for row in rows:
            if row.expires_at is None or row.expires_at > now:
                yield row.id, dict(row.payload)

    def _clash(self, session: Session, same: Callable[[dict[str, Any]], str | None]) -> None:
        """Refuse a registration another pending proposal already makes."""
        for proposal_id, other in self._pending(session):
            what = same(other)
            if what is not None:
                raise Conflict(
                    f"{what} is already proposed ({proposal_id}); a second person approves "
                    f"it with 'kinko role approve {proposal_id}' or refuses it",
                    code="already_proposed",
                )

    def check(self, session: Session, payload: dict[str, Any]) -> dict[str, Any]:
        if self.kind == ProposalKind.REGISTER_ASSET:
            asset = parse_asset(payload)
            wallets.check_asset(session, asset)
            key = asset.key
            self._clash(session, lambda o: f"asset {key}" if o.get("asset_key") == key else None)
            return asset_payload(asset)
        if self.kind == ProposalKind.REGISTER_WALLET:
            spec = parse_wallet(payload)
            checked = wallets.check_wallet(session, spec)
            name = spec.name
            self._clash(
                session, lambda o: f"a wallet named {name!r}" if o.get("name") == name else None
            )
            out = wallet_payload(spec)
            out["address"] = checked.address  # as the chain adapter normalised it
            return out
        if self.kind == ProposalKind.REGISTER_DELEGATION:
            return self._check_delegation(session, payload)
        share = parse_share(payload)
        wallets_row = keys.check_share(session, share, self.ctx.clock.now())
        out = share_payload(share)

        def same(other: dict[str, Any]) -> str | None:
            if other.get("wallet_id") != share.wallet_id:
                return None
            for name in ("holder", "device", "public_key"):
                if other.get(name) == out[name]:
                    return f"a share of wallet {wallets_row.name} with this {name}"
            return None

        self._clash(session, same)
        return {**out, "wallet_name": wallets_row.name}

    def _check_delegation(self, session: Session, payload: dict[str, Any]) -> dict[str, Any]:
        now = self.ctx.clock.now()
        new = parse_delegation(payload, now)
        row = delegations.check_delegation(session, new, now)
        pair = (new.wallet_id, new.from_entity, new.to_entity)

        def same(other: dict[str, Any]) -> str | None:
            if (other.get("wallet_id"), other.get("from_entity"), other.get("to_entity")) == pair:
                return f"a delegation from {new.from_entity} to {new.to_entity} on {row.name}"
            return None

        self._clash(session, same)
        return {**delegation_payload(new), "wallet_name": row.name}

    def apply(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None:
        """Register what was proposed (every check again: things may have changed)."""
        row = session.get(ProposalRow, proposal_id)
        proposer = f"user:{row.proposer_id}" if row is not None else None
        how: dict[str, Any] = {
            "actor": f"user:{decided_by}",
            "proposal": proposal_id,
            "proposer": proposer,
        }
        if self.kind == ProposalKind.REGISTER_ASSET:
            wallets.store_asset(self.ctx, session, parse_asset(payload), **how)
        elif self.kind == ProposalKind.REGISTER_WALLET:
            wallets.store_wallet(self.ctx, session, parse_wallet(payload), **how)
        elif self.kind == ProposalKind.REGISTER_DELEGATION:
            new = parse_delegation(payload, self.ctx.clock.now())
            delegations.store_delegation(self.ctx, session, new, **how)
        else:
            keys.store_share(self.ctx, session, parse_share(payload), **how)

    def refuse(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None:
        return None  # nothing was stored before approval; the refusal is audited by identity


def registration_handlers(ctx: Context) -> dict[ProposalKind, Callable[[], RegistrationHandler]]:
    """One handler factory per custody kind, for the composition root."""
    return {
        kind: partial(RegistrationHandler, ctx, kind)
        for kind in (
            ProposalKind.REGISTER_ASSET,
            ProposalKind.REGISTER_WALLET,
            ProposalKind.REGISTER_KEY_SHARE,
            ProposalKind.REGISTER_DELEGATION,
        )
    }
