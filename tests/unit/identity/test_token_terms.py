"""The token step-up's challenge document (docs/identity.md, "A step-up authorises one
token"): its exact bytes, and that every field it names is bound."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from kinko.core.errors import PermissionDenied
from kinko.identity.binding import check_binding, new_binding
from kinko.identity.token_terms import TokenTerms

TERMS = TokenTerms(
    owner="usr_1",
    name="siem",
    permissions=("freeze:set", "users:write"),
    assets=(),
    ip_allowlist=("10.0.0.0/8",),
    ttl_seconds=2592000,
)


def test_the_document_is_canonical_json_as_documented() -> None:
    document = TERMS.document(bytes(32))
    assert document == (
        b'{"assets":[],"ip_allowlist":["10.0.0.0/8"],"name":"siem",'
        b'"nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","owner":"usr_1",'
        b'"permissions":["freeze:set","users:write"],"purpose":"create_token",'
        b'"request":null,"ttl_seconds":2592000,"type":"kinko.token-create.v1"}'
    )
    with pytest.raises(ValueError, match="32 bytes"):
        TERMS.document(b"short")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("owner", "usr_2"),
        ("name", "siem2"),
        ("permissions", ("freeze:set",)),
        ("assets", ("ETH",)),
        ("ip_allowlist", ()),
        ("ttl_seconds", 2592001),
        ("request", "BCDF-GHJK"),
    ],
)
def test_every_field_is_bound(field: str, value: object) -> None:
    challenge, document = new_binding(TERMS)
    assert hashlib.sha256(document.encode()).digest() == challenge
    check_binding(challenge, document, TERMS)  # the same terms pass
    other = dataclasses.replace(TERMS, **{field: value})
    with pytest.raises(PermissionDenied, match=rf"\({field} differ\)") as refused:
        check_binding(challenge, document, other)
    assert refused.value.code == "step_up_mismatch"


def test_a_document_that_does_not_hash_to_the_challenge_is_refused() -> None:
    challenge, _ = new_binding(TERMS)
    _, other_document = new_binding(TERMS)  # same terms, another nonce
    with pytest.raises(PermissionDenied, match="the challenge differ"):
        check_binding(challenge, other_document, TERMS)
    with pytest.raises(PermissionDenied, match="not given for this token"):
        check_binding(challenge, None, TERMS)
