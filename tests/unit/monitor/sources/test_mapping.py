"""The source mappings (kinko.monitor.sources): field names as SigmaHQ's rules use them,
Kinko's own fields, the clashes resolved, and refusals that name the record and field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kinko.core.errors import InputError
from kinko.monitor.sources import SOURCES, parse_record, parse_source, source_named
from kinko.monitor.sources.base import dotted, flatten

SAMPLES = Path(__file__).parents[3] / "fixtures" / "sources"


def _read(path: str) -> str:
    return (SAMPLES / path).read_text(encoding="utf-8")


def test_every_documented_source_has_samples_and_a_schema_url() -> None:
    readme = _read("README.md")
    for source in SOURCES.values():
        assert source.schema_url in readme, source.name
        assert f"`{source.name}`" in readme, source.name


def test_cloudtrail_envelope_and_json_lines_give_the_same_mapping() -> None:
    records = json.loads(_read("cloudtrail/attack.json"))["Records"]
    from_envelope = parse_source(SOURCES["cloudtrail"], _read("cloudtrail/attack.json"))
    lines = "\n".join(json.dumps(r) for r in records)
    assert parse_source(SOURCES["cloudtrail"], lines) == from_envelope
    login = from_envelope[0]
    assert login.type == "aws.signin.console_login"
    assert login.actor == "arn:aws:iam::123456789012:user/deploy-bot"
    assert login.outcome == "success"
    assert login.source_ip == "198.51.100.23"
    assert login.time == datetime(2026, 11, 21, 9, 0, 2, tzinfo=UTC)
    flat = login.flat()
    assert flat["additionalEventData.MFAUsed"] == "No"  # SigmaHQ's field names, nested
    assert flat["responseElements.ConsoleLogin"] == "Success"
    assert flat["logsource.product"] == "aws" and flat["logsource.service"] == "cloudtrail"
    failed = from_envelope[2]
    assert failed.outcome == "failure"  # responseElements.ConsoleLogin: Failure


def test_cloudtrail_service_callers_are_no_address() -> None:
    record = json.loads(_read("cloudtrail/attack.json"))["Records"][1]
    event = parse_record(
        SOURCES["cloudtrail"], {**record, "sourceIPAddress": "AWS Internal"}, where="r"
    )
    assert event.source_ip is None
    assert event.flat()["sourceIPAddress"] == "AWS Internal"


def test_auditd_type_is_the_record_type_and_kinko_keeps_its_own() -> None:
    events = parse_source(SOURCES["auditd"], _read("auditd/attack.log"))
    syscall, execve = events[0].flat(), events[1].flat()
    assert syscall["type"] == "auditd.syscall" and syscall["record_type"] == "SYSCALL"
    assert syscall["SYSCALL"] == "execve"  # ENRICHED fields after the 0x1d separator
    assert syscall["a0"] == "55e0c6f0a2b0"  # SYSCALL arguments are registers, not text
    assert execve["a2"] == "id ; uname -a"  # EXECVE's hex-encoded argument decoded
    assert events[0].actor is None  # AUID unset
    add_user = events[4]
    assert add_user.actor == "ops" and add_user.outcome == "success"
    assert add_user.flat()["exe"] == "/usr/sbin/useradd"  # from the nested msg='…'


def test_github_actor_and_timestamp_are_kinkos_fields() -> None:
    (event, *_) = parse_source(SOURCES["github"], _read("github/attack.jsonl"))
    flat = event.flat()
    assert event.type == "github.repo.create_actions_secret"
    assert event.actor == "mallory-dev" == flat["actor"]  # the same meaning, one field
    assert event.time == datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    assert event.geo is not None and event.geo.country == "NL"
    assert "@timestamp" not in event.fields and "raw.actor" not in flat


def test_a_vendor_key_clashing_with_a_kinko_field_is_kept_under_raw() -> None:
    record = json.loads(_read("cloudtrail/attack.json"))["Records"][1]
    event = parse_record(SOURCES["cloudtrail"], {**record, "amount": 5, "origin": "x"}, where="r")
    flat = event.flat()
    assert "amount" not in flat and flat["raw.amount"] == 5 and flat["raw.origin"] == "x"


def test_okta_keeps_nested_names_and_floats_become_text() -> None:
    (event, *_) = parse_source(SOURCES["okta"], _read("okta/attack.jsonl"))
    flat = event.flat()
    assert event.type == "okta.user.session.start"
    assert event.actor == "dana.approver@exchange.example"
    assert flat["securityContext.isProxy"] is True
    assert flat["securityContext.asNumber"] == 60729
    assert flat["client.geographicalContext.geolocation.lat"] == "35.6895"
    assert event.geo is not None and event.geo.lat == 35.6895
    assert flat["outcome"] == "success" and flat["outcome.result"] == "SUCCESS"
    assert flat["severity"] == "INFO"


def test_entra_signin_adds_sentinel_columns() -> None:
    events = parse_source(SOURCES["entra-signin"], _read("entra/signin-attack.json"))
    denied = events[0].flat()
    assert denied["ResultType"] == "500121"
    assert denied["AuthenticationRequirement"] == "multiFactorAuthentication"
    assert "MFA denied" in denied["Status"] and denied["Status"].startswith("Failure")
    assert denied["userAgent"] == denied["properties.userAgent"]  # lifted from properties
    assert events[0].geo is not None and events[0].geo.country == "NL"
    assert events[2].flat()["DeviceDetail.isCompliant"] is False
    assert events[3].flat()["Status"] == "Success"


def test_lists_of_objects_give_lists_of_values_and_their_json_text() -> None:
    flat = flatten({"a": [{"b": 1, "c": {"d": "x"}}, {"b": 2}], "s": ["p", "q"]})
    assert flat["a.b"] == [1, 2] and flat["a.c.d"] == ["x"] and flat["s"] == ["p", "q"]
    assert json.loads(flat["a"]) == [{"b": 1, "c": {"d": "x"}}, {"b": 2}]
    (event, *_) = parse_source(SOURCES["workspace-login"], _read("workspace/attack.jsonl"))
    assert event.flat()["protoPayload.metadata.event.eventName"] == ["gov_attack_warning"]


def test_event_types_are_kinko_types() -> None:
    assert dotted("aws", "signin", "ConsoleLogin") == "aws.signin.console_login"
    assert dotted("okta", "user.session.start") == "okta.user.session.start"
    assert dotted("entra", "audit", "Add member to role") == "entra.audit.add_member_to_role"
    assert dotted("x", "3scale") == "x.n3scale"


@pytest.mark.parametrize(
    ("source", "text", "where"),
    [
        (
            "cloudtrail",
            '{"Records": [{"eventTime": "2026-11-21T09:00:00Z"}]}',
            "Records[0]: eventSource",
        ),
        (
            "cloudtrail",
            '{"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "eventTime": "2026"}',
            "line 1: eventTime",
        ),
        ("okta", '{"published": "2026-11-21T09:00:00Z", "eventType": "a.b"}\n{"oops', "line 2"),
        ("okta", '{"published": "2026-11-21T09:00:00", "eventType": "a.b"}', "line 1: published"),
        ("github", '{"action": "repo.create"}', "line 1: @timestamp"),
        ("auditd", "type=SYSCALL msg=audit(1795252800.211:1): a0=1\nnot an audit line", "line 2"),
        (
            "sshd",
            '{"SYSLOG_IDENTIFIER": "cron", "MESSAGE": "x", "__REALTIME_TIMESTAMP": "1"}',
            "line 1: SYSLOG_IDENTIFIER",
        ),
        ("kubernetes", '[{"verb": "get"}]', "[0]: requestReceivedTimestamp"),
        (
            "entra-signin",
            '{"records": [{"time": "2026-11-21T09:00:00Z"}]}',
            "records[0]: properties",
        ),
        (
            "entra-audit",
            '{"time": "2026-11-21T09:00:00Z", "operationName": "x", "properties": "oops"}',
            "line 1: properties",
        ),
        (
            "workspace-login",
            '{"timestamp": "2026-11-21T09:00:00Z", "protoPayload": {}}',
            "line 1: protoPayload.metadata.event.eventName",
        ),
    ],
)
def test_a_bad_record_refuses_the_batch_naming_where_and_which_field(
    source: str, text: str, where: str
) -> None:
    with pytest.raises(InputError) as caught:
        parse_source(SOURCES[source], text)
    assert caught.value.field == where
    assert caught.value.code in ("invalid_event", "invalid_input")


def test_unknown_source_and_oversized_batch_are_refused() -> None:
    with pytest.raises(InputError, match="unknown source 'splunk'; one of cloudtrail, okta"):
        source_named("splunk")
    with pytest.raises(InputError, match="at most 2 records"):
        parse_source(SOURCES["okta"], _read("okta/benign.jsonl"), limit=2)
