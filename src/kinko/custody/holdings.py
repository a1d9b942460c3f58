"""Balances, liabilities, prices and daily snapshots (service), and the status built on them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.chains.ethereum.adapter import EthereumAdapter
from kinko.context import Context
from kinko.core.errors import Conflict, InputError, NotFound, Unavailable
from kinko.custody import coldshare
from kinko.custody.coldshare import BalanceMatrix, CustodyStatus, Regime, WalletInfo
from kinko.custody.liabilities import parse_liabilities_csv
from kinko.custody.model import OwnerClass, Tier, WalletId
from kinko.custody.rebalance import Plan, Position, plan_rebalancing
from kinko.custody.wallets import assets, wallet
from kinko.store.tables.custody import (
    AssetPriceRow,
    CustodySnapshotRow,
    LiabilityRow,
    WalletBalanceRow,
    WalletRow,
)

KOREA_WINDOW_DAYS = 365
FIRST_DAY = date(2009, 1, 3)
"""The first Bitcoin block: no crypto-asset price, balance or liability exists before."""


def check_day(day: date, field: str = "day") -> date:
    """`day`, or InputError if it is before `FIRST_DAY` (a mistyped year, usually)."""
    if day < FIRST_DAY:
        raise InputError(
            field,
            f"{day.isoformat()} is before {FIRST_DAY.isoformat()} (the first Bitcoin block): "
            "no crypto-asset price or balance exists that early; give a later day",
        )
    return day


CURRENCIES = ("JPY", "KRW")
_PRICE = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]+)?$")


def _units(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(field, f"{value!r} is not a non-negative integer of base units")
    return value


def set_balance(
    ctx: Context,
    session: Session,
    wallet_id: str,
    asset: str,
    base_units: int,
    *,
    source: str,
    actor: str,
) -> None:
    row = wallet(session, wallet_id)
    if asset not in row.assets:
        raise InputError("asset", f"wallet {row.name} does not hold {asset}")
    units = _units(base_units, "base_units")
    existing = session.get(WalletBalanceRow, (wallet_id, asset))
    previous = existing.base_units if existing else None
    if existing is None:
        session.add(
            WalletBalanceRow(
                wallet_id=wallet_id,
                asset=asset,
                base_units=units,
                source=source,
                as_of=ctx.clock.now(),
            )
        )
    else:
        existing.base_units, existing.source, existing.as_of = units, source, ctx.clock.now()
    ctx.audit.append(
        session,
        actor=actor,
        action="custody.balance.set",
        subject=wallet_id,
        details={
            "asset": asset,
            "base_units": str(units),
            "previous": None if previous is None else str(previous),
            "source": source,
        },
    )


def sync_balances_from_chain(
    ctx: Context, session: Session, wallet_id: str, adapter: EthereumAdapter, *, actor: str
) -> dict[str, int]:
    """Read the wallet's balance of each of its assets from the node and record it."""
    row = wallet(session, wallet_id)
    if row.chain != adapter.family or not row.address:
        raise InputError("wallet", f"wallet {row.name} is not an {adapter.family} address wallet")
    known = assets(session)
    read = {}
    for key in row.assets:
        contract = known[key].contract
        read[key] = adapter.balance(row.address, contract)
    for key, units in read.items():
        set_balance(
            ctx, session, wallet_id, key, units, source=f"chain:{adapter.network}", actor=actor
        )
    return read


def set_liabilities(
    ctx: Context, session: Session, owed: Mapping[str, int], *, source: str, actor: str
) -> None:
    """Replace the liabilities of the given assets (others are left as they are)."""
    known = assets(session)
    for key, units in owed.items():
        if key not in known:
            raise InputError("asset", f"unknown asset {key!r}; register it first")
        _units(units, f"liabilities.{key}")
    now = ctx.clock.now()
    for key, units in sorted(owed.items()):
        row = session.get(LiabilityRow, key)
        if row is None:
            session.add(LiabilityRow(asset=key, base_units=units, source=source, as_of=now))
        else:
            row.base_units, row.source, row.as_of = units, source, now
    ctx.audit.append(
        session,
        actor=actor,
        action="custody.liabilities.import",
        subject=source,
        details={k: str(v) for k, v in sorted(owed.items())},
    )


def import_liabilities_csv(
    ctx: Context, session: Session, text: str, *, source: str, actor: str
) -> dict[str, int]:
    owed = parse_liabilities_csv(text, assets(session))
    set_liabilities(ctx, session, owed, source=source, actor=actor)
    return owed


def liabilities(session: Session) -> dict[str, int]:
    return {r.asset: r.base_units for r in session.execute(select(LiabilityRow)).scalars()}


def set_prices(
    ctx: Context,
    session: Session,
    day: date,
    currency: str,
    prices: Mapping[str, str],
    *,
    actor: str,
) -> None:
    """Prices of one whole unit per asset on `day`, as decimal strings (no floats)."""
    check_day(day)
    if currency not in CURRENCIES:
        raise InputError("currency", f"{currency!r} is not one of {', '.join(CURRENCIES)}")
    known = assets(session)
    for key, text in prices.items():
        if key not in known:
            raise InputError("prices", f"unknown asset {key!r}")
        if not isinstance(text, str) or len(text) > 40 or not _PRICE.match(text):
            raise InputError(
                f"prices.{key}", f'{text!r} is not a plain decimal price such as "15000000.25"'
            )
        if Decimal(text) <= 0:
            raise InputError(f"prices.{key}", "must be greater than zero")
    for key, text in sorted(prices.items()):
        row = session.get(AssetPriceRow, (day.isoformat(), key, currency))
        if row is None:
            session.add(
                AssetPriceRow(day=day.isoformat(), asset=key, currency=currency, price=text)
            )
        else:
            row.price = text
    ctx.audit.append(
        session,
        actor=actor,
        action="custody.prices.set",
        subject=day.isoformat(),
        details={"currency": currency, "prices": dict(sorted(prices.items()))},
    )


def take_snapshot(ctx: Context, session: Session, day: date, *, actor: str) -> int:
    """Copy today's balances and liabilities into the daily snapshot; once per day."""
    key = day.isoformat()
    if session.execute(select(CustodySnapshotRow.id).where(CustodySnapshotRow.day == key)).first():
        raise Conflict(f"a snapshot for {key} already exists")
    wallets = {w.id: w for w in session.execute(select(WalletRow)).scalars()}
    count = 0
    for bal in session.execute(select(WalletBalanceRow)).scalars():
        w = wallets[bal.wallet_id]
        session.add(
            CustodySnapshotRow(
                day=key,
                wallet_id=bal.wallet_id,
                asset=bal.asset,
                base_units=bal.base_units,
                tier=w.tier,
                owner_class=w.owner_class,
            )
        )
        count += 1
    for asset, units in liabilities(session).items():
        session.add(
            CustodySnapshotRow(
                day=key,
                wallet_id="",
                asset=asset,
                base_units=units,
                tier="",
                owner_class="liability",
            )
        )
        count += 1
    ctx.audit.append(
        session, actor=actor, action="custody.snapshot.take", subject=key, details={"rows": count}
    )
    return count


def _matrix(session: Session) -> BalanceMatrix:
    infos = [
        WalletInfo(WalletId(w.id), Tier(w.tier), OwnerClass(w.owner_class), w.address)
        for w in session.execute(select(WalletRow).where(WalletRow.active.is_(True))).scalars()
    ]
    active = {i.id for i in infos}
    rows = [
        (b.wallet_id, b.asset, b.base_units)
        for b in session.execute(select(WalletBalanceRow)).scalars()
        if b.wallet_id in active
    ]
    return BalanceMatrix.from_rows(infos, rows)


def _prices(session: Session, regime: Regime, day: date) -> dict[str, Decimal]:
    currency = regime.currency
    if regime is Regime.JP:
        latest = session.execute(
            select(AssetPriceRow.day)
            .where(AssetPriceRow.currency == currency, AssetPriceRow.day <= day.isoformat())
            .order_by(AssetPriceRow.day.desc())
            .limit(1)
        ).scalar_one_or_none()
        if latest is None:
            raise Unavailable(f"no {currency} prices on or before {day}; import prices first")
        rows = session.execute(
            select(AssetPriceRow).where(
                AssetPriceRow.currency == currency, AssetPriceRow.day == latest
            )
        ).scalars()
        return {r.asset: Decimal(r.price) for r in rows}
    # The window is cut at the calendar's first day (a day near year 1 has a shorter one).
    start = date.fromordinal(max(1, day.toordinal() - (KOREA_WINDOW_DAYS - 1))).isoformat()
    history: dict[str, list[Decimal]] = {}
    for r in session.execute(
        select(AssetPriceRow).where(
            AssetPriceRow.currency == currency,
            AssetPriceRow.day >= start,
            AssetPriceRow.day <= day.isoformat(),
        )
    ).scalars():
        history.setdefault(r.asset, []).append(Decimal(r.price))
    return {asset: coldshare.trailing_average(values) for asset, values in history.items()}


def snapshot_positions(session: Session, day: date) -> tuple[BalanceMatrix, dict[str, int]]:
    """The balances and liabilities kept by `take_snapshot` for `day`, as they were then:
    every wallet's balance per asset (with its tier and owner class) and what customers
    were owed per asset. NotFound when no snapshot was taken that day."""
    rows = list(
        session.execute(
            select(CustodySnapshotRow).where(CustodySnapshotRow.day == day.isoformat())
        ).scalars()
    )
    if not rows:
        raise NotFound(f"no custody snapshot for {day}; take one with `kinko custody snapshot`")
    addresses = {w.id: w.address for w in session.execute(select(WalletRow)).scalars()}
    infos = {
        r.wallet_id: WalletInfo(
            WalletId(r.wallet_id),
            Tier(r.tier),
            OwnerClass(r.owner_class),
            addresses.get(r.wallet_id),
        )
        for r in rows
        if r.wallet_id
    }
    balances = [(r.wallet_id, r.asset, r.base_units) for r in rows if r.wallet_id]
    owed = {r.asset: r.base_units for r in rows if not r.wallet_id}
    return BalanceMatrix.from_rows(infos.values(), balances), owed


def custody_status(
    session: Session, regime: Regime, day: date, *, from_snapshot: bool = False
) -> CustodyStatus:
    """Status at `day`'s prices, on the current holdings or on `day`'s snapshot."""
    check_day(day)
    decimals = {k: a.decimals for k, a in assets(session).items()}
    if from_snapshot:
        matrix, owed = snapshot_positions(session, day)
    else:
        matrix, owed = _matrix(session), liabilities(session)
    return coldshare.status(regime, matrix, owed, _prices(session, regime, day), decimals)


def rebalance_plan(session: Session) -> Plan:
    positions = []
    balances = {
        (b.wallet_id, b.asset): b.base_units
        for b in session.execute(select(WalletBalanceRow)).scalars()
    }
    for w in session.execute(select(WalletRow).where(WalletRow.active.is_(True))).scalars():
        for asset in w.assets:
            positions.append(
                Position(
                    WalletId(w.id),
                    w.chain,
                    asset,
                    Tier(w.tier),
                    OwnerClass(w.owner_class),
                    balances.get((w.id, asset), 0),
                    w.address,
                    w.cap_base_units if w.tier == Tier.HOT.value else None,
                    w.floor_base_units if w.tier != Tier.COLD.value else None,
                )
            )
    return plan_rebalancing(positions)
