"""CLI commands for policy: freeze / unfreeze, the address book, policy files.

Commands that change state act for the signed-in person through the API (`kinko login`,
`kinko.cli.api`): the server checks their roles and the four-eyes rules. Listings and
`policy show` read the database directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kinko.cli.approval import AssertionOption, step_up_body
from kinko.cli.common import console, echo_json, guarded, open_services
from kinko.cli.output import JsonOption, Names, guarded_json, human_time, print_table
from kinko.core.clock import isoformat
from kinko.core.errors import InputError, Unavailable
from kinko.custody.model import Tier
from kinko.policy.model import FreezeScope, OwnerKind
from kinko.policy.rules import Policy, Rule

if TYPE_CHECKING:
    from kinko.context import Context
    from kinko.services import Services

Reason = Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log).")]


@contextmanager
def _services() -> Iterator[Services]:
    """The command's services, whose database errors become a clear message, never a
    traceback."""
    from sqlalchemy.exc import DBAPIError

    with open_services() as services:
        try:
            yield services
        except DBAPIError as exc:
            raise Unavailable(
                f"the database at {services.ctx.settings.resolved_database_url} cannot be "
                f"used ({type(exc.orig).__name__}); run 'kinko init' or check database_url"
            ) from exc


@contextmanager
def _ctx() -> Iterator[Context]:
    """A context whose database errors become a clear message, never a traceback."""
    with _services() as services:
        yield services.ctx


def _freeze(scope: FreezeScope, target: str | None, reason: str) -> None:
    from kinko.cli import api

    with guarded(), api.connect() as kinko:
        record = kinko.post(
            "/v1/freezes", {"scope": scope.value, "target": target, "reason": reason}
        )
    console.print(
        f"[bold red]frozen[/] {_describe_json(record)} (id {record['id']})", highlight=False
    )


def _describe_json(record: dict[str, Any]) -> str:
    """A freeze as the API sent it, with the wallet and the person by name."""
    target = record.get("target")
    if target is None:
        what = "everything"
    elif record.get("scope") == FreezeScope.WALLET.value and record.get("wallet_name"):
        what = f"wallet {record['wallet_name']} ({target})"
    else:
        what = f"{record.get('scope')} {target}"
    who = record.get("actor_username") or record.get("actor")
    return f"{what} frozen by {who}: {record.get('reason')}"


def _register_freeze(app: typer.Typer) -> None:
    freeze = typer.Typer(help="Stop outflows at once (one person may freeze).")
    unfreeze = typer.Typer(help="Lift a freeze: a proposal and a second security_admin.")
    app.add_typer(freeze, name="freeze")
    app.add_typer(unfreeze, name="unfreeze")

    @freeze.command("wallet")
    def freeze_wallet(target: str, reason: Reason) -> None:
        """Freeze one wallet (by id)."""
        _freeze(FreezeScope.WALLET, target, reason)

    @freeze.command("asset")
    def freeze_asset(target: str, reason: Reason) -> None:
        """Freeze one asset on one chain, written chain:SYMBOL (e.g. ethereum:ETH)."""
        _freeze(FreezeScope.ASSET, target, reason)

    @freeze.command("chain")
    def freeze_chain(target: str, reason: Reason) -> None:
        """Freeze every wallet on one chain."""
        _freeze(FreezeScope.CHAIN, target, reason)

    @freeze.command("all")
    def freeze_all(reason: Reason) -> None:
        """Freeze every outflow."""
        _freeze(FreezeScope.ALL, None, reason)

    @freeze.command("list")
    def freeze_list(as_json: JsonOption = False) -> None:
        """Active freezes and pending unfreeze proposals."""
        with (
            guarded_json(as_json),
            _services() as services,
            services.ctx.db.transaction() as session,
        ):
            service = services.freezes
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
    def unfreeze_propose(freeze_id: str, reason: Reason) -> None:
        """Propose lifting a freeze (security_admin)."""
        from kinko.cli import api

        with guarded(), api.connect() as kinko:
            proposal = kinko.post(f"/v1/freezes/{freeze_id}/unfreeze", {"reason": reason})
        console.print(
            f"unfreeze proposal {proposal['id']}: a second security_admin, signed in as "
            f"themselves, runs 'kinko unfreeze approve {proposal['id']}'",
            highlight=False,
        )

    @unfreeze.command("approve")
    def unfreeze_approve(proposal_id: str, assertion: AssertionOption = None) -> None:
        """Approve an unfreeze proposal (a security_admin other than the proposer), with
        your security key's answer to 'kinko approval challenge proposal ID'."""
        from kinko.cli import api

        with guarded():
            vote = step_up_body(assertion, "proposal", proposal_id)
            with api.connect() as kinko:
                record = kinko.post(f"/v1/unfreeze-proposals/{proposal_id}/approve", vote)
        console.print(f"lifted freeze {record['id']} ({_describe_json(record)})", highlight=False)


def _register_addressbook(app: typer.Typer) -> None:
    book = typer.Typer(help="Destinations warm and cold wallets may send to (four eyes).")
    app.add_typer(book, name="addressbook")

    @book.command("propose")
    def propose(
        *,
        chain: Annotated[str, typer.Option(help="Chain, e.g. ethereum.")],
        address: Annotated[str, typer.Option(help="Destination address.")],
        label: Annotated[str, typer.Option(help="What this destination is.")],
        owner: Annotated[OwnerKind, typer.Option(help="Who owns it.")],
        tier: Annotated[list[Tier], typer.Option(help="Wallet tier allowed (repeat).")],
        reason: Annotated[
            str | None, typer.Option(help="Why (audited); default: names the entry.")
        ] = None,
    ) -> None:
        """Propose adding (or changing) an entry; a second person approves."""
        from kinko.cli import api

        body: dict[str, object] = {
            "chain": chain,
            "address": address,
            "label": label,
            "owner_kind": owner.value,
            "tiers": [t.value for t in tier],
        }
        if reason is not None:
            body["reason"] = reason
        with guarded(), api.connect() as kinko:
            p = kinko.post("/v1/addressbook/proposals", body)
        console.print(f"{p['action']} proposal {p['id']} for {p['address']}", highlight=False)

    @book.command("approve")
    def approve(proposal_id: str, assertion: AssertionOption = None) -> None:
        """Approve a proposal, with your security key's answer to 'kinko approval
        challenge proposal ID'; the entry counts after the cooling-off period."""
        from kinko.cli import api

        with guarded():
            vote = step_up_body(assertion, "proposal", proposal_id)
            with api.connect() as kinko:
                entry = kinko.post(f"/v1/addressbook/proposals/{proposal_id}/approve", vote)
        console.print(
            f"approved {entry['address']}: effective from {entry['effective_at']}",
            highlight=False,
        )

    @book.command("reject")
    def reject(
        proposal_id: str,
        reason: Annotated[str | None, typer.Option(help="Why (audited).")] = None,
    ) -> None:
        """Reject a pending proposal (someone who may approve it)."""
        from kinko.cli import api

        body = {} if reason is None else {"reason": reason}
        with guarded(), api.connect() as kinko:
            kinko.post(f"/v1/addressbook/proposals/{proposal_id}/reject", body)
        console.print(f"rejected {proposal_id}")

    @book.command("remove")
    def remove(
        chain: Annotated[str, typer.Option(help="Chain, e.g. ethereum.")],
        address: Annotated[str, typer.Option(help="Destination address.")],
        reason: Reason,
    ) -> None:
        """Remove a destination at once."""
        from kinko.cli import api

        body = {"chain": chain, "address": address, "reason": reason}
        with guarded(), api.connect() as kinko:
            removed = kinko.post("/v1/addressbook/remove", body)["removed"]
        console.print(f"removed {removed[0]['address']} on {chain}", highlight=False)

    @book.command("list")
    def list_entries(as_json: JsonOption = False) -> None:
        """Entries (in force or cooling off) and pending proposals."""
        with (
            guarded_json(as_json),
            _services() as services,
            services.ctx.db.transaction() as session,
        ):
            svc = services.address_book
            entries = svc.entries(session)
            pending = svc.pending(session)
            names = Names.load(session)
            now = services.ctx.clock.now()
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

    @policy.command("propose")
    def propose(
        file: Path,
        reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")],
        as_json: JsonOption = False,
    ) -> None:
        """Propose FILE as the policy: it decides nothing until a second security_admin
        approves it ('kinko role approve ID'); then point policy_path at it."""
        from kinko.cli import api
        from kinko.core.textfile import read_text

        with guarded_json(as_json):
            text = read_text(file, field="FILE")
            with api.connect() as kinko:
                proposal = kinko.post(
                    "/v1/policy/proposals", {"text": text, "source": file.name, "reason": reason}
                )
        if as_json:
            echo_json(proposal)
            return
        payload = proposal["payload"]
        console.print(
            f"Proposal [bold]{proposal['id']}[/]: {proposal['state']}: policy "
            f"{payload['version']} (sha256 {payload['digest']}) to replace "
            f"{payload['previous_version'] or 'none'}",
            highlight=False,
            soft_wrap=True,
        )
        for weakening in payload["weakenings"]:
            console.print(
                f"  [yellow]loosens[/] {weakening['rule']}: {weakening['detail']}",
                highlight=False,
                soft_wrap=True,
            )
        console.print(
            f"A second security_admin, signed in as themselves, runs 'kinko role approve "
            f"{proposal['id']}'; then set policy_path to {file}",
            highlight=False,
            soft_wrap=True,
        )

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
