"""The screening service: load lists, screen addresses and names, re-screen on new lists.

Used by the withdrawal service (`screen_address` on every destination), the CLI and the
API. Verdicts fail closed: a required list that is missing or older than its maximum age
gives STALE, which holds a withdrawal; a hit takes precedence and denies it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import structlog
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import InputError, KinkoError, Unavailable
from kinko.core.events import SecurityEvent
from kinko.core.ids import new_id
from kinko.identity.model import UserId
from kinko.screening import repository
from kinko.screening.addresses import normalise_address
from kinko.screening.alerts import Alert, record_alerts
from kinko.screening.cases import Asker, CaseBook, check_subject, open_case
from kinko.screening.config_file import load_screening_config
from kinko.screening.freshness import ScreeningConfig, review_replacement, staleness_reasons
from kinko.screening.index import AddressIndex
from kinko.screening.loaders import parse_file
from kinko.screening.model import (
    AddressVerdict,
    ListName,
    ListVersion,
    NameVerdict,
    ParsedList,
    VerdictStatus,
    VersionId,
)
from kinko.screening.name_index import NameIndex
from kinko.screening.proposals import (
    Propose,
    ProposedLoad,
    Staged,
    propose_version,
    record_loaded,
)
from kinko.screening.rescreen import RescreenProvider, RescreenTarget
from kinko.store.db import in_unit_of_work
from kinko.store.publish import publish_after_commit

log = structlog.get_logger("kinko.screening")

_cache_lock = threading.Lock()
_address_cache: dict[tuple[str, frozenset[str]], AddressIndex] = {}
_name_cache: dict[tuple[str, frozenset[str]], NameIndex] = {}


@dataclass(frozen=True, slots=True)
class LoadResult:
    versions: tuple[ListVersion, ...]
    unchanged: tuple[ListName, ...]
    alerts: tuple[Alert, ...]
    proposed: tuple[ProposedLoad, ...] = ()
    """Versions stored but not used: each waits for a second security admin."""


class ScreeningService:
    def __init__(
        self,
        ctx: Context,
        config: ScreeningConfig | None = None,
        *,
        propose: Propose | None = None,
        rescreen_from: Sequence[RescreenProvider] = (),
    ) -> None:
        """`propose`: identity's four-eyes proposals (a list whose identity changes waits
        for a second security admin); `rescreen_from`: what other domains keep that a new
        list screens again (pending withdrawals, the address book). The composition root
        (kinko.services) gives both; without `propose` such a list is refused."""
        self.ctx = ctx
        self.config = config or load_screening_config(ctx.settings.data_dir)
        self.propose = propose
        self.rescreen_from = tuple(rescreen_from)
        self.cases = CaseBook(ctx)

    # -- lists ----------------------------------------------------------------------

    def load_file(
        self,
        path: Path,
        *,
        actor: str,
        list_name: str | None = None,
        proposer: UserId | None = None,
    ) -> LoadResult:
        """Parse `path` completely, store it as the new version(s), then re-screen.

        A version that changes its list's pinned format or publisher, or shrinks it beyond
        the guard, is not applied: with a `proposer` (a security admin) it becomes a
        four-eyes proposal, without one (a local operator) the file is refused. Refusals
        (unparseable, unsafe XML, such a change without a proposer) are audited and
        raised; the previous version stays active.
        """
        digest = _sha256(path)
        try:
            parsed = parse_file(path, list_name=list_name)
            with self.ctx.db.transaction() as session:
                staged = self.load_parsed(
                    session,
                    parsed,
                    source=path.name,
                    sha256=digest,
                    actor=actor,
                    proposer=proposer,
                )
        except KinkoError as exc:
            self._record_refusal(path, digest, actor, exc)
            raise
        asker = None if proposer is None else Asker(actor, str(proposer))
        alerts = self.rescreen_all(actor=actor, asker=asker) if staged.versions else ()
        return LoadResult(staged.versions, staged.unchanged, alerts, staged.proposed)

    def rescreen_all(self, *, actor: str, asker: Asker | None = None) -> tuple[Alert, ...]:
        """Re-screen every registered target in its own transaction, then publish alerts.

        A provider that fails does not undo a list that is already stored; the failure is
        logged, published and raised as `Unavailable` so the operator re-runs it
        (``kinko lists rescreen``).
        """
        try:
            with self.ctx.db.transaction() as session:
                alerts = tuple(self.rescreen(session, actor=actor, asker=asker))
        except Exception as exc:
            log.exception("re-screening failed")
            self.ctx.bus.publish(
                SecurityEvent(
                    type="screening.rescreen_failed",
                    time=self.ctx.clock.now(),
                    actor=actor,
                    outcome="failure",
                    severity="high",
                    fields={"error": type(exc).__name__},
                )
            )
            raise Unavailable(
                f"re-screening failed ({type(exc).__name__}: {exc}); the lists are loaded "
                "but pending withdrawals and address-book entries were not checked against "
                "them: fix the cause and run 'kinko lists rescreen'"
            ) from exc
        self._publish_alerts(alerts)
        return alerts

    def load_parsed(
        self,
        session: Session,
        parsed: Iterable[ParsedList],
        *,
        source: str,
        sha256: str,
        actor: str,
        proposer: UserId | None = None,
    ) -> Staged:
        """Store every list of one file in `session`: loaded, unchanged, or proposed."""
        versions: list[ListVersion] = []
        unchanged: list[ListName] = []
        proposed: list[ProposedLoad] = []
        now = self.ctx.clock.now()
        for item in parsed:
            previous = repository.active_version_for_update(session, item.name)
            if previous is not None and previous.sha256 == sha256:
                unchanged.append(item.name)
                continue
            review = review_replacement(previous, item, self.config)
            if review.needs_four_eyes:
                if proposer is None:
                    raise review.refusal(item.name)
                if self.propose is None:
                    raise Unavailable(
                        "four-eyes list proposals are not wired in this process (build the "
                        "screening service with kinko.services.build_services)"
                    )
                proposed.append(
                    propose_version(
                        self.ctx,
                        session,
                        item,
                        previous,
                        review,
                        propose=self.propose,
                        source=source,
                        sha256=sha256,
                        actor=actor,
                        proposer=proposer,
                    )
                )
                continue
            version = repository.insert_version(
                session,
                item,
                version_id=VersionId(new_id("lv")),
                source=source,
                sha256=sha256,
                loaded_at=now,
                loaded_by=actor,
            )
            record_loaded(self.ctx, session, version, previous, changes=(), actor=actor)
            versions.append(version)
        return Staged(tuple(versions), tuple(unchanged), tuple(proposed))

    def proposed(self, session: Session) -> list[ListVersion]:
        """Versions waiting for a second security admin (see `kinko.screening.proposals`)."""
        return repository.proposed_versions(session)

    def versions(self, session: Session, *, include_inactive: bool = False) -> list[ListVersion]:
        if include_inactive:
            return repository.all_versions(session)
        return sorted(repository.active_versions(session).values(), key=lambda v: v.list_name)

    def freshness(self, session: Session) -> tuple[str, ...]:
        """Why address or name screening would be STALE now; empty when both are fresh."""
        active = repository.active_versions(session)
        now = self.ctx.clock.now()
        reasons = staleness_reasons(active, self.config.required_address_lists, self.config, now)
        more = staleness_reasons(active, self.config.required_name_lists, self.config, now)
        return tuple(dict.fromkeys(reasons + more))

    def check_freshness(self, *, subject: str = "freshness check") -> tuple[str, ...]:
        """Publish `screening.stale` when a required list is missing or too old.

        Screening itself already answers STALE (fail closed); this makes the condition
        loud even when nothing is being screened, so someone loads a current list.
        """
        with self.ctx.db.transaction() as session:
            reasons = self.freshness(session)
        if reasons:
            self._publish_stale(reasons, subject=subject)
        return reasons

    # -- screening ------------------------------------------------------------------

    def screen_address(self, session: Session, *, chain: str, address: str) -> AddressVerdict:
        """Screen one destination. Raises `InputError` if the address is invalid."""
        normalised = normalise_address(chain, address)
        active = repository.active_versions(session)
        index = self._address_index(session, active)
        hits = index.lookup(normalised.key)
        reasons = staleness_reasons(
            active, self.config.required_address_lists, self.config, self.ctx.clock.now()
        )
        status = _status(bool(hits), reasons)
        verdict = AddressVerdict(
            status=status,
            chain=chain,
            address=normalised.address,
            key=normalised.key,
            hits=hits,
            list_versions=tuple(sorted(v.id for v in active.values())),
            reasons=reasons,
        )
        if status is VerdictStatus.STALE:
            self._publish_stale(reasons, subject=normalised.address, session=session)
        return verdict

    def screen_name(
        self,
        session: Session,
        name: str,
        *,
        dob: str | None = None,
        nationality: str | None = None,
        asker: Asker,
    ) -> NameVerdict:
        """Screen a person or organisation; hits at or above the threshold go to review:
        a HIT opens (or finds) its review case in `session` (kinko.screening.cases), asked
        by `asker`."""
        check_subject(name, dob, nationality)
        active = repository.active_versions(session)
        index = self._name_index(session, active)
        threshold = self.config.name_threshold
        hits = index.match(name, threshold=threshold, dob=dob, nationality=nationality)
        reasons = staleness_reasons(
            active, self.config.required_name_lists, self.config, self.ctx.clock.now()
        )
        status = _status(bool(hits), reasons)
        if status is VerdictStatus.STALE:
            self._publish_stale(reasons, subject="name screening", session=session)
        verdict = NameVerdict(
            status=status,
            name=name,
            hits=tuple(hits),
            list_versions=tuple(sorted(v.id for v in active.values())),
            threshold=threshold,
            reasons=reasons,
        )
        if status is not VerdictStatus.HIT:
            return verdict
        case = open_case(self.ctx, session, verdict, dob=dob, nationality=nationality, asker=asker)
        return replace(verdict, case_id=case.id)

    # -- re-screening ---------------------------------------------------------------

    def rescreen(self, session: Session, *, actor: str, asker: Asker | None = None) -> list[Alert]:
        """Screen every target of `rescreen_from` again; record and audit alerts for new
        hits."""
        found: list[tuple[RescreenTarget, AddressVerdict | NameVerdict]] = []
        for provider in self.rescreen_from:
            for target in provider(session):
                verdict = self._screen_target(session, target, asker or Asker.from_actor(actor))
                if verdict is not None and verdict.status is VerdictStatus.HIT:
                    found.append((target, verdict))
        return record_alerts(self.ctx, session, found, actor=actor)

    def _screen_target(
        self, session: Session, target: RescreenTarget, asker: Asker
    ) -> AddressVerdict | NameVerdict | None:
        try:
            if target.chain is not None and target.address is not None:
                return self.screen_address(session, chain=target.chain, address=target.address)
            assert target.name is not None
            return self.screen_name(
                session,
                target.name,
                dob=target.dob,
                nationality=target.nationality,
                asker=asker,
            )
        except InputError as exc:
            log.warning(
                "re-screen target is invalid", kind=target.kind, ref=target.ref, error=exc.message
            )
            return None

    # -- internals ------------------------------------------------------------------

    def _cache_key(self, active: dict[ListName, ListVersion]) -> tuple[str, frozenset[str]]:
        return self.ctx.db.url, frozenset(v.id for v in active.values())

    def _address_index(self, session: Session, active: dict[ListName, ListVersion]) -> AddressIndex:
        key = self._cache_key(active)
        with _cache_lock:
            cached = _address_cache.get(key)
        if cached is not None:
            return cached
        index = AddressIndex(repository.address_entries(session, active.values()))
        with _cache_lock:
            _address_cache.clear()
            _address_cache[key] = index
        return index

    def _name_index(self, session: Session, active: dict[ListName, ListVersion]) -> NameIndex:
        key = self._cache_key(active)
        with _cache_lock:
            cached = _name_cache.get(key)
        if cached is not None:
            return cached
        index = NameIndex(repository.name_entities(session, active.values()))
        with _cache_lock:
            _name_cache.clear()
            _name_cache[key] = index
        return index

    def _record_refusal(self, path: Path, digest: str, actor: str, exc: KinkoError) -> None:
        try:
            with self.ctx.db.transaction() as session:
                self.ctx.audit.append(
                    session,
                    actor=actor,
                    action="screening.list_refused",
                    subject=f"file:{path.name}",
                    details={"sha256": digest, "error": exc.code, "reason": exc.message[:2000]},
                )
        except Exception:
            log.exception("could not audit a refused list load", file=path.name)
        self.ctx.bus.publish(
            SecurityEvent(
                type="screening.list_refused",
                time=self.ctx.clock.now(),
                actor=actor,
                outcome="failure",
                severity="high",
                fields={"file": path.name, "sha256": digest, "error": exc.code},
            )
        )

    def _publish_stale(
        self, reasons: tuple[str, ...], *, subject: str, session: Session | None = None
    ) -> None:
        """Published once `session` commits when it is a unit of work (a monitor in this
        process then records its alert in a transaction of its own: on SQLite it could not
        while this one holds the writer's turn); at once otherwise."""
        event = SecurityEvent(
            type="screening.stale",
            time=self.ctx.clock.now(),
            outcome="failure",
            severity="high",
            fields={"subject": subject, "reasons": list(reasons)},
        )
        if session is not None and in_unit_of_work(session):
            publish_after_commit(session, self.ctx.bus, event)
        else:
            self.ctx.bus.publish(event)

    def _publish_alerts(self, alerts: Iterable[Alert]) -> None:
        now = self.ctx.clock.now()
        self.ctx.bus.publish_all([alert.event(now) for alert in alerts])


def _status(hit: bool, stale_reasons: tuple[str, ...]) -> VerdictStatus:
    """A hit denies even with stale lists; otherwise stale lists hold; otherwise clear."""
    if hit:
        return VerdictStatus.HIT
    return VerdictStatus.STALE if stale_reasons else VerdictStatus.CLEAR


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    if path.is_file():
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()
