"""``kinko user|role|mfa|token ...``: staff, roles and four-eyes proposals, factors, tokens.

The listings here read the database. The commands that act (`kinko.cli.identity_actions`)
are requests to the API as the signed-in person (`kinko login`): the server checks their
roles and the four-eyes rules, and the audit log names them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from kinko.cli.common import echo_json, open_services
from kinko.cli.output import JsonOption, Names, guarded_json, human_time, json_time, print_table
from kinko.identity.model import ProposalState

if TYPE_CHECKING:
    pass

user_app = typer.Typer(help="Staff users.", no_args_is_help=True)
role_app = typer.Typer(help="Roles and four-eyes proposals.", no_args_is_help=True)
mfa_app = typer.Typer(help="MFA factors.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for the exchange backend.", no_args_is_help=True)


@user_app.command("list")
def user_list(as_json: JsonOption = False) -> None:
    """List users with their state and roles."""
    with guarded_json(as_json), open_services() as services:
        ids = services.identity
        with services.ctx.db.transaction() as session:
            users = [(u, ids.roles_of(session, u.id)) for u in ids.users.list_users(session)]
    if as_json:
        echo_json(
            [
                {
                    "id": user.id,
                    "username": user.username,
                    "display_name": user.display_name,
                    "state": user.state.value,
                    "created_at": json_time(user.created_at),
                    "roles": [grant.to_dict() for grant in grants],
                }
                for user, grants in users
            ]
        )
        return
    print_table(
        ("username", "name", "id", "state", "roles"),
        [
            (
                user.username,
                user.display_name or "-",
                user.id,
                user.state.value,
                ", ".join(_grant_text(g.to_dict()) for g in grants) or "-",
            )
            for user, grants in users
        ],
        whole={"username", "id"},
    )


def _grant_text(grant: dict[str, Any]) -> str:
    scope = [*grant.get("assets", ()), *grant.get("wallets", ())]
    return f"{grant['role']}[{' '.join(scope)}]" if scope else str(grant["role"])


@role_app.command("list")
def role_list(
    pending: Annotated[bool, typer.Option(help="Only pending proposals.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List proposals."""
    with (
        guarded_json(as_json),
        open_services() as services,
        services.ctx.db.transaction() as session,
    ):
        state = ProposalState.PENDING if pending else None
        proposals = services.identity.roles.list_proposals(session, state)
        names = Names.load(session)
    if as_json:
        echo_json(
            [
                {
                    "id": p.id,
                    "kind": p.kind.value,
                    "state": p.state.value,
                    "user_id": p.payload.get("user_id"),
                    "user_username": names.username(p.payload.get("user_id")),
                    "payload": p.payload,
                    "proposer_id": p.proposer_id,
                    "proposer_username": names.username(p.proposer_id),
                    "reason": p.reason,
                    "created_at": json_time(p.created_at),
                    "decided_by_id": p.decided_by,
                    "decided_by_username": names.username(p.decided_by),
                }
                for p in proposals
            ]
        )
        return
    print_table(
        ("id", "kind", "state", "user", "change", "proposer", "reason"),
        [
            (
                p.id,
                p.kind.value,
                p.state.value,
                names.user(p.payload.get("user_id")),
                _change_text(p.payload),
                names.user(p.proposer_id),
                p.reason,
            )
            for p in proposals
        ],
        whole={"id"},
    )


def _change_text(payload: dict[str, Any]) -> str:
    """What a proposal changes, without the user it is about."""
    if "role" in payload:
        return _grant_text(payload)
    rest = {k: v for k, v in payload.items() if k != "user_id"}
    return " ".join(f"{k}={v}" for k, v in sorted(rest.items())) or "-"


@mfa_app.command("list")
def mfa_list(username: str, as_json: JsonOption = False) -> None:
    """List a user's factors (give one to 'mfa reset --factor')."""
    with (
        guarded_json(as_json),
        open_services() as services,
        services.ctx.db.transaction() as session,
    ):
        ids = services.identity
        user = ids.users.require_user(session, username)
        user_id = user.id
        factors = ids.mfa.factors(session, user_id)
    if as_json:
        echo_json(
            {
                "user_id": user_id,
                "username": username,
                "factors": [
                    {
                        "factor": f["factor"],
                        "sign_count": f.get("sign_count"),
                        "remaining": f.get("remaining"),
                    }
                    for f in factors
                ],
            }
        )
        return
    print_table(
        ("factor", "sign count", "remaining"),
        [
            (f["factor"], str(f.get("sign_count") or "-"), str(f.get("remaining", "-")))
            for f in factors
        ],
        whole={"factor"},
        title=f"MFA factors of {username}",
    )


@token_app.command("list")
def token_list(as_json: JsonOption = False) -> None:
    """List API tokens (never their secrets)."""
    with (
        guarded_json(as_json),
        open_services() as services,
        services.ctx.db.transaction() as session,
    ):
        tokens = services.identity.tokens.list_tokens(session)
        names = Names.load(session)
    if as_json:
        echo_json(
            [
                {
                    "id": t.id,
                    "owner_id": t.owner_id,
                    "owner_username": names.username(t.owner_id),
                    "name": t.name,
                    "permissions": list(t.permissions),
                    "assets": list(t.assets),
                    "ip_allowlist": list(t.ip_allowlist),
                    "created_at": json_time(t.created_at),
                    "expires_at": json_time(t.expires_at),
                    "revoked_at": json_time(t.revoked_at),
                    "last_used_at": json_time(t.last_used_at),
                    "last_used_ip": t.last_used_ip,
                }
                for t in tokens
            ]
        )
        return
    print_table(
        ("id", "owner", "name", "permissions", "assets", "expires", "revoked", "last used"),
        [
            (
                t.id,
                names.user(t.owner_id),
                t.name,
                " ".join(t.permissions),
                " ".join(t.assets) or "all",
                human_time(t.expires_at),
                "yes" if t.revoked_at else "no",
                f"{human_time(t.last_used_at)} {t.last_used_ip}" if t.last_used_at else "-",
            )
            for t in tokens
        ],
        whole={"id"},
    )


def register(app: typer.Typer) -> None:
    """Add this domain's commands to `app`."""
    from kinko.cli.identity_actions import register_actions

    register_actions(user_app, role_app, mfa_app, token_app)
    app.add_typer(user_app, name="user")
    app.add_typer(role_app, name="role")
    app.add_typer(mfa_app, name="mfa")
    app.add_typer(token_app, name="token")
