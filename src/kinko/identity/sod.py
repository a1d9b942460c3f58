"""Separation of duties: the conflict matrix and the pure checks built on it.

A conflict names two roles that one person must not hold. With ``same_scope`` the pair
conflicts only where the two grants' scopes overlap (e.g. requesting and approving on
the same wallet); otherwise it conflicts whatever the scopes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kinko.core.errors import ApprovalError, InputError, PermissionDenied
from kinko.identity.four_eyes import Person, Step, check_second
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role, parse_role


@dataclass(frozen=True, slots=True)
class ConflictRule:
    first: Role
    second: Role
    same_scope: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"roles": [self.first.value, self.second.value], "same_scope": self.same_scope}

    def __str__(self) -> str:
        suffix = " on the same scope" if self.same_scope else ""
        return f"{self.first.value} × {self.second.value}{suffix}"


@dataclass(frozen=True, slots=True)
class ConflictMatrix:
    rules: tuple[ConflictRule, ...]

    def __post_init__(self) -> None:
        if not self.rules:
            raise InputError(
                "conflicts", "an empty conflict matrix would allow every combination; refused"
            )

    @classmethod
    def parse(cls, value: object) -> ConflictMatrix:
        """Parse ``[{"roles": ["a", "b"], "same_scope": bool}, ...]`` or refuse."""
        if not isinstance(value, list):
            raise InputError("conflicts", "must be a list of {roles: [a, b], same_scope} objects")
        rules: list[ConflictRule] = []
        for i, item in enumerate(value):
            field = f"conflicts[{i}]"
            if not isinstance(item, dict) or set(item) - {"roles", "same_scope"}:
                raise InputError(field, "must be an object with 'roles' and 'same_scope'")
            roles = item.get("roles")
            if not isinstance(roles, list) or len(roles) != 2:
                raise InputError(f"{field}.roles", "must list exactly two role names")
            same = item.get("same_scope", False)
            if not isinstance(same, bool):
                raise InputError(f"{field}.same_scope", "must be true or false")
            first = parse_role(str(roles[0]), field=f"{field}.roles")
            second = parse_role(str(roles[1]), field=f"{field}.roles")
            if first == second:
                raise InputError(f"{field}.roles", "a role cannot conflict with itself")
            rules.append(ConflictRule(first, second, same))
        return cls(tuple(rules))

    def to_list(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.rules]


DEFAULT_MATRIX = ConflictMatrix(
    (
        ConflictRule(Role.REQUESTER, Role.APPROVER, same_scope=True),
        ConflictRule(Role.SECURITY_ADMIN, Role.APPROVER),
        ConflictRule(Role.OPERATOR, Role.AUDITOR),
        ConflictRule(Role.SECURITY_ADMIN, Role.AUDITOR),
    )
)


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Empty means "all", so it overlaps everything."""
    return not a or not b or bool(set(a) & set(b))


def _scopes_overlap(a: RoleGrant, b: RoleGrant) -> bool:
    return _overlap(a.assets, b.assets) and _overlap(a.wallets, b.wallets)


def conflicts(
    held: Iterable[RoleGrant], new: RoleGrant, matrix: ConflictMatrix
) -> list[tuple[RoleGrant, ConflictRule]]:
    """Every held grant that `new` would conflict with, with the rule that says so."""
    out: list[tuple[RoleGrant, ConflictRule]] = []
    for grant in held:
        for rule in matrix.rules:
            if {grant.role, new.role} != {rule.first, rule.second}:
                continue
            if rule.same_scope and not _scopes_overlap(grant, new):
                continue
            out.append((grant, rule))
    return out


def check_sod(held: Iterable[RoleGrant], new: RoleGrant, matrix: ConflictMatrix) -> None:
    """Raise `PermissionDenied` naming the conflicting pair if `new` may not be added."""
    found = conflicts(held, new, matrix)
    if found:
        grant, rule = found[0]
        raise PermissionDenied(
            f"separation of duties: {new.role.value} conflicts with held role "
            f"{grant.role.value} ({rule})",
            code="sod_conflict",
        )


def check_matrix_holds(grants: Iterable[RoleGrant], matrix: ConflictMatrix) -> None:
    """Raise if a set of grants held by one person already violates `matrix`."""
    items = list(grants)
    for i, grant in enumerate(items):
        check_sod(items[:i], grant, matrix)


_NO_TIME = datetime.min.replace(tzinfo=UTC)  # a step without a lifetime: time plays no part


def check_approvers(requester: str, approvers: Sequence[str], required: int) -> None:
    """The withdrawal-approval SoD rule: distinct approvers, none of them the requester.

    Raises `ApprovalError` with e.g. "approved by 1/2 required approvers".
    """
    if required < 1:
        raise InputError("required", "a quorum must require at least one approver")
    # The rules are the four-eyes rules (kinko.identity.four_eyes), written once there.
    step = Step("this request", requester, None, _NO_TIME, proposed="requested")
    seen: list[str] = []
    for approver in approvers:
        check_second(step, Person(approver), now=_NO_TIME, counted=seen)
        seen.append(approver)
    if len(seen) < required:
        raise ApprovalError(f"approved by {len(seen)}/{required} required approvers")
