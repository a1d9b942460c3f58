"""Read one day's evidence from the store into a `Snapshot` (kinko.inspection.snapshot).

Two ways: `current` reads what the store holds now (the snapshot ``kinko serve`` takes each
day); `historical` rebuilds a past day, as of its last microsecond, from the history the
store keeps, and says in the snapshot's `gaps` what it could not know:

- exact from history: wallets (never changed once registered), role grants (granted,
  revoked), MFA factors (added, removed), recovery codes (made, used), prices (per day),
  key shares (made) and balances and liabilities when that day has a custody snapshot
  (``kinko custody snapshot``);
- approximated: a person's state (suspended, removed) changed since the day is unknown
  (null); a key share whose status changed since is ``active`` if it is now revoked, else
  ``unknown`` (a compromised share was active or revoked then); a screening list version
  counts from its loading, though a version approved by four eyes came into use only
  when approved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kinko.inspection.snapshot import (
    Balance,
    Grant,
    KeyShare,
    Liability,
    Origin,
    Person,
    Price,
    ScreeningList,
    Snapshot,
    Wallet,
    grant_key,
    iso,
)
from kinko.store.tables.custody import (
    AssetPriceRow,
    CustodySnapshotRow,
    KeyShareRow,
    LiabilityRow,
    WalletBalanceRow,
    WalletRow,
)
from kinko.store.tables.identity import (
    RecoveryCodeRow,
    RoleGrantRow,
    TotpFactorRow,
    UserRow,
    WebAuthnCredentialRow,
)
from kinko.store.tables.screening import ScreeningListVersionRow

IN_USE = ("active", "replaced")  # screening versions that were ever the list in use


def end_of(day: date) -> datetime:
    """The last microsecond of `day` (UTC): a back-filled snapshot's `as_of`."""
    start = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
    return start - timedelta(microseconds=1)


def current(session: Session, now: datetime) -> Snapshot:
    """What the store holds at `now`: the day's snapshot taken now."""
    balances = tuple(
        Balance(b.wallet_id, b.asset, b.base_units, b.source, iso(b.as_of))
        for b in session.execute(
            select(WalletBalanceRow).order_by(WalletBalanceRow.wallet_id, WalletBalanceRow.asset)
        ).scalars()
    )
    liabilities = tuple(
        Liability(r.asset, r.base_units, r.source, iso(r.as_of))
        for r in session.execute(select(LiabilityRow).order_by(LiabilityRow.asset)).scalars()
    )
    keys = tuple(_key(k, k.status) for k in _keys(session, now))
    people, _ = _people(session, now, historical=False)
    lists = tuple(
        _list(v)
        for v in session.execute(
            select(ScreeningListVersionRow)
            .where(ScreeningListVersionRow.status == "active")
            .order_by(ScreeningListVersionRow.list_name)
        ).scalars()
    )
    return Snapshot(
        day=now.date(),
        as_of=iso(now),
        origin=Origin.TAKEN,
        wallets=_wallets(session, now),
        balances=balances,
        liabilities=liabilities,
        prices=_prices(session, now.date()),
        keys=keys,
        people=people,
        screening_lists=lists,
        gaps=(),
    )


def historical(session: Session, day: date) -> Snapshot:
    """`day` rebuilt from the store's history, as of its last microsecond."""
    as_of = end_of(day)
    gaps: list[str] = []
    rows = list(
        session.execute(
            select(CustodySnapshotRow)
            .where(CustodySnapshotRow.day == day.isoformat())
            .order_by(CustodySnapshotRow.wallet_id, CustodySnapshotRow.asset)
        ).scalars()
    )
    balances: tuple[Balance, ...] | None = None
    liabilities: tuple[Liability, ...] | None = None
    if rows:
        balances = tuple(
            Balance(r.wallet_id, r.asset, r.base_units, "custody_snapshot", None)
            for r in rows
            if r.wallet_id
        )
        liabilities = tuple(
            Liability(r.asset, r.base_units, "custody_snapshot", None)
            for r in rows
            if not r.wallet_id
        )
    else:
        gaps.append("balances, liabilities: no custody snapshot of this day in the store")
    keys = []
    for k in _keys(session, as_of):
        status = k.status
        if k.status_changed_at > as_of and k.status != "active":
            status = "active" if k.status == "revoked" else "unknown"
            gaps.append(
                f"keys[{k.id}].status: now {k.status} (since {iso(k.status_changed_at)}); "
                f"{'it was active then' if status == 'active' else 'active or revoked then'}"
            )
        keys.append(_key(k, status))
    people, unknown = _people(session, as_of, historical=True)
    gaps.extend(
        f"people[{user}].state: changed since the day; the store keeps only the current state"
        for user in unknown
    )
    latest: dict[str, ScreeningListVersionRow] = {}
    for v in session.execute(
        select(ScreeningListVersionRow)
        .where(
            ScreeningListVersionRow.loaded_at <= as_of,
            ScreeningListVersionRow.status.in_(IN_USE),
        )
        .order_by(ScreeningListVersionRow.loaded_at, ScreeningListVersionRow.id)
    ).scalars():
        latest[v.list_name] = v
    for name in sorted(latest):
        if latest[name].proposal_id is not None:
            gaps.append(
                f"screening_lists[{name}]: version {latest[name].id} counted from its loading; "
                "it came into use when approved by four eyes (time not kept with it)"
            )
    return Snapshot(
        day=day,
        as_of=iso(as_of),
        origin=Origin.BACKFILLED,
        wallets=_wallets(session, as_of),
        balances=balances,
        liabilities=liabilities,
        prices=_prices(session, day),
        keys=tuple(keys),
        people=people,
        screening_lists=tuple(_list(latest[name]) for name in sorted(latest)),
        gaps=tuple(gaps),
    )


def _wallets(session: Session, as_of: datetime) -> tuple[Wallet, ...]:
    return tuple(
        Wallet(
            w.id,
            w.name,
            w.chain,
            w.network,
            w.tier,
            w.owner_class,
            w.purpose,
            w.quorum_m,
            w.quorum_n,
            tuple(sorted(w.assets)),
            w.active,
            iso(w.created_at),
        )
        for w in session.execute(
            select(WalletRow).where(WalletRow.created_at <= as_of).order_by(WalletRow.id)
        ).scalars()
    )


def _prices(session: Session, day: date) -> tuple[Price, ...]:
    """For each currency and asset, the latest price on or before `day`."""
    latest = (
        select(
            AssetPriceRow.currency,
            AssetPriceRow.asset,
            func.max(AssetPriceRow.day).label("day"),
        )
        .where(AssetPriceRow.day <= day.isoformat())
        .group_by(AssetPriceRow.currency, AssetPriceRow.asset)
        .subquery()
    )
    rows = session.execute(
        select(AssetPriceRow)
        .join(
            latest,
            (AssetPriceRow.currency == latest.c.currency)
            & (AssetPriceRow.asset == latest.c.asset)
            & (AssetPriceRow.day == latest.c.day),
        )
        .order_by(AssetPriceRow.currency, AssetPriceRow.asset)
    ).scalars()
    return tuple(Price(r.currency, r.asset, r.day, r.price) for r in rows)


def _keys(session: Session, as_of: datetime) -> list[KeyShareRow]:
    return list(
        session.execute(
            select(KeyShareRow).where(KeyShareRow.created_at <= as_of).order_by(KeyShareRow.id)
        ).scalars()
    )


def _key(k: KeyShareRow, status: str) -> KeyShare:
    return KeyShare(
        k.id,
        k.wallet_id,
        k.holder,
        k.device,
        k.site,
        k.legal_entity,
        k.public_key,
        status,
        iso(k.created_at),
    )


def _live(created: datetime, ended: datetime | None, as_of: datetime) -> bool:
    return created <= as_of and (ended is None or ended > as_of)


def _people(
    session: Session, as_of: datetime, *, historical: bool
) -> tuple[tuple[Person, ...], list[str]]:
    """People who existed at `as_of`, with their live grants and factors; and the ids of
    those whose state changed after it (`historical`: their state is unknown)."""
    grants: dict[str, list[Grant]] = defaultdict(list)
    for g in session.execute(
        select(RoleGrantRow).where(
            RoleGrantRow.granted_at <= as_of,
            or_(RoleGrantRow.revoked_at.is_(None), RoleGrantRow.revoked_at > as_of),
        )
    ).scalars():
        grants[g.user_id].append(
            Grant(
                g.role,
                tuple(sorted(g.assets)),
                tuple(sorted(g.wallets)),
                iso(g.granted_at),
                g.granted_by,
            )
        )
    webauthn = _count(
        (c.user_id, c.created_at, c.removed_at)
        for c in session.execute(select(WebAuthnCredentialRow)).scalars()
    )
    totp = _count(
        (t.user_id, t.created_at, t.removed_at)
        for t in session.execute(select(TotpFactorRow)).scalars()
    )
    codes = _count(
        (r.user_id, r.created_at, r.used_at)
        for r in session.execute(select(RecoveryCodeRow)).scalars()
    )

    def counted(rows: dict[str, list[tuple[datetime, datetime | None]]], user: str) -> int:
        return sum(1 for created, ended in rows.get(user, ()) if _live(created, ended, as_of))

    people = []
    unknown = []
    for u in session.execute(
        select(UserRow).where(UserRow.created_at <= as_of).order_by(UserRow.id)
    ).scalars():
        state: str | None = u.state
        if historical and u.updated_at > as_of:
            state = None
            unknown.append(u.id)
        people.append(
            Person(
                u.id,
                u.username,
                state,
                tuple(sorted(grants.get(u.id, ()), key=grant_key)),
                counted(webauthn, u.id),
                counted(totp, u.id),
                counted(codes, u.id),
            )
        )
    return tuple(people), unknown


def _count(
    rows: Iterable[tuple[str, datetime, datetime | None]],
) -> dict[str, list[tuple[datetime, datetime | None]]]:
    out: dict[str, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for user, created, ended in rows:
        out[user].append((created, ended))
    return out


def _list(v: ScreeningListVersionRow) -> ScreeningList:
    return ScreeningList(
        v.list_name,
        v.id,
        v.publisher,
        None if v.published is None else iso(v.published),
        v.sha256,
        v.format,
        iso(v.loaded_at),
        v.entity_count,
        v.address_count,
    )
