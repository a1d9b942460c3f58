"""The bundle's shape: canonical, versioned, and every malformed field named."""

from __future__ import annotations

import json

import pytest

from kinko.core.canonical import canonical_json
from kinko.core.errors import InputError
from kinko.signer.bundle import parse_bundle
from tests.unit.signer.forge import Approver, Forge


@pytest.fixture
def document() -> dict[str, object]:
    forge = Forge()
    request, decided = forge.start()
    bob = Approver("user:bob", ["approver"])
    bundle = forge.bundle(request, decided, [(bob, *forge.approve(bob))])
    parsed: dict[str, object] = json.loads(bundle.to_bytes())
    return parsed


def test_round_trip_is_byte_identical_canonical_json(document: dict[str, object]) -> None:
    raw = canonical_json(document)
    assert parse_bundle(raw).to_bytes() == raw


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("format",), "something-else", "bundle.format"),
        (("version",), 4, "bundle.version"),
        (("version",), True, "bundle.version"),
        (("digest",), "ab" * 31, "bundle.digest"),
        (("digest",), "AB" * 32, "bundle.digest"),
        (("unsigned_tx",), "zz", "bundle.unsigned_tx"),
        (("approvals",), {}, "bundle.approvals"),
        (("audit", "request", "index"), -1, "bundle.audit.request.index"),
        (("audit", "decision", "hashes"), ["00"], "bundle.audit.decision.hashes[0]"),
        (("withdrawal", "id"), "", "bundle.withdrawal.id"),
        (("withdrawal", "expires_at"), None, "bundle.withdrawal.expires_at"),
    ],
)
def test_malformed_fields_are_named(
    document: dict[str, object], path: tuple[str, ...], value: object, field: str
) -> None:
    target: dict[str, object] = document
    for key in path[:-1]:
        inner = target[key]
        assert isinstance(inner, dict)
        target = inner
    target[path[-1]] = value
    with pytest.raises(InputError) as info:
        parse_bundle(canonical_json(document))
    assert info.value.field == field


def test_malformed_assertion_field_is_named(document: dict[str, object]) -> None:
    approvals = document["approvals"]
    assert isinstance(approvals, list)
    approvals[0]["assertion"]["signature"] = "***"
    with pytest.raises(InputError) as info:
        parse_bundle(canonical_json(document))
    assert info.value.field == "bundle.approvals[0].assertion.signature"


def test_not_json_is_refused() -> None:
    with pytest.raises(InputError, match="bundle: is not JSON"):
        parse_bundle(b"{nope")


def test_descriptor_is_optional_and_round_trips(document: dict[str, object]) -> None:
    assert parse_bundle(canonical_json(document)).descriptor is None
    withdrawal = document["withdrawal"]
    assert isinstance(withdrawal, dict) and "descriptor" not in withdrawal
    withdrawal["descriptor"] = "wsh(sortedmulti(2,…))"
    raw = canonical_json(document)
    parsed = parse_bundle(raw)
    assert parsed.descriptor == "wsh(sortedmulti(2,…))" and parsed.to_bytes() == raw
    withdrawal["descriptor"] = ""
    with pytest.raises(InputError) as err:
        parse_bundle(canonical_json(document))
    assert err.value.field == "bundle.withdrawal.descriptor"


@pytest.mark.parametrize("version", [1, 2])
def test_versions_whose_approvals_sign_the_bare_digest_are_refused(
    document: dict[str, object], version: int
) -> None:
    document["version"] = version
    with pytest.raises(InputError) as info:
        parse_bundle(canonical_json(document))
    assert info.value.field == "bundle.version" and info.value.code == "bundle_version_refused"
    assert "sign the transaction digest alone" in info.value.message
    assert "Export the bundle again with this Kinko (version 3" in info.value.message


@pytest.mark.parametrize("binding", [None, "password"])
def test_binding_must_be_known(document: dict[str, object], binding: str | None) -> None:
    approvals = document["approvals"]
    assert isinstance(approvals, list)
    approvals[0]["binding"] = binding
    with pytest.raises(InputError) as info:
        parse_bundle(canonical_json(document))
    assert info.value.field == "bundle.approvals[0].binding"


@pytest.mark.parametrize("nonce", [None, "AAAA"])
def test_a_webauthn_approval_carries_its_32_byte_nonce(
    document: dict[str, object], nonce: str | None
) -> None:
    approvals = document["approvals"]
    assert isinstance(approvals, list)
    approvals[0]["nonce"] = nonce
    with pytest.raises(InputError) as info:
        parse_bundle(canonical_json(document))
    assert info.value.field == "bundle.approvals[0].nonce"


def test_a_server_attested_approval_round_trips(document: dict[str, object]) -> None:
    approvals = document["approvals"]
    assert isinstance(approvals, list)
    approvals[0] = {
        "approver": "user:bob",
        "binding": "totp_server_attested",
        "attestation": {"digest": "ab" * 32, "time": "2026-11-21T09:00:00Z", "mac": "cd" * 32},
        "audit": approvals[0]["audit"],
    }
    raw = canonical_json(document)
    parsed = parse_bundle(raw)
    assert parsed.approvals[0].binding == "totp_server_attested"
    assert parsed.approvals[0].attestation is not None
    assert parsed.to_bytes() == raw
    del approvals[0]["attestation"]["mac"]
    with pytest.raises(InputError) as info:
        parse_bundle(canonical_json(document))
    assert info.value.field == "bundle.approvals[0].attestation.mac"
