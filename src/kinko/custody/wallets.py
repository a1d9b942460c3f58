"""The wallet and asset registry (service): register, list, validate against chains.

Registering an asset or a wallet (its tier, quorum, eligible roles) is a four-eyes
proposal (`kinko.custody.proposals`): `check_asset` / `check_wallet` validate it when it is
proposed and again when a second person approves it, and only then is it stored, audited
and published, once its transaction commits, as a ``custody.asset.registered`` /
``custody.wallet.registered`` security event. `unsafe_register_asset` /
`unsafe_register_wallet` skip the second person: the first setup (`kinko demo`) and test
fixtures only; no API route or command reaches them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.chains.bitcoin.networks import network as bitcoin_network
from kinko.chains.bitcoin.wallet import MultisigWallet
from kinko.chains.registry import get_adapter
from kinko.context import Context
from kinko.core.amount import Asset
from kinko.core.errors import Conflict, InputError, NotFound
from kinko.core.events import SecurityEvent
from kinko.core.ids import new_id
from kinko.custody.model import OwnerClass, Purpose, Tier, WalletId
from kinko.store.publish import publish_after_commit
from kinko.store.tables.custody import AssetRow, WalletRow

# stdlib logging: a broken log stream must not turn into an exception here.
log = logging.getLogger("kinko.custody")


def _enum(kind: type[Any], value: str, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise InputError(field, f"{value!r} is not one of {allowed}") from None


@dataclass(frozen=True, slots=True)
class NewWallet:
    name: str
    chain: str
    network: str
    assets: tuple[str, ...]  # asset keys "chain:SYMBOL"
    tier: str
    owner_class: str
    purpose: str
    quorum_m: int
    quorum_n: int
    eligible_roles: tuple[str, ...] = ()
    address: str | None = None
    descriptor: str | None = None
    cap_base_units: int | None = None
    floor_base_units: int | None = None


def check_asset(session: Session, asset: Asset) -> None:
    """Refuse an asset that is already registered."""
    exists = session.execute(
        select(AssetRow).where(AssetRow.chain == asset.chain, AssetRow.symbol == asset.symbol)
    ).scalar_one_or_none()
    if exists is not None:
        raise Conflict(f"asset {asset.key} is already registered")


def unsafe_register_asset(ctx: Context, session: Session, asset: Asset, *, actor: str) -> None:
    """UNSAFE: register an asset without a second person. First setup and tests only."""
    log.warning("unsafe asset registration (four eyes bypassed): %s by %s", asset.key, actor)
    store_asset(ctx, session, asset, actor=actor, unsafe=True)


def store_asset(
    ctx: Context,
    session: Session,
    asset: Asset,
    *,
    actor: str,
    proposal: str | None = None,
    proposer: str | None = None,
    unsafe: bool = False,
) -> None:
    """Check and store `asset`, audit and announce it: an approved proposal's last step."""
    check_asset(session, asset)
    session.add(
        AssetRow(
            chain=asset.chain, symbol=asset.symbol, decimals=asset.decimals, contract=asset.contract
        )
    )
    ctx.audit.append(
        session,
        actor=actor,
        action="custody.asset.register",
        subject=asset.key,
        details={
            "decimals": asset.decimals,
            "contract": asset.contract,
            **_how(proposal, proposer, unsafe),
        },
    )
    _publish(
        ctx,
        session,
        "custody.asset.registered",
        actor,
        asset=asset.symbol,
        fields={
            "asset_key": asset.key,
            "chain": asset.chain,
            "decimals": asset.decimals,
            "contract": asset.contract,
            **_how(proposal, proposer, unsafe),
        },
    )


def _how(proposal: str | None, proposer: str | None, unsafe: bool) -> dict[str, Any]:
    """How a registration came about: the proposal and its proposer, or unsafe."""
    if unsafe:
        return {"unsafe": True}
    return {"proposal": proposal, "proposer": proposer}


def assets(session: Session) -> dict[str, Asset]:
    rows = session.execute(select(AssetRow)).scalars()
    return {f"{r.chain}:{r.symbol}": Asset(r.symbol, r.chain, r.decimals, r.contract) for r in rows}


@dataclass(frozen=True, slots=True)
class CheckedWallet:
    """A wallet's fields as registration stores them."""

    tier: Tier
    owner: OwnerClass
    purpose: Purpose
    address: str | None


def check_wallet(session: Session, spec: NewWallet) -> CheckedWallet:
    """Validate every field (addresses through the chain adapter); refuse a name in use."""
    tier = _enum(Tier, spec.tier, "tier")
    owner = _enum(OwnerClass, spec.owner_class, "owner_class")
    purpose = _enum(Purpose, spec.purpose, "purpose")
    if not spec.name.strip():
        raise InputError("name", "must not be empty")
    if not 1 <= spec.quorum_m <= spec.quorum_n <= 15:
        raise InputError("quorum", f"{spec.quorum_m}-of-{spec.quorum_n} is not 1 <= m <= n <= 15")
    known = assets(session)
    for key in spec.assets:
        if key not in known:
            raise InputError("assets", f"unknown asset {key!r}; register it first")
        if known[key].chain != spec.chain:
            raise InputError("assets", f"{key} is not on chain {spec.chain}")
    if not spec.assets:
        raise InputError("assets", "name at least one asset")
    adapter = get_adapter(spec.chain, spec.network)
    address = adapter.normalize_address(spec.address) if spec.address else None
    if spec.chain == "bitcoin" and spec.descriptor:
        wallet = MultisigWallet.parse(spec.descriptor, bitcoin_network(spec.network))
        if wallet.threshold != spec.quorum_m or len(wallet.cosigners) != spec.quorum_n:
            raise InputError(
                "quorum",
                f"descriptor is {wallet.threshold}-of-{len(wallet.cosigners)}, "
                f"not {spec.quorum_m}-of-{spec.quorum_n}",
            )
        first = wallet.address(0, 0)
        if address is not None and address != first:
            raise InputError(
                "address",
                f"{address} is not the descriptor's first receive address (0/0: {first}); "
                "leave the address out (it is derived) or give that one — a proof of "
                "control of another address would prove nothing about these keys",
            )
        address = first
    for name in ("cap_base_units", "floor_base_units"):
        value = getattr(spec, name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise InputError(name, "must be a non-negative integer of base units")
    if (
        spec.cap_base_units is not None
        and spec.floor_base_units is not None
        and spec.floor_base_units > spec.cap_base_units
    ):
        raise InputError("floor_base_units", "must not exceed cap_base_units")
    for role in spec.eligible_roles:
        if not isinstance(role, str) or not role or len(role) > 64:
            raise InputError("eligible_roles", f"{role!r} is not a role name")
    if session.execute(select(WalletRow).where(WalletRow.name == spec.name)).first():
        raise Conflict(f"a wallet named {spec.name!r} already exists")
    return CheckedWallet(tier, owner, purpose, address)


def unsafe_register_wallet(
    ctx: Context, session: Session, spec: NewWallet, *, actor: str, wallet_id: str | None = None
) -> WalletId:
    """UNSAFE: register a wallet without a second person. First setup (`kinko demo`, whose
    wallets have fixed ids: `wallet_id`) and tests only."""
    log.warning(
        "unsafe wallet registration (four eyes bypassed): %s (%s, %s-of-%s) by %s",
        spec.name,
        spec.tier,
        spec.quorum_m,
        spec.quorum_n,
        actor,
    )
    return store_wallet(ctx, session, spec, actor=actor, unsafe=True, wallet_id=wallet_id)


def store_wallet(
    ctx: Context,
    session: Session,
    spec: NewWallet,
    *,
    actor: str,
    proposal: str | None = None,
    proposer: str | None = None,
    unsafe: bool = False,
    wallet_id: str | None = None,
) -> WalletId:
    """Check and store the wallet, audit and announce it: an approved proposal's last step."""
    checked = check_wallet(session, spec)
    tier, owner, purpose, address = (
        checked.tier,
        checked.owner,
        checked.purpose,
        checked.address,
    )
    new = WalletId(wallet_id or new_id("wal"))
    session.add(
        WalletRow(
            id=new,
            name=spec.name,
            chain=spec.chain,
            assets=list(spec.assets),
            tier=tier.value,
            owner_class=owner.value,
            purpose=purpose.value,
            quorum_m=spec.quorum_m,
            quorum_n=spec.quorum_n,
            eligible_roles=list(spec.eligible_roles),
            address=address,
            descriptor=spec.descriptor,
            network=spec.network,
            limits={},
            cap_base_units=spec.cap_base_units,
            floor_base_units=spec.floor_base_units,
            active=True,
            created_at=ctx.clock.now(),
        )
    )
    described = {
        "name": spec.name,
        "chain": spec.chain,
        "network": spec.network,
        "assets": list(spec.assets),
        "tier": tier.value,
        "owner_class": owner.value,
        "purpose": purpose.value,
        "address": address,
        **_how(proposal, proposer, unsafe),
    }
    ctx.audit.append(
        session,
        actor=actor,
        action="custody.wallet.register",
        subject=new,
        details={**described, "quorum": f"{spec.quorum_m}-of-{spec.quorum_n}"},
    )
    _publish(
        ctx,
        session,
        "custody.wallet.registered",
        actor,
        wallet=new,
        fields={
            **described,
            "quorum_m": spec.quorum_m,
            "quorum_n": spec.quorum_n,
            "eligible_roles": list(spec.eligible_roles),
        },
    )
    return new


def _publish(ctx: Context, session: Session, type_: str, actor: str, **event: Any) -> None:
    """Queue a custody security event; it is published only if `session` commits."""
    item = SecurityEvent(
        type=type_, time=ctx.clock.now(), actor=actor, outcome="success", severity="medium", **event
    )
    publish_after_commit(session, ctx.bus, item)


def wallet(session: Session, wallet_id: str) -> WalletRow:
    row = session.get(WalletRow, wallet_id)
    if row is None:
        raise NotFound(f"no wallet {wallet_id!r}")
    return row


def list_wallets(session: Session) -> list[WalletRow]:
    return list(session.execute(select(WalletRow).order_by(WalletRow.name)).scalars())
