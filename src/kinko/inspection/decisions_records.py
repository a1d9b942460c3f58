"""Controls decided from Kinko's other records, day by day (pure): dormant accounts from
account creation and sign-in days (IAM-06), ECDSA nonce reuse from the signature log
(KEY-08). Only what Kinko holds: sign-ins to Kinko itself (console and CLI sessions), and
the signatures its signer made or that were imported from the chain."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from kinko.custody.nonce import FindingKind, SignatureRecord, find_repeated_r
from kinko.identity.permissions import PRIVILEGED_ROLES
from kinko.inspection.evaluate import (
    Decider,
    Evidence,
    Period,
    Row,
    Tally,
    daily,
    parameter,
    row,
)
from kinko.inspection.history import Signature
from kinko.inspection.snapshot import Snapshot


def iam_06(t: Tally, period: Period, evidence: Evidence) -> str:
    limit = int(parameter(t.control, "max_inactivity"))
    accounts = evidence.activity

    def check(day: date, snap: Snapshot) -> None:
        for p in snap.people:
            if p.state is None:
                t.lack(day, f"people[{p.id}].state: unknown on this day (back-filled)")
                continue
            if p.state != "active" or accounts is None:
                continue
            t.applies = True
            account = accounts.get(p.id)
            if account is None:
                t.lack(day, f"people[{p.id}]: no account record to read sign-ins from")
                continue
            last = account.last_on_or_before(day)
            since = last or account.created
            if (day - since).days > limit:
                privileged = any(g.role in PRIVILEGED_ROLES for g in p.grants)
                value = f"no sign-in since {last}" if last else f"never signed in (created {since})"
                t.fail(
                    day,
                    "inactivity",
                    value,
                    f"{limit} days",
                    f"{p.username} ({p.id}), {'privileged' if privileged else 'unprivileged'}, "
                    "is active",
                    (row(f"people[{p.id}]", p),),
                )

    if accounts is None:
        t.undecided.append("sign-ins were not read")
    daily(t, period, evidence, check)
    return (
        f"no active Kinko account has gone more than {limit} days (organisation-defined "
        "max_inactivity) without a sign-in (a console or CLI session), counted from its "
        "creation when it never signed in, on any day"
    )


def _kinds(kind: FindingKind) -> str:
    return (
        "one key (its private key can be computed)"
        if kind is FindingKind.SAME_KEY
        else ("different keys (the nonce generator is broken or shared)")
    )


def key_08(t: Tally, period: Period, evidence: Evidence) -> str:
    signatures = evidence.signatures
    if signatures is None:
        t.undecided.append("the signature log was not read")
        return "no r value repeats across the signatures of the exchange's keys"
    held = [s for s in signatures if s.recorded <= period.end]
    if not held:
        t.undecided.append(
            "the signature log holds no signature: Kinko cannot tell whether the keys signed"
        )
    t.applies = bool(held)
    by_record: Mapping[SignatureRecord, Signature] = {
        SignatureRecord(s.chain, s.txid, s.public_key, int(s.r, 16), int(s.s, 16), s.digest): s
        for s in held
    }
    for finding in find_repeated_r(by_record):
        sigs = [by_record[r] for r in finding.signatures]
        seen = max(s.recorded for s in sigs)
        rows = tuple(Row(f"signature_log[{s.chain}:{s.txid}]", s.row_digest) for s in sigs)
        day = max(seen, period.start)
        while day <= period.end:
            t.fail(
                day,
                "no repeated r",
                f"r {finding.r:064x} in {len(sigs)} signatures",
                "each r once",
                f"by {_kinds(finding.kind)}: "
                + ", ".join(f"{s.chain}:{s.txid} ({s.public_key[:16]}...)" for s in sigs),
                rows,
            )
            day += timedelta(days=1)
    return (
        "no r value repeats across the signatures of the exchange's keys recorded in the "
        "signature log (made by Kinko's signer or imported from the chain), from the day "
        "the repeat was recorded"
    )


RECORD_DECIDERS: dict[str, Decider] = {"IAM-06": iam_06, "KEY-08": key_08}
