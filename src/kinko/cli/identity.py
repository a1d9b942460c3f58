"""``kinko user|role|mfa|token ...``: staff, roles and four-eyes proposals, factors, tokens.

The CLI works on the database directly, so whoever runs it already has the server's
data directory. Mutating commands still name the acting administrator (``--as``) so that
the audit log says who did it and four-eyes rules (no self-approval) apply.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kinko.cli.common import console, echo_json, guarded, open_context
from kinko.cli.output import JsonOption, Names, guarded_json, human_time, json_time, print_table
from kinko.identity.model import ProposalKind, ProposalState, UserId, UserState

if TYPE_CHECKING:
    from kinko.context import Context

user_app = typer.Typer(help="Staff users.", no_args_is_help=True)
role_app = typer.Typer(help="Roles and four-eyes proposals.", no_args_is_help=True)
mfa_app = typer.Typer(help="MFA factors.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for the exchange backend.", no_args_is_help=True)

AsOption = Annotated[str, typer.Option("--as", help="Username of the acting security admin.")]
ReasonOption = Annotated[str, typer.Option(help="Why (recorded in the audit log).")]


def _actor_id(ctx: Context, username: str) -> UserId:
    from kinko.identity.service import IdentityService

    with ctx.db.transaction() as session:
        return UserId(IdentityService(ctx).users.require_user(session, username).id)


@user_app.command("add")
def user_add(
    username: str,
    actor: AsOption,
    display_name: Annotated[str, typer.Option(help="Full name.")] = "",
) -> None:
    """Invite a user; prints a one-time enrolment secret."""
    from kinko.identity.service import IdentityService

    with guarded(), open_context() as ctx:
        actor_id = _actor_id(ctx, actor)
        with ctx.db.transaction() as session:
            user_id, secret = IdentityService(ctx).users.add_user(
                session, username, actor=f"user:{actor_id}", display_name=display_name
            )
    console.print(f"Invited [bold]{username}[/] ({user_id})")
    console.print(f"One-time enrolment secret (shown once): {secret}")


@user_app.command("list")
def user_list(as_json: JsonOption = False) -> None:
    """List users with their state and roles."""
    from kinko.identity.service import IdentityService

    with guarded_json(as_json), open_context() as ctx, ctx.db.transaction() as session:
        ids = IdentityService(ctx)
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


def _change_state(username: str, state: UserState, actor: str, reason: str) -> None:
    """Propose USERNAME's new state; it applies at once only for someone unprivileged
    being suspended or removed (kinko.identity.rules)."""
    from kinko.identity.service import IdentityService

    with guarded(), open_context() as ctx:
        actor_id = _actor_id(ctx, actor)
        with ctx.db.transaction() as session:
            ids = IdentityService(ctx)
            target = ids.users.require_user(session, username)
            proposal = ids.roles.change_state(
                session, UserId(target.id), state, actor=actor_id, reason=reason
            )
    if proposal.state == ProposalState.APPROVED:
        console.print(f"[bold]{username}[/] is now {state.value}")
        return
    console.print(
        f"Proposal [bold]{proposal.id}[/]: {proposal.state.value} (four eyes: another "
        f"security admin runs 'kinko role approve {proposal.id} --as THEM')"
    )


@user_app.command("suspend")
def user_suspend(username: str, actor: AsOption, reason: ReasonOption) -> None:
    """Suspend a user (sessions and tokens revoked); a privileged one is a proposal."""
    _change_state(username, UserState.SUSPENDED, actor, reason)


@user_app.command("reinstate")
def user_reinstate(username: str, actor: AsOption, reason: ReasonOption) -> None:
    """Propose reinstating a suspended user (four eyes)."""
    _change_state(username, UserState.ACTIVE, actor, reason)


@user_app.command("remove")
def user_remove(username: str, actor: AsOption, reason: ReasonOption) -> None:
    """Remove a user for good; a privileged one is a proposal."""
    _change_state(username, UserState.REMOVED, actor, reason)


def _propose_for(
    username: str, kind: ProposalKind, payload: dict[str, Any], *, actor: str, reason: str
) -> None:
    """File a four-eyes proposal about USERNAME and print its id and state."""
    from kinko.identity.service import IdentityService

    with guarded(), open_context() as ctx:
        actor_id = _actor_id(ctx, actor)
        with ctx.db.transaction() as session:
            ids = IdentityService(ctx)
            target = ids.users.require_user(session, username)
            proposal = ids.roles.propose(
                session,
                actor=actor_id,
                kind=kind,
                payload={"user_id": target.id, **payload},
                reason=reason,
            )
    console.print(f"Proposal [bold]{proposal.id}[/]: {proposal.state.value}")


@role_app.command("propose")
def role_propose(
    username: str,
    role: str,
    *,
    actor: AsOption,
    reason: ReasonOption,
    asset: Annotated[list[str] | None, typer.Option(help="Limit to an asset.")] = None,
    wallet: Annotated[list[str] | None, typer.Option(help="Limit to a wallet.")] = None,
) -> None:
    """Propose granting ROLE to USERNAME (privileged roles wait for a second admin)."""
    payload = {"role": role, "assets": asset or [], "wallets": wallet or []}
    _propose_for(username, ProposalKind.GRANT_ROLE, payload, actor=actor, reason=reason)


@role_app.command("approve")
def role_approve(proposal_id: str, actor: AsOption) -> None:
    """Approve a pending proposal (a different security admin than the proposer)."""
    from kinko.identity.service import IdentityService

    with guarded(), open_context() as ctx:
        actor_id = _actor_id(ctx, actor)
        with ctx.db.transaction() as session:
            proposal = IdentityService(ctx).roles.approve(session, proposal_id, actor=actor_id)
    console.print(f"Proposal [bold]{proposal.id}[/]: {proposal.state.value}")


@role_app.command("list")
def role_list(
    pending: Annotated[bool, typer.Option(help="Only pending proposals.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List proposals."""
    from kinko.identity.service import IdentityService

    with guarded_json(as_json), open_context() as ctx, ctx.db.transaction() as session:
        state = ProposalState.PENDING if pending else None
        proposals = IdentityService(ctx).roles.list_proposals(session, state)
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


@mfa_app.command("enroll-totp")
def mfa_enroll_totp(username: str, enrolment_secret: str) -> None:
    """Enrol TOTP with the enrolment secret (not for privileged roles)."""
    from kinko.identity.service import IdentityService

    with guarded(), open_context() as ctx, ctx.db.transaction() as session:
        secret, uri, codes = IdentityService(ctx).enrol_totp(session, username, enrolment_secret)
    console.print(f"TOTP secret (shown once): {secret}\n{uri}")
    console.print("Recovery codes (each works once):\n" + "\n".join(codes))


@mfa_app.command("list")
def mfa_list(username: str, as_json: JsonOption = False) -> None:
    """List a user's factors (give one to 'mfa reset --factor')."""
    from kinko.identity.service import IdentityService

    with guarded_json(as_json), open_context() as ctx, ctx.db.transaction() as session:
        ids = IdentityService(ctx)
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


@mfa_app.command("reset")
def mfa_reset(
    username: str,
    actor: AsOption,
    reason: ReasonOption,
    factor: Annotated[str, typer.Option(help="'all', 'webauthn:<id>' or 'totp:<id>'.")] = "all",
) -> None:
    """Propose removing a user's factor(s); a second security admin approves."""
    _propose_for(username, ProposalKind.REMOVE_MFA, {"factor": factor}, actor=actor, reason=reason)


@token_app.command("create")
def token_create(
    owner: str,
    name: str,
    *,
    actor: AsOption,
    permission: Annotated[list[str], typer.Option(help="A permission (repeat).")],
    asset: Annotated[list[str] | None, typer.Option(help="Limit to an asset (repeat).")] = None,
    allow_ip: Annotated[list[str] | None, typer.Option(help="Allowed IP/CIDR (repeat).")] = None,
    days: Annotated[int, typer.Option(min=1, max=365, help="Lifetime in days.")] = 90,
    reason: Annotated[str, typer.Option(help="Why (a service account's token).")] = (
        "service account token"
    ),
) -> None:
    """Create an API token; printed once. OWNER is you (your own token, without privileged
    permissions: those need a WebAuthn step-up over the API) or a service account (a
    proposal: the token works once another security admin approves it)."""
    from kinko.identity.service import IdentityService

    with guarded(), open_context() as ctx:
        actor_id = _actor_id(ctx, actor)
        with ctx.db.transaction() as session:
            tokens = IdentityService(ctx).tokens
            target = UserId(IdentityService(ctx).users.require_user(session, owner).id)
            proposal = None
            if target == actor_id:
                token_id, token = tokens.create_own(
                    session,
                    person=actor_id,
                    name=name,
                    permissions=permission,
                    assets=asset,
                    ip_allowlist=allow_ip,
                    ttl=timedelta(days=days),
                )
            else:
                proposal, token_id, token = tokens.propose_for_service(
                    session,
                    actor=actor_id,
                    owner_id=target,
                    name=name,
                    permissions=permission,
                    assets=asset,
                    ip_allowlist=allow_ip,
                    ttl=timedelta(days=days),
                    reason=reason,
                )
    console.print(f"Token {token_id} (shown once, store it now):\n{token}", highlight=False)
    if proposal is not None:
        console.print(
            f"Proposal [bold]{proposal.id}[/]: pending. The token works once another security "
            f"admin runs 'kinko role approve {proposal.id} --as THEM'"
        )


@token_app.command("revoke")
def token_revoke(token_id: str, actor: AsOption, reason: ReasonOption) -> None:
    """Revoke an API token."""
    from kinko.identity.service import IdentityService

    with guarded(), open_context() as ctx:
        actor_id = _actor_id(ctx, actor)
        with ctx.db.transaction() as session:
            IdentityService(ctx).tokens.revoke(
                session, token_id, actor=f"user:{actor_id}", reason=reason
            )
    console.print(f"Revoked {token_id}")


@token_app.command("list")
def token_list(as_json: JsonOption = False) -> None:
    """List API tokens (never their secrets)."""
    from kinko.identity.service import IdentityService

    with guarded_json(as_json), open_context() as ctx, ctx.db.transaction() as session:
        tokens = IdentityService(ctx).tokens.list_tokens(session)
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
    app.add_typer(user_app, name="user")
    app.add_typer(role_app, name="role")
    app.add_typer(mfa_app, name="mfa")
    app.add_typer(token_app, name="token")
