"""Bybit 2025's cloud side, as CloudTrail would have recorded it at the wallet vendor: the
attacker tried to register an MFA device for the developer's identity (and failed), then
used the developer's hijacked AWS session to replace the signing page's JavaScript in the
S3 bucket that serves it, two days before the signing (Safe{Wallet} and Mandiant's
post-mortem, 2025-03-06: https://web3universe.today/safewallet-releases-bybit-hack-report/).

The records go into Kinko's monitor as the exchange's CloudTrail feed would (`kinko monitor
ingest --source cloudtrail`); what fired is read back from the monitor's answer.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from kinko.monitor.service import MonitorService
from kinko.monitor.sources import parse_source, source_named
from kinko.replays.bench import Bench

DEVELOPER = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0a1b2c/dev1"
ATTACKER_IP = "203.0.113.77"  # documentation range (RFC 5737): the attacker's address
MFA_TRIES = 3


def _record(when: str, source: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "eventTime": when,
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": ATTACKER_IP,
        "userAgent": "aws-cli/2.15.0",
        "userIdentity": {"type": "AssumedRole", "arn": DEVELOPER},
        **extra,
    }


def records(bench: Bench) -> list[dict[str, Any]]:
    """The attacker's cloud moves, ending two days before now (the signing)."""
    start = bench.clock.now() - timedelta(days=2, hours=1)

    def at(minutes: int) -> str:
        return (start + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")

    tries = [
        _record(at(i), "iam.amazonaws.com", "CreateVirtualMFADevice", errorCode="AccessDenied")
        for i in range(MFA_TRIES)
    ]
    swap = _record(
        at(30),
        "s3.amazonaws.com",
        "PutObject",
        requestParameters={"bucketName": "app-signing-frontend", "key": "static/app.js"},
    )
    return [*tries, swap]


def cloud_break_in(bench: Bench, monitor: MonitorService) -> str:
    """Feed the cloud records to the monitor; what it said, in one line."""
    events = parse_source(source_named("cloudtrail"), json.dumps({"Records": records(bench)}))
    fired = sorted({r.rule_id for r in monitor.ingest(events)})
    return (
        f"cloud-side break-in ({len(events)} CloudTrail records) ingested two days before the "
        f"signing: {'alerts ' + ', '.join(fired) if fired else 'no rule fired'}"
    )
