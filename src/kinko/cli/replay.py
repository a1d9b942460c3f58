"""`kinko replay NAME|all [--json FILE]`: the seed incidents run against Kinko (issue #18).

Each replay gets a throwaway exchange of its own (a temporary data directory on SQLite,
initialised as `kinko init` does, the demo's people and wallets on a fresh in-process
Ethereum chain), so a replay never touches the user's data. docs/replays.md has the JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from kinko.context import Context
    from kinko.custody.model import Tier
    from kinko.policy.model import OwnerKind
    from kinko.replays.bench import Bench
    from kinko.replays.model import Result


def bench_for(ctx: Context) -> Bench:
    """The exchange a replay runs against, on `ctx` (whose clock must be a FixedClock):
    the demo's people, wallets and policy, built by the composition root."""
    import secrets

    from kinko.audit.note import generate_signer
    from kinko.core.secretfile import write_secret_file
    from kinko.demo.exchange import build_demo_exchange
    from kinko.identity.model import ProposalKind, RoleGrant, UserId
    from kinko.identity.permissions import Role
    from kinko.replays.bench import Bench

    settings = ctx.settings
    if not settings.resolved_secret_key_path.exists():
        write_secret_file(settings.resolved_secret_key_path, secrets.token_bytes(32))
    if not settings.resolved_audit_key_path.exists():
        write_secret_file(
            settings.resolved_audit_key_path,
            generate_signer(settings.audit_origin)[0].encode(),
        )
    ex = build_demo_exchange(ctx)
    services = ex.services

    def book(
        address: str,
        label: str,
        *,
        chain: str = "ethereum",
        owner_kind: OwnerKind | None = None,
        tiers: tuple[Tier, ...] = (),
    ) -> None:
        """`address` into the address book (by default on Ethereum, as one of the
        exchange's own wallets, for hot and warm wallets): alice proposes, carol
        (addressbook:approve) votes with her security key."""
        from kinko.custody.model import Tier
        from kinko.demo.exchange import vote_with_key
        from kinko.identity.approval_terms import ApprovalKind
        from kinko.policy.model import OwnerKind

        book = services.policy.addresses
        with ctx.db.transaction() as session:
            proposal = book.propose(
                session,
                chain=chain,
                address=address,
                label=label,
                owner_kind=owner_kind or OwnerKind.OWN_WALLET,
                tiers_allowed=list(tiers or (Tier.HOT, Tier.WARM)),
                actor=f"user:{ex.users['alice']}",
            )
        carol = ex.users["carol"]
        vote = vote_with_key(
            services,
            ex.authenticators["carol"],
            carol,
            ApprovalKind.PROPOSAL,
            proposal.id,
            name="carol",
        )
        with ctx.db.transaction() as session:
            book.approve(session, proposal_id=proposal.id, actor=f"user:{carol}", vote=vote)

    def person(name: str) -> str:
        users = services.identity.users
        with ctx.db.transaction() as session:
            user_id, _ = users.add_user(session, name, actor="system:replay")
            users.consume_enrolment(session, users.user_row(session, user_id))
        return str(user_id)

    operator = person("olga")  # custody:write: proposes the registrations
    with ctx.db.transaction() as session:
        services.identity.roles.unsafe_direct_grant(
            session, UserId(operator), RoleGrant(Role.OPERATOR), reason="replay set-up"
        )

    def register(kind: ProposalKind, payload: dict[str, Any]) -> str:
        """A custody registration: olga proposes, sec1 approves with her security key."""
        from kinko.demo.exchange import vote_with_key
        from kinko.identity.approval_terms import ApprovalKind

        roles = services.identity.roles
        with ctx.db.transaction() as session:
            proposal = roles.propose(
                session, actor=UserId(operator), kind=kind, payload=payload, reason="replay"
            )
        sec1 = ex.users["sec1"]
        vote = vote_with_key(
            services, ex.authenticators["sec1"], sec1, ApprovalKind.PROPOSAL, proposal.id,
            name="sec1",
        )  # fmt: skip
        with ctx.db.transaction() as session:
            roles.approve(session, proposal.id, actor=UserId(sec1), vote=vote)
        return proposal.id

    return Bench(
        ctx=ctx,
        w3=ex.w3,
        stack=services.withdrawal_stack(),
        freezes=services.freezes,
        start_monitor=services.start_monitor,
        users=dict(ex.users),
        authenticators=dict(ex.authenticators),
        book=book,
        triage=services.triage,
        person=person,
        register=register,
        nonce_check=services.nonce_check,
    )


def run_one(name: str, workdir: Path) -> Result:
    """Replay `name` on a new exchange in `workdir` (created; SQLite)."""
    from datetime import UTC, datetime

    from kinko.bootstrap import initialise
    from kinko.config import Settings
    from kinko.context import build_context
    from kinko.core.clock import FixedClock
    from kinko.replays.runner import replay

    data_dir = workdir / name
    cfg = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'kinko.db'}")
    initialise(cfg, "admin")
    ctx = build_context(cfg, clock=FixedClock(datetime.now(UTC)))
    try:
        return replay(name, bench_for(ctx))
    finally:
        ctx.db.dispose()


def register(app: typer.Typer) -> None:
    @app.command("replay")
    def replay_command(
        name: Annotated[str, typer.Argument(help="A replay's name, or 'all'.")],
        json_file: Annotated[
            Path | None, typer.Option("--json", help="Also write the results as JSON here.")
        ] = None,
    ) -> None:
        """The seed incidents against Kinko: historical loss beside Kinko's outcome."""
        import json
        import tempfile

        from kinko.cli.common import console, guarded
        from kinko.core.errors import InputError
        from kinko.replays.scenarios import SCENARIOS
        from kinko.replays.table import markdown_table

        with guarded():
            names = list(SCENARIOS) if name == "all" else [name]
            if names[0] not in SCENARIOS:
                raise InputError(
                    "name", f"no replay {name!r}: use one of {', '.join(SCENARIOS)} or 'all'"
                )
            if json_file is not None and not json_file.parent.is_dir():
                raise InputError("--json", f"{json_file.parent} is not a directory")
            results = []
            with tempfile.TemporaryDirectory(prefix="kinko-replay-") as tmp:
                for one in names:
                    console.print(f"replaying [bold]{one}[/] …", highlight=False)
                    results.append(run_one(one, Path(tmp)))
            console.print(markdown_table(results), highlight=False, markup=False, soft_wrap=True)
            if json_file is not None:
                doc = {"replays": [r.to_json() for r in results]}
                json_file.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
