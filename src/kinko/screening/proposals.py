"""A list whose identity changes waits for four eyes; every load is announced.

A list's format and publisher are pinned by its first load (the reserved names by their
publishers from the start). A file that changes either, or shrinks the list beyond the
guard, is stored as a *proposed* version that nothing screens against, and proposed
through the identity proposal mechanism (`RoleService.propose`, kind ``replace_list``):
a second, different security admin approves it (``POST /v1/roles/proposals/ID/approve``,
``kinko role approve``) and only then does it replace the active version. This module holds
that kind's handler, which the composition root (kinko.services) gives the identity service.

Every version that becomes active is audited (``screening.list_loaded``, with its
provenance) and published as a ``screening.list_loaded`` event whose ``changes`` field
names what changed (``format``, ``publisher``, ``shrank``; empty for a routine update).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import Conflict, InputError, Unavailable
from kinko.core.events import SecurityEvent
from kinko.core.ids import new_id
from kinko.identity.model import ProposalKind, UserId
from kinko.screening import repository
from kinko.screening.freshness import Change, Review
from kinko.screening.model import (
    ListName,
    ListVersion,
    ParsedList,
    VersionId,
    VersionStatus,
)
from kinko.store.publish import publish_after_commit
from kinko.store.tables.screening import ScreeningListVersionRow

if TYPE_CHECKING:
    from kinko.identity.proposals import Proposal
    from kinko.screening.alerts import Alert

EVENT_TYPE = "screening.list_change"
"""The event type proposals of this kind are announced under (proposed/approved/refused)."""


class Propose(Protocol):
    """Identity's proposal mechanism (`RoleService.propose`), as screening uses it."""

    def __call__(
        self,
        session: Session,
        *,
        actor: UserId,
        kind: ProposalKind,
        payload: dict[str, Any],
        reason: str,
    ) -> Proposal: ...


Rescreen = Callable[[Session, str], "list[Alert]"]
"""Re-screen every target in the session (`ScreeningService.rescreen`, actor given)."""


@dataclass(frozen=True, slots=True)
class ProposedLoad:
    """A version stored but not used: it waits for a second security admin."""

    version: ListVersion
    proposal_id: str
    changes: tuple[str, ...]
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "proposal": self.proposal_id,
            "list": self.version.list_name,
            "changes": list(self.changes),
            "reasons": list(self.reasons),
            "version": self.version.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Staged:
    """What one file did to each list it holds."""

    versions: tuple[ListVersion, ...]
    unchanged: tuple[ListName, ...]
    proposed: tuple[ProposedLoad, ...]


def propose_version(
    ctx: Context,
    session: Session,
    item: ParsedList,
    previous: ListVersion | None,
    review: Review,
    *,
    propose: Propose,
    source: str,
    sha256: str,
    actor: str,
    proposer: UserId,
) -> ProposedLoad:
    """Store `item` as a proposed version and propose it (the same file again: the same
    proposal). The proposer must be an active security admin (the role service checks)."""
    changes = tuple(c.value for c in review.changes)
    existing = repository.proposed_version(session, item.name, sha256)
    if existing is not None and existing.proposal_id is not None:
        return ProposedLoad(existing, existing.proposal_id, changes, review.reasons)
    version = repository.insert_version(
        session,
        item,
        version_id=VersionId(new_id("lv")),
        source=source,
        sha256=sha256,
        loaded_at=ctx.clock.now(),
        loaded_by=actor,
        proposed=True,
    )
    proposal = propose(
        session,
        actor=proposer,
        kind=ProposalKind.REPLACE_LIST,
        payload={
            "version_id": version.id,
            "replaces": previous.id if previous else None,
            "changes": list(changes),
        },
        reason=f"list {item.name} from {source}: {'; '.join(review.reasons)}"[:500],
    )
    repository.attach_proposal(session, version.id, proposal.id)
    version = replace(version, proposal_id=proposal.id)
    ctx.audit.append(
        session,
        actor=actor,
        action="screening.list_proposed",
        subject=f"list:{item.name}",
        details={**_provenance(version, previous, changes), "reasons": list(review.reasons)},
    )
    return ProposedLoad(version, proposal.id, changes, review.reasons)


def _provenance(
    version: ListVersion, previous: ListVersion | None, changes: Sequence[str]
) -> dict[str, Any]:
    """What the audit log records of a list version, proposed or loaded."""
    return {
        **version.to_dict(),
        "invalid_addresses": len(version.invalid_addresses),
        "replaces": previous.id if previous else None,
        "changes": list(changes),
    }


def record_loaded(
    ctx: Context,
    session: Session,
    version: ListVersion,
    previous: ListVersion | None,
    *,
    changes: Sequence[str],
    actor: str,
) -> None:
    """Audit a version that became active, with its provenance, and announce it."""
    ctx.audit.append(
        session,
        actor=actor,
        action="screening.list_loaded",
        subject=f"list:{version.list_name}",
        details=_provenance(version, previous, changes),
    )
    fields: dict[str, Any] = {
        "list": version.list_name,
        "version": version.id,
        "format": version.format.value,
        "publisher": version.publisher,
        "dated_by": version.dated_by,
        "sha256": version.sha256,
        "file": version.source,
        "entries": version.entity_count + version.address_count,
        "changes": list(changes),
        "first_load": previous is None,
    }
    if version.published is not None:
        fields["published"] = version.published.isoformat()
    if version.approved_by is not None:
        fields["approved_by"] = version.approved_by
    if previous is not None:
        fields.update(
            replaces=previous.id,
            previous_format=previous.format.value,
            previous_publisher=previous.publisher,
            previous_entries=previous.entity_count + previous.address_count,
        )
    publish_after_commit(
        session,
        ctx.bus,
        SecurityEvent(
            type="screening.list_loaded",
            time=ctx.clock.now(),
            actor=version.loaded_by,
            outcome="success",
            severity="high" if changes else "info",
            fields=fields,
        ),
    )


class ListReplacementHandler:
    """Checks, applies and refuses ``replace_list`` proposals for the role service."""

    event_type = EVENT_TYPE

    def __init__(self, ctx: Context, rescreen: Rescreen) -> None:
        self.ctx = ctx
        self.rescreen = rescreen

    def _proposed_row(self, session: Session, payload: dict[str, Any]) -> ScreeningListVersionRow:
        row = repository.version_for_update(session, str(payload.get("version_id", "")))
        if row is None or row.status != VersionStatus.PROPOSED.value:
            raise Conflict(
                f"list version {payload.get('version_id')!r} is not a proposed version; "
                "upload the file again (POST /v1/screening/lists)"
            )
        return row

    def _replaces(self, session: Session, row: ScreeningListVersionRow) -> ListVersion | None:
        return repository.active_version_for_update(session, ListName(row.list_name))

    def check(self, session: Session, payload: dict[str, Any]) -> dict[str, Any]:
        row = self._proposed_row(session, payload)
        if row.proposal_id is not None:
            raise Conflict(f"list version {row.id} is already proposed ({row.proposal_id})")
        previous = self._replaces(session, row)
        if payload.get("replaces") != (previous.id if previous else None):
            raise Conflict(f"the active version of {row.list_name} changed; propose again")
        try:
            changes = [Change(str(c)).value for c in payload.get("changes", [])]
        except ValueError:
            raise InputError("changes", "must be format, publisher or shrank") from None
        return {
            "list": row.list_name,
            "version_id": row.id,
            "replaces": previous.id if previous else None,
            "changes": changes,
            "format": row.format,
            "publisher": row.publisher,
            "previous_format": previous.format.value if previous else None,
            "previous_publisher": previous.publisher if previous else None,
            "entries": row.entity_count + row.address_count,
            "previous_entries": (
                previous.entity_count + previous.address_count if previous else None
            ),
            "sha256": row.sha256,
            "file": row.source,
            "published": row.published.isoformat() if row.published else None,
        }

    def apply(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None:
        """Make the proposed version active, audit and announce it, and re-screen."""
        row = self._proposed_row(session, payload)
        previous = self._replaces(session, row)
        if (previous.id if previous else None) != payload.get("replaces"):
            raise Conflict(
                f"the active version of {row.list_name} changed since proposal {proposal_id} "
                "was made; refuse it and propose the file again"
            )
        approver = f"user:{decided_by}"
        version = repository.activate(session, row, approved_by=approver)
        record_loaded(
            self.ctx,
            session,
            version,
            previous,
            changes=list(payload.get("changes", [])),
            actor=approver,
        )
        self._rescreen(session, actor=approver)

    def _rescreen(self, session: Session, *, actor: str) -> None:
        try:
            alerts = self.rescreen(session, actor)
        except Exception as exc:
            raise Unavailable(
                f"re-screening against the approved list failed ({type(exc).__name__}: "
                f"{exc}); nothing was approved: fix the cause and approve again"
            ) from exc
        now = self.ctx.clock.now()
        for alert in alerts:
            publish_after_commit(session, self.ctx.bus, alert.event(now))

    def refuse(
        self, session: Session, payload: dict[str, Any], *, proposal_id: str, decided_by: UserId
    ) -> None:
        row = repository.version_for_update(session, str(payload.get("version_id", "")))
        if row is not None and row.status == VersionStatus.PROPOSED.value:
            repository.refuse(session, row)
