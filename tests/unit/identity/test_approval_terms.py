"""The four-eyes vote's step-up document (docs/identity.md, "A step-up authorises one
vote"): its exact bytes, and that every field it names is bound."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from kinko.core.errors import InputError, PermissionDenied
from kinko.identity.approval_terms import ApprovalKind, ApprovalTerms, content_digest
from kinko.identity.binding import check_binding, document, new_binding
from kinko.identity.token_terms import TokenTerms

CONTENT = {"kind": "grant_role", "payload": {"user_id": "usr_2", "role": "approver"}}
TERMS = ApprovalTerms.of(ApprovalKind.PROPOSAL, "prp_1", "usr_1", CONTENT)


def test_the_document_is_canonical_json_as_documented() -> None:
    digest = hashlib.sha256(
        b'{"kind":"grant_role","payload":{"role":"approver","user_id":"usr_2"}}'
    ).hexdigest()
    assert TERMS.content == digest == content_digest(dict(reversed(CONTENT.items())))
    assert document(TERMS, bytes(32)) == (
        b'{"approver":"usr_1","content":"' + digest.encode() + b'","kind":"proposal",'
        b'"nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","purpose":"approve",'
        b'"subject":"prp_1","type":"kinko.four-eyes-approval.v1"}'
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kind", ApprovalKind.RESPONSE_RELEASE),
        ("subject", "prp_2"),
        ("approver", "usr_3"),
        ("content", content_digest({**CONTENT, "payload": {"role": "security_admin"}})),
    ],
)
def test_every_field_is_bound(field: str, value: object) -> None:
    challenge, stored = new_binding(TERMS)
    assert hashlib.sha256(stored.encode()).digest() == challenge
    check_binding(challenge, stored, TERMS)  # the same vote passes
    other = dataclasses.replace(TERMS, **{field: value})
    with pytest.raises(PermissionDenied, match=rf"\({field} differ\)") as refused:
        check_binding(challenge, stored, other)
    assert refused.value.code == "step_up_mismatch"


def test_a_token_step_up_is_no_vote_and_a_vote_no_token() -> None:
    token = TokenTerms("usr_1", "siem", ("freeze:set",), (), (), 3600)
    challenge, stored = new_binding(token)
    with pytest.raises(PermissionDenied, match="not given for this approval"):
        check_binding(challenge, stored, TERMS)
    challenge, stored = new_binding(TERMS)
    with pytest.raises(PermissionDenied, match="not given for this token"):
        check_binding(challenge, stored, token)


def test_kinds_parse_with_their_cli_spelling_and_refuse_others() -> None:
    assert ApprovalKind.parse("response-release") is ApprovalKind.RESPONSE_RELEASE
    assert ApprovalKind.parse("response_release") is ApprovalKind.RESPONSE_RELEASE
    with pytest.raises(InputError, match="kind: is not an approval kind: use one of proposal"):
        ApprovalKind.parse("withdrawal")
