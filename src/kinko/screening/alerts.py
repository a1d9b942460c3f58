"""Alerts for hits found by re-screening: recorded once per (target, list, entity)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.core.events import SecurityEvent
from kinko.core.ids import new_id
from kinko.screening.model import AddressVerdict, NameVerdict
from kinko.screening.rescreen import RescreenTarget
from kinko.store.tables.screening import ScreeningAlertRow

if TYPE_CHECKING:
    from kinko.context import Context


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    target_kind: str
    target_ref: str
    list_name: str
    entity_ref: str
    entity_name: str
    detail: MappingProxyType[str, Any]

    def event(self, now: datetime) -> SecurityEvent:
        return SecurityEvent(
            type="screening.hit",
            time=now,
            outcome="hit",
            severity="high",
            destination=self.detail.get("address"),
            fields=MappingProxyType(
                {
                    "alert": self.id,
                    "target_kind": self.target_kind,
                    "target_ref": self.target_ref,
                    "list": self.list_name,
                    "entity": self.entity_name,
                    "source_ref": self.entity_ref,
                }
            ),
        )


def _dedup(target: RescreenTarget, list_name: str, entity_ref: str) -> str:
    text = "\x1f".join((target.kind, target.ref, list_name, entity_ref))
    return hashlib.sha256(text.encode()).hexdigest()


def record_alerts(
    ctx: Context,
    session: Session,
    found: Sequence[tuple[RescreenTarget, AddressVerdict | NameVerdict]],
    *,
    actor: str,
) -> list[Alert]:
    """Store an alert for each hit not alerted before, audited in `session`'s transaction."""
    alerts: list[Alert] = []
    now = ctx.clock.now()
    for target, verdict in found:
        for hit in verdict.hits:
            key = _dedup(target, hit.list_name, hit.entity_ref)
            exists = session.scalar(
                select(ScreeningAlertRow.id).where(ScreeningAlertRow.dedup_key == key)
            )
            if exists is not None:
                continue
            detail: dict[str, Any] = {"hit": hit.to_dict(), "verdict": verdict.status.value}
            if isinstance(verdict, AddressVerdict):
                detail.update(chain=verdict.chain, address=verdict.address)
            else:
                detail.update(name=verdict.name)
            alert = Alert(
                id=new_id("sa"),
                target_kind=target.kind,
                target_ref=target.ref,
                list_name=hit.list_name,
                entity_ref=hit.entity_ref,
                entity_name=hit.entity_name,
                detail=MappingProxyType(detail),
            )
            session.add(
                ScreeningAlertRow(
                    id=alert.id,
                    dedup_key=key,
                    target_kind=target.kind,
                    target_ref=target.ref,
                    list_name=hit.list_name,
                    entity_ref=hit.entity_ref,
                    detail=detail,
                    status="open",
                    created_at=now,
                )
            )
            ctx.audit.append(
                session,
                actor=actor,
                action="screening.alert_raised",
                subject=f"{target.kind}:{target.ref}",
                details={"alert": alert.id, **detail},
            )
            alerts.append(alert)
    session.flush()
    return alerts
