"""Linux hosts: auditd's log lines and sshd's journal (``journalctl -o json``).

auditd writes ``type=SYSCALL msg=audit(1733562000.123:4242): key=value ...`` (log_format
RAW, or ENRICHED with the interpreted ``ARCH=``, ``SYSCALL=``, ``AUID=`` fields after a
0x1d separator). Every ``key=value`` is a field under auditd's own name, as SigmaHQ's auditd
rules test them (``a0``, ``exe``, ``SYSCALL``, ``key``), with one exception: auditd's
record ``type`` is ``record_type``, because ``type`` is Kinko's event type
(``auditd.execve``). Rules keep writing ``type: EXECVE``: the rule-side pipeline
(`kinko.monitor.sources.pipeline`) maps it for rules of logsource linux/auditd.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kinko.core.errors import InputError
from kinko.monitor.sources.base import Mapped, Source, dotted, epoch, need, outcome_of, text

_HEADER = re.compile(
    r"^type=(?P<type>[A-Za-z0-9_]+) msg=audit\((?P<sec>\d+)\.(?P<ms>\d{3}):(?P<serial>\d+)\):\s?"
)
_MSG = re.compile(r"^audit\((?P<sec>\d+)\.(?P<ms>\d{3}):(?P<serial>\d+)\)$")
_PAIR = re.compile(r"""([A-Za-z0-9_-]+)=("[^"]*"|'[^']*'|\S*)""")
_HEX = re.compile(r"^(?:[0-9A-F]{2})+$")
_HEX_FIELDS = re.compile(r"^(?:a\d+|proctitle|name|exe|comm|cwd|cmd|data)$")
UNSET_AUID = "4294967295"


def _decode(key: str, value: str, record_type: str) -> str:
    """auditd writes a string holding a space, a quote or a control character as
    unquoted hex: decode it (EXECVE arguments, proctitle, names). SYSCALL's ``a0``-``a3``
    are register values, left as written."""
    if record_type == "SYSCALL" or not _HEX_FIELDS.match(key) or not _HEX.match(value):
        return value
    try:
        decoded = bytes.fromhex(value).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return value
    return decoded.replace("\x00", " ").strip() if key == "proctitle" else decoded


def _pairs(body: str, record_type: str, out: dict[str, Any]) -> None:
    for key, raw in _PAIR.findall(body.replace("\x1d", " ")):
        if raw.startswith("'") and raw.endswith("'") and len(raw) >= 2:
            _pairs(raw[1:-1], record_type, out)  # USER_* records nest their fields in msg='…'
            continue
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            out[key] = raw[1:-1]
        else:
            out[key] = _decode(key, raw, record_type)


def auditd_record(line: str, where: str) -> dict[str, Any]:
    """One audit.log line as a record: its header (``record_type``, ``msg``) and fields."""
    match = _HEADER.match(line)
    if match is None:
        raise InputError(
            where,
            "is not an auditd record (expected 'type=NAME msg=audit(SECONDS.MS:SERIAL): …', "
            "as /var/log/audit/audit.log holds them)",
            code="invalid_event",
        )
    record_type = match["type"]
    record: dict[str, Any] = {}
    _pairs(line[match.end() :], record_type, record)
    record["type"] = record_type
    record["msg"] = f"audit({match['sec']}.{match['ms']}:{match['serial']})"
    return record


def auditd(record: Mapping[str, Any], where: str) -> Mapped:
    """type ``auditd.<record type>`` (``auditd.execve``), actor the interpreted ``AUID``
    (else ``auid``, unless unset), address ``addr``, outcome from ``success`` / ``res``."""
    stamp = _MSG.match(str(need(record, "msg", where, "auditd records have msg=audit(…)")))
    if stamp is None:
        raise InputError(f"{where}: msg", "is not audit(SECONDS.MS:SERIAL)", code="invalid_event")
    when = epoch(int(stamp["sec"]) * 1000 + int(stamp["ms"]), where, "msg", per_second=1000)
    auid = text(record.get("AUID")) or text(record.get("auid"))
    result = record.get("success", record.get("res"))
    ok = None if result is None else str(result) in ("yes", "success")
    return Mapped(
        time=when,
        type=dotted("auditd", str(need(record, "type", where, "auditd records have a type"))),
        actor=None if auid in (None, UNSET_AUID, "unset") else auid,
        source_ip=text(record.get("addr")),
        outcome=outcome_of(ok),
    )


_FROM = r"from (?P<ip>\S+) port (?P<port>\d+)"
_ACCEPTED = re.compile(r"^Accepted (?P<method>\S+) for (?P<user>\S+) " + _FROM)
_FAILED = re.compile(r"^Failed (?P<method>\S+) for (?:invalid user )?(?P<user>\S+) " + _FROM)
_INVALID = re.compile(r"^Invalid user (?P<user>\S*) " + _FROM)
SSHD_IDENTIFIERS = frozenset({"sshd", "sshd-session"})


def _message(value: Any) -> str:
    if isinstance(value, list):  # journald writes a non-UTF-8 message as its bytes
        return bytes(v for v in value if isinstance(v, int) and 0 <= v < 256).decode(
            "utf-8", "replace"
        )
    return "" if value is None else str(value)


def sshd(record: Mapping[str, Any], where: str) -> Mapped:
    """One sshd journal entry: ``Accepted …`` is ``sshd.accepted`` (success), ``Failed …``
    ``sshd.failed`` and ``Invalid user …`` ``sshd.invalid_user`` (failures), anything else
    ``sshd.message``; the parsed ``user``, ``auth_method``, ``port`` are added fields."""
    hint = "journal entries (journalctl -o json) carry __REALTIME_TIMESTAMP and MESSAGE"
    ident = record.get("SYSLOG_IDENTIFIER")
    if ident not in SSHD_IDENTIFIERS:
        raise InputError(
            f"{where}: SYSLOG_IDENTIFIER",
            f"{ident!r} is not sshd; export only sshd's entries "
            "(journalctl -t sshd -t sshd-session -o json)",
            code="invalid_event",
        )
    stamp = need(record, "__REALTIME_TIMESTAMP", where, hint)
    message = _message(need(record, "MESSAGE", where, hint))
    kind, ok, found = "message", None, None
    for name, pattern, success in (
        ("accepted", _ACCEPTED, True),
        ("failed", _FAILED, False),
        ("invalid_user", _INVALID, False),
    ):
        found = pattern.match(message)
        if found is not None:
            kind, ok = name, success
            break
    parts = found.groupdict() if found is not None else {}
    extra = {"MESSAGE": message, "user": parts.get("user"), "port": parts.get("port")}
    extra["auth_method"] = parts.get("method")
    return Mapped(
        time=epoch(stamp, where, "__REALTIME_TIMESTAMP", per_second=1_000_000),
        type=f"sshd.{kind}",
        actor=parts.get("user"),
        source_ip=parts.get("ip"),
        outcome=outcome_of(ok),
        fields={k: v for k, v in extra.items() if v is not None},
    )


AUDITD = Source(
    name="auditd",
    title="Linux auditd (audit.log lines)",
    logsource=("linux", "auditd", None),
    schema_url="https://docs.redhat.com/en/documentation/red_hat_enterprise_linux/9/html/security_hardening/auditing-the-system_security-hardening#understanding-audit-log-files_auditing-the-system",
    mapping=auditd,
    renames={"type": "record_type"},
    key_field="record_type",
    text_lines=True,
)
SSHD = Source(
    name="sshd",
    title="OpenSSH sshd (systemd journal JSON)",
    logsource=("linux", "sshd", None),
    schema_url="https://www.freedesktop.org/software/systemd/man/latest/systemd.journal-fields.html",
    mapping=sshd,
    body_field="MESSAGE",
)
