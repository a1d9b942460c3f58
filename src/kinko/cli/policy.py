"""CLI commands for policy: freeze / unfreeze, the address book, policy files.

Commands that change state name the staff member acting with ``--as USERNAME``; the
four-eyes checks compare these identities, and unfreezing checks their roles.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kinko.cli.common import console, echo_json, guarded, open_context
from kinko.cli.output import JsonOption, Names, guarded_json, human_time, print_table
from kinko.core.clock import isoformat
from kinko.core.errors import InputError, PermissionDenied, Unavailable
from kinko.custody.model import Tier
from kinko.policy.model import FreezeRecord, FreezeScope, OwnerKind
from kinko.policy.rules import Policy, Rule

if TYPE_CHECKING:
    from kinko.context import Context
    from kinko.withdrawals.addressbook import AddressBookService

AsUser = Annotated[str, typer.Option("--as", help="Your username (recorded as the actor).")]
Reason = Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log).")]


@contextmanager
def _ctx() -> Iterator[Context]:
    """A context whose database errors become a clear message, never a traceback."""
    from sqlalchemy.exc import DBAPIError

    with open_context() as ctx:
        try:
            yield ctx
        except DBAPIError as exc:
            raise Unavailable(
                f"the database at {ctx.settings.resolved_database_url} cannot be used "
                f"({type(exc.orig).__name__}); run 'kinko init' or check database_url"
            ) from exc


def _user_id(ctx: Context, username: str, permission: str | None = None) -> str:
    """The id of staff member `username`, who must hold `permission` through a role.

    Unfreezing names no permission here: the freeze service itself requires the
    ``security_admin`` role of both people.
    """
    from kinko.identity.permissions import permissions_of
    from kinko.identity.service import IdentityService

    identity = IdentityService(ctx)
    with ctx.db.transaction() as session:
        user_id = identity.users.require_user(session, username).id
        roles = [grant.role for grant in identity.roles_of(session, user_id)]
    if permission is not None and permission not in permissions_of(roles):
        raise PermissionDenied(f"{username} does not hold {permission} through any role")
    return user_id


def _freeze(scope: FreezeScope, target: str | None, reason: str, username: str) -> None:
    from kinko.withdrawals.freeze import FreezeService, user_actor

    with guarded(), _ctx() as ctx:
        actor = user_actor(_user_id(ctx, username, "freeze:set"))
        with ctx.db.transaction() as session:
            record = FreezeService(ctx).freeze(
                session,
                scope=scope,
                target=target,
                reason=reason,
                actor=actor,
                require_known_target=True,
            )
            names = Names.load(session)
    console.print(
        f"[bold red]frozen[/] {_describe(record, names)} (id {record.id})", highlight=False
    )


def _describe(record: FreezeRecord, names: Names) -> str:
    """`FreezeRecord.describe()` with the wallet and the person by name."""
    what = (
        "everything"
        if record.target is None
        else f"{record.scope.value} {_freeze_target(record.scope, record.target, names)}"
    )
    return f"{what} frozen by {names.user(record.actor)}: {record.reason}"


def _register_freeze(app: typer.Typer) -> None:
    freeze = typer.Typer(help="Stop outflows at once (one person may freeze).")
    unfreeze = typer.Typer(help="Lift a freeze: a proposal and a second security_admin.")
    app.add_typer(freeze, name="freeze")
    app.add_typer(unfreeze, name="unfreeze")

    @freeze.command("wallet")
    def freeze_wallet(target: str, reason: Reason, username: AsUser) -> None:
        """Freeze one wallet (by id)."""
        _freeze(FreezeScope.WALLET, target, reason, username)

    @freeze.command("asset")
    def freeze_asset(target: str, reason: Reason, username: AsUser) -> None:
        """Freeze one asset on one chain, written chain:SYMBOL (e.g. ethereum:ETH)."""
        _freeze(FreezeScope.ASSET, target, reason, username)

    @freeze.command("chain")
    def freeze_chain(target: str, reason: Reason, username: AsUser) -> None:
        """Freeze every wallet on one chain."""
        _freeze(FreezeScope.CHAIN, target, reason, username)

    @freeze.command("all")
    def freeze_all(reason: Reason, username: AsUser) -> None:
        """Freeze every outflow."""
        _freeze(FreezeScope.ALL, None, reason, username)

    @freeze.command("list")
    def freeze_list(as_json: JsonOption = False) -> None:
        """Active freezes and pending unfreeze proposals."""
        from kinko.withdrawals.freeze import FreezeService

        with guarded_json(as_json), _ctx() as ctx, ctx.db.transaction() as session:
            service = FreezeService(ctx)
            active = service.active_freezes(session)
            pending = service.pending_unfreezes(session)
            names = Names.load(session)
        if as_json:
            echo_json(
                {
                    "freezes": [
                        {**f.to_json(), "actor_username": names.username(f.actor)} for f in active
                    ],
                    "unfreeze_proposals": [
                        {
                            "id": p.id,
                            "freeze_id": p.freeze_id,
                            "proposer": p.proposer,
                            "proposer_username": names.username(p.proposer),
                            "reason": p.reason,
                            "created_at": isoformat(p.created_at),
                        }
                        for p in pending
                    ],
                }
            )
            return
        print_table(
            ("id", "scope", "target", "since", "by", "reason"),
            [
                (
                    f.id,
                    f.scope.value,
                    _freeze_target(f.scope, f.target, names),
                    human_time(f.created_at),
                    names.user(f.actor),
                    f.reason,
                )
                for f in active
            ],
            whole={"id"},
            title="Active freezes",
        )
        for p in pending:
            console.print(
                f"unfreeze proposal {p.id} for {p.freeze_id} by {names.user(p.proposer)}",
                highlight=False,
                soft_wrap=True,
            )

    @unfreeze.command("propose")
    def unfreeze_propose(freeze_id: str, reason: Reason, username: AsUser) -> None:
        """Propose lifting a freeze (security_admin)."""
        from kinko.withdrawals.freeze import FreezeService

        with guarded(), _ctx() as ctx:
            user_id = _user_id(ctx, username)
            with ctx.db.transaction() as session:
                proposal = FreezeService(ctx).propose_unfreeze(
                    session, freeze_id=freeze_id, user_id=user_id, reason=reason
                )
        console.print(
            f"unfreeze proposal {proposal.id}: a second security_admin must run "
            f"'kinko unfreeze approve {proposal.id} --as USER'",
            highlight=False,
        )

    @unfreeze.command("approve")
    def unfreeze_approve(proposal_id: str, username: AsUser) -> None:
        """Approve an unfreeze proposal (a security_admin other than the proposer)."""
        from kinko.withdrawals.freeze import FreezeService

        with guarded(), _ctx() as ctx:
            user_id = _user_id(ctx, username)
            with ctx.db.transaction() as session:
                record = FreezeService(ctx).approve_unfreeze(
                    session, proposal_id=proposal_id, user_id=user_id
                )
                names = Names.load(session)
        console.print(f"lifted freeze {record.id} ({_describe(record, names)})", highlight=False)


def _register_addressbook(app: typer.Typer) -> None:
    book = typer.Typer(help="Destinations warm and cold wallets may send to (four eyes).")
    app.add_typer(book, name="addressbook")

    def service(ctx: Context) -> AddressBookService:
        from kinko.policy.service import configured_policy
        from kinko.withdrawals.addressbook import AddressBookService

        return AddressBookService(ctx, cooling_off=lambda: configured_policy(ctx).cooling_off)

    @book.command("propose")
    def propose(
        *,
        chain: Annotated[str, typer.Option(help="Chain, e.g. ethereum.")],
        address: Annotated[str, typer.Option(help="Destination address.")],
        label: Annotated[str, typer.Option(help="What this destination is.")],
        owner: Annotated[OwnerKind, typer.Option(help="Who owns it.")],
        tier: Annotated[list[Tier], typer.Option(help="Wallet tier allowed (repeat).")],
        username: AsUser,
    ) -> None:
        """Propose adding (or changing) an entry; a second person approves."""
        from kinko.withdrawals.freeze import user_actor

        with guarded(), _ctx() as ctx:
            actor = user_actor(_user_id(ctx, username, "addressbook:propose"))
            with ctx.db.transaction() as session:
                p = service(ctx).propose(
                    session,
                    chain=chain,
                    address=address,
                    label=label,
                    owner_kind=owner,
                    tiers_allowed=tier,
                    actor=actor,
                )
        console.print(f"{p.action} proposal {p.id} for {p.address}", highlight=False)

    @book.command("approve")
    def approve(proposal_id: str, username: AsUser) -> None:
        """Approve a proposal; the entry counts after the cooling-off period."""
        from kinko.withdrawals.freeze import user_actor

        with guarded(), _ctx() as ctx:
            actor = user_actor(_user_id(ctx, username, "addressbook:approve"))
            with ctx.db.transaction() as session:
                entry = service(ctx).approve(session, proposal_id=proposal_id, actor=actor)
        console.print(
            f"approved {entry.address}: effective from {isoformat(entry.effective_at)}",
            highlight=False,
        )

    @book.command("reject")
    def reject(proposal_id: str, username: AsUser) -> None:
        """Reject (or withdraw) a pending proposal."""
        from kinko.withdrawals.freeze import user_actor

        with guarded(), _ctx() as ctx:
            actor = user_actor(_user_id(ctx, username, "addressbook:approve"))
            with ctx.db.transaction() as session:
                service(ctx).reject(session, proposal_id=proposal_id, actor=actor)
        console.print(f"rejected {proposal_id}")

    @book.command("remove")
    def remove(
        chain: Annotated[str, typer.Option(help="Chain, e.g. ethereum.")],
        address: Annotated[str, typer.Option(help="Destination address.")],
        reason: Reason,
        username: AsUser,
    ) -> None:
        """Remove a destination at once."""
        from kinko.withdrawals.freeze import user_actor

        with guarded(), _ctx() as ctx:
            actor = user_actor(_user_id(ctx, username, "addressbook:propose"))
            with ctx.db.transaction() as session:
                removed = service(ctx).remove(
                    session, chain=chain, address=address, actor=actor, reason=reason
                )
        console.print(f"removed {removed[0].address} on {chain}", highlight=False)

    @book.command("list")
    def list_entries(as_json: JsonOption = False) -> None:
        """Entries (in force or cooling off) and pending proposals."""
        with guarded_json(as_json), _ctx() as ctx, ctx.db.transaction() as session:
            svc = service(ctx)
            entries = svc.entries(session)
            pending = svc.pending(session)
            names = Names.load(session)
            now = ctx.clock.now()
        rows = [
            {
                "id": e.id,
                "chain": e.chain,
                "address": e.address,
                "label": e.label,
                "owner": e.owner_kind.value,
                "tiers": sorted(t.value for t in e.tiers_allowed),
                "effective_at": isoformat(e.effective_at),
                "effective": e.is_effective(now),
            }
            for e in entries
        ]
        proposals = [
            {
                "id": p.id,
                "action": p.action,
                "address": p.address,
                "proposer": p.proposer,
                "proposer_username": names.username(p.proposer),
            }
            for p in pending
        ]
        if as_json:
            echo_json({"entries": rows, "proposals": proposals})
            return
        print_table(
            ("chain", "address", "label", "owner", "tiers", "effective from"),
            [
                (
                    e.chain,
                    e.address,
                    e.label,
                    e.owner_kind.value,
                    ",".join(sorted(t.value for t in e.tiers_allowed)),
                    human_time(e.effective_at) + ("" if e.is_effective(now) else " (cooling off)"),
                )
                for e in entries
            ],
            whole={"address"},
        )
        for p in pending:
            console.print(
                f"pending {p.action} {p.id}: {p.address} by {names.user(p.proposer)}",
                highlight=False,
                soft_wrap=True,
            )


def _freeze_target(scope: FreezeScope, target: str | None, names: Names) -> str:
    if target is None:
        return "*"
    return names.wallet_with_id(target) if scope is FreezeScope.WALLET else target


def _match(rule: Rule) -> dict[str, list[str] | None]:
    m = rule.match
    return {
        name: None if values is None else sorted(str(v) for v in values)
        for name, values in (
            ("chains", m.chains),
            ("assets", m.assets),
            ("wallets", m.wallets),
            ("tiers", m.tiers),
        )
    }


def _policy_json(policy: Policy) -> dict[str, object]:
    return {
        "ok": True,
        "version": policy.version,
        "source": policy.source,
        "sha256": policy.digest,
        "rules": [{"id": r.id, "kind": r.kind, "match": _match(r)} for r in policy.rules],
    }


def _show(policy: Policy) -> None:
    console.print(
        f"policy [bold]{policy.version}[/] from {policy.source} (sha256 {policy.digest})",
        highlight=False,
        soft_wrap=True,
    )
    rows = []
    for rule in policy.rules:
        parts = [
            f"{name.removesuffix('s')}={','.join(values)}"
            for name, values in _match(rule).items()
            if values is not None
        ]
        rows.append((rule.id, rule.kind, " ".join(parts) or "*"))
    print_table(("id", "kind", "match"), rows, whole={"id"}, title=f"{len(policy.rules)} rules")


def _register_policy(app: typer.Typer) -> None:
    policy = typer.Typer(help="Withdrawal policy files.")
    app.add_typer(policy, name="policy")

    @policy.command("validate")
    def validate(file: Path, as_json: JsonOption = False) -> None:
        """Load FILE and report the first problem (exit 2) or a summary (exit 0)."""
        from kinko.policy.loader import load_policy_file

        with guarded_json(as_json):
            if not file.is_file():
                raise InputError("FILE", f"{file} does not exist")
            loaded = load_policy_file(file)
        if as_json:
            echo_json(_policy_json(loaded))
            return
        _show(loaded)
        console.print("[green]valid[/]")

    @policy.command("show")
    def show(as_json: JsonOption = False) -> None:
        """The policy in force (``policy_path``, or the packaged sample)."""
        from kinko.policy.service import configured_policy

        with guarded_json(as_json), _ctx() as ctx:
            loaded = configured_policy(ctx)
        if as_json:
            echo_json(_policy_json(loaded))
            return
        _show(loaded)


def register(app: typer.Typer) -> None:
    """Add this domain's commands to `app`."""
    _register_freeze(app)
    _register_addressbook(app)
    _register_policy(app)
