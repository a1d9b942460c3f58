"""The pure separation-of-duties checks."""

from __future__ import annotations

import pytest

from kinko.core.errors import ApprovalError, InputError, PermissionDenied
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import PERMISSIONS, ROLE_PERMISSIONS, Role
from kinko.identity.sod import DEFAULT_MATRIX, ConflictMatrix, check_approvers, check_sod, conflicts


def test_every_documented_permission_is_granted_by_some_role() -> None:
    assert set().union(*ROLE_PERMISSIONS.values()) == PERMISSIONS
    assert len(PERMISSIONS) == 29  # inspection:run (#17), liabilities:import (#19)


def test_auditor_is_read_only() -> None:
    assert all(p.endswith((":read", ":export")) for p in ROLE_PERMISSIONS[Role.AUDITOR])


def test_same_scope_rule_only_fires_on_overlap() -> None:
    held = [RoleGrant(Role.REQUESTER, wallets=("hot",))]
    assert conflicts(held, RoleGrant(Role.APPROVER, wallets=("cold",)), DEFAULT_MATRIX) == []
    assert conflicts(held, RoleGrant(Role.APPROVER), DEFAULT_MATRIX)  # unscoped = all wallets
    assert conflicts(held, RoleGrant(Role.APPROVER, wallets=("hot",)), DEFAULT_MATRIX)


def test_unscoped_rule_fires_whatever_the_scope() -> None:
    with pytest.raises(PermissionDenied, match="security_admin × approver"):
        check_sod(
            [RoleGrant(Role.SECURITY_ADMIN)],
            RoleGrant(Role.APPROVER, assets=("BTC",)),
            DEFAULT_MATRIX,
        )


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ([], "conflicts"),
        ("x", "conflicts"),
        ([{"roles": ["approver"]}], "conflicts[0].roles"),
        ([{"roles": ["approver", "nope"]}], "conflicts[0].roles"),
        ([{"roles": ["approver", "approver"]}], "conflicts[0].roles"),
        ([{"roles": ["approver", "ciso"], "same_scope": "yes"}], "conflicts[0].same_scope"),
        ([{"roles": ["approver", "ciso"], "extra": 1}], "conflicts[0]"),
    ],
)
def test_bad_matrix_is_refused_naming_the_field(value: object, field: str) -> None:
    with pytest.raises(InputError) as info:
        ConflictMatrix.parse(value)
    assert info.value.field == field


def test_matrix_round_trips() -> None:
    assert ConflictMatrix.parse(DEFAULT_MATRIX.to_list()) == DEFAULT_MATRIX


def test_check_approvers() -> None:
    check_approvers("alice", ["bob", "carol"], 2)
    with pytest.raises(ApprovalError, match="1/2 required"):
        check_approvers("alice", ["bob"], 2)
    with pytest.raises(ApprovalError, match="alice requested this request and cannot approve"):
        check_approvers("alice", ["alice", "bob"], 2)
    with pytest.raises(ApprovalError, match="distinct people"):
        check_approvers("alice", ["bob", "bob"], 2)
    with pytest.raises(InputError):
        check_approvers("alice", [], 0)
