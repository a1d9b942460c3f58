"""``kinko wallet ...`` and ``kinko custody ...``: wallets, keys, holdings, cold share.

The commands that change something (assets, wallets, balances, liabilities, prices, the
snapshot, key shares) are requests to the API as the signed-in person (`kinko login`,
``custody:write``); registering an asset, a wallet or a key share is a four-eyes proposal
that a second person approves (``kinko role approve ID``); status, listings, the
rebalancing plan and the nonce check read the database. Exit status: 0 ok, 1 a check
failed (status, nonce check), 2 bad input.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from kinko.cli.common import (
    EXIT_CHECK_FAILED,
    console,
    echo_json,
    guarded,
    local_actor,
    open_context,
    open_services,
)
from kinko.cli.custody_delegations import delegations_app
from kinko.cli.custody_keys import ReasonOption, keys_app, propose
from kinko.cli.output import JsonOption, Names, guarded_json, print_table
from kinko.core.errors import InputError
from kinko.custody.coldshare import Regime

if TYPE_CHECKING:
    from kinko.context import Context

wallet_app = typer.Typer(help="Wallets and assets.", no_args_is_help=True)
custody_app = typer.Typer(help="Holdings, liabilities, cold share, keys.", no_args_is_help=True)
liabilities_app = typer.Typer(help="Customer liabilities.", no_args_is_help=True)
custody_app.add_typer(liabilities_app, name="liabilities")
custody_app.add_typer(keys_app, name="keys")
custody_app.add_typer(delegations_app, name="delegations")


def _read(path: Path, field: str) -> str:
    from kinko.core.textfile import read_text

    return read_text(path, field=field)


def _day(text: str | None, ctx: Context) -> date:
    if text is None:
        return ctx.clock.now().date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError("day", f"{text!r} is not a date like 2026-11-21") from None


def _day_text(text: str | None) -> str | None:
    """A YYYY-MM-DD day as given (checked here, naming the option), or None: today."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise InputError("day", f"{text!r} is not a date like 2026-11-21") from None


def _quorum(text: str) -> tuple[int, int]:
    m, sep, n = text.partition("-of-")
    if not sep or not m.isdigit() or not n.isdigit():
        raise InputError("quorum", f"{text!r} is not like 2-of-3")
    return int(m), int(n)


@wallet_app.command("asset-add")
def asset_add(  # noqa: PLR0917 - typer maps each parameter to an option
    symbol: str,
    chain: Annotated[str, typer.Option(help="Chain, e.g. bitcoin or ethereum.")],
    decimals: Annotated[int, typer.Option(help="Decimals of one whole unit.")],
    contract: Annotated[str | None, typer.Option(help="Token contract, if any.")] = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Propose an asset (needed before wallets, balances and liabilities use it); a
    second person approves it (four eyes)."""

    body: dict[str, object] = {
        "symbol": symbol,
        "chain": chain,
        "decimals": decimals,
        "contract": contract,
    }
    propose("/v1/custody/assets", body, reason, f"asset {chain}:{symbol}", as_json)


@wallet_app.command("add")
def wallet_add(  # noqa: PLR0917 - typer maps each parameter to an option
    name: str,
    chain: Annotated[str, typer.Option()],
    asset: Annotated[list[str], typer.Option(help="Asset key chain:SYMBOL (repeatable).")],
    tier: Annotated[str, typer.Option(help="hot, warm or cold.")],
    owner: Annotated[str, typer.Option(help="customer, proprietary or guarantee.")],
    quorum: Annotated[str, typer.Option(help="m-of-n, e.g. 2-of-3.")],
    network: Annotated[str, typer.Option()] = "mainnet",
    purpose: Annotated[str, typer.Option()] = "operational",
    address: Annotated[str | None, typer.Option()] = None,
    descriptor: Annotated[str | None, typer.Option(help="Bitcoin wsh(sortedmulti(...)).")] = None,
    cap: Annotated[int | None, typer.Option(help="Hot cap, base units.")] = None,
    floor: Annotated[int | None, typer.Option(help="Hot floor, base units.")] = None,
    role: Annotated[list[str] | None, typer.Option(help="Eligible approver role.")] = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Propose a wallet (its tier, quorum, eligible roles); addresses and descriptors are
    checked by the chain adapter; a second person approves it (four eyes)."""

    with guarded_json(as_json):
        m, n = _quorum(quorum)
        body = {
            "name": name,
            "chain": chain,
            "network": network,
            "assets": asset,
            "tier": tier,
            "owner_class": owner,
            "purpose": purpose,
            "quorum_m": m,
            "quorum_n": n,
            "eligible_roles": role or [],
            "address": address,
            "descriptor": descriptor,
            "cap_base_units": cap,
            "floor_base_units": floor,
        }
    propose("/v1/custody/wallets", body, reason, f"{tier} wallet {name} ({quorum})", as_json)


@wallet_app.command("list")
def wallet_list(as_json: JsonOption = False) -> None:
    """List wallets."""
    from kinko.custody import wallets

    with guarded_json(as_json), open_context() as ctx, ctx.db.transaction() as session:
        rows = wallets.list_wallets(session)
    if as_json:
        echo_json(
            [
                {
                    "id": w.id,
                    "name": w.name,
                    "chain": w.chain,
                    "network": w.network,
                    "tier": w.tier,
                    "owner_class": w.owner_class,
                    "quorum": f"{w.quorum_m}-of-{w.quorum_n}",
                    "address": w.address,
                    "assets": w.assets,
                }
                for w in rows
            ]
        )
        return
    print_table(
        ("id", "name", "chain", "tier", "owner", "quorum", "address"),
        [
            (
                w.id,
                w.name,
                w.chain,
                w.tier,
                w.owner_class,
                f"{w.quorum_m}-of-{w.quorum_n}",
                w.address or "-",
            )
            for w in rows
        ],
        whole={"id", "address"},
    )


@custody_app.command("balance")
def balance_set(
    wallet_id: str,
    asset: str,
    base_units: int,
    source: Annotated[str, typer.Option()] = "import",
) -> None:
    """Record a wallet's balance of one asset, in base units."""
    from urllib.parse import quote

    from kinko.cli import api

    body = {"base_units": base_units, "source": source}
    with guarded(), api.connect() as kinko:
        kinko.request(
            "PUT", f"/v1/custody/wallets/{quote(wallet_id)}/balances/{quote(asset)}", body=body
        )
    console.print("balance recorded")


@liabilities_app.command("import")
def liabilities_import(file: Path) -> None:
    """Import customer liabilities from CSV (header asset,amount; see docs/custody.md)."""
    from kinko.cli import api

    with guarded():
        text = _read(file, "file")
        with api.connect() as kinko:
            owed = kinko.post("/v1/custody/liabilities/import", {"csv": text, "source": file.name})
    console.print(f"imported liabilities for {len(owed)} assets")


@liabilities_app.command("show")
def liabilities_show(as_json: JsonOption = False) -> None:
    """Print liabilities per asset in base units (always JSON; --json is accepted)."""
    from kinko.custody import holdings

    with guarded_json(True), open_context() as ctx, ctx.db.transaction() as session:
        echo_json({k: str(v) for k, v in sorted(holdings.liabilities(session).items())})


@custody_app.command("prices")
def prices_import(
    file: Annotated[Path, typer.Argument(help="CSV with header asset,price.")],
    currency: Annotated[str, typer.Option(help="JPY or KRW.")],
    day: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today, UTC).")] = None,
) -> None:
    """Import prices of one whole unit per asset for one day."""
    from kinko.cli import api
    from kinko.core.textfile import csv_rows

    with guarded():
        rows = list(csv_rows(_read(file, "file"), field="file", name=str(file)))
        if not rows or [c.strip() for c in rows[0]] != ["asset", "price"]:
            raise InputError("file", "the first line must be the header asset,price")
        prices = {r[0].strip(): r[1].strip() for r in rows[1:] if len(r) == 2}
        if len(prices) != len([r for r in rows[1:] if any(c.strip() for c in r)]):
            raise InputError("file", "every row needs exactly asset,price and no asset twice")
        body = {"currency": currency, "day": _day_text(day), "prices": prices}
        with api.connect() as kinko:
            kinko.request("PUT", "/v1/custody/prices", body=body)
    console.print(f"imported {len(prices)} {currency} prices")


@custody_app.command("snapshot")
def snapshot(day: Annotated[str | None, typer.Option()] = None) -> None:
    """Keep today's balances and liabilities as the daily snapshot."""
    from kinko.cli import api

    with guarded():
        body = {"day": _day_text(day)}
        with api.connect() as kinko:
            done = kinko.post("/v1/custody/snapshots", body)
    console.print(f"snapshot of {done['rows']} rows")


@custody_app.command("status")
def status(
    regime: Annotated[str, typer.Option(help="jp or kr.")] = "jp",
    day: Annotated[str | None, typer.Option(help="Valuation day (default today, UTC).")] = None,
    snapshot: Annotated[
        bool, typer.Option("--snapshot", help="Use the day's snapshot, not current holdings.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Cold share, guarantee, full reserve and commingling checks; exit 1 if any fails."""
    from kinko.custody import holdings

    with guarded_json(as_json), open_context() as ctx, ctx.db.transaction() as session:
        try:
            chosen = Regime(regime)
        except ValueError:
            raise InputError("regime", "use jp or kr") from None
        result = holdings.custody_status(session, chosen, _day(day, ctx), from_snapshot=snapshot)
    if as_json:
        echo_json(result.to_json())
    else:
        table = Table(
            "check",
            "result",
            "value",
            "limit",
            f"margin ({result.currency})",
            "detail",
            title=f"custody status ({chosen.value})",
        )
        for check in result.checks:
            verdict = "[green]pass[/]" if check.passed else "[bold red]FAIL[/]"
            table.add_row(
                check.name,
                verdict,
                f"{check.value:.2f}",
                f"{check.limit:.2f}",
                f"{check.margin:.2f}",
                check.detail,
            )
        console.print(table)
    if not result.passed:
        raise typer.Exit(EXIT_CHECK_FAILED)


@custody_app.command("nonce-check")
def nonce_check(
    eth_node: Annotated[
        str | None, typer.Option(help="Ethereum node URL: first import our signatures from it.")
    ] = None,
    eth_network: Annotated[str, typer.Option(help="Network of --eth-node.")] = "mainnet",
    address: Annotated[
        list[str] | None, typer.Option(help="Our Ethereum address to import (repeatable).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Import after this block number.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Scan the exchange's own signatures for repeated ECDSA r values; exit 1 on findings."""
    from kinko.custody import keys

    imported: dict[str, object] | None = None
    with guarded_json(as_json), open_services() as built:
        ctx = built.ctx
        if eth_node is not None:
            from kinko.chains.ethereum import EthereumAdapter
            from kinko.chains.ethereum.node import connect

            if not address:
                raise InputError("address", "name the addresses to import with --address")
            adapter = EthereumAdapter(eth_network, web3=connect(eth_node))
            added, skipped, cursor = keys.import_chain_signatures(ctx, adapter, address, since)
            imported = {"added": added, "skipped": skipped, "cursor": cursor}
            if not as_json:
                console.print(
                    f"imported {added} signatures up to block {cursor} ({skipped} non-EIP-1559 "
                    "transactions skipped)"
                )
        report = built.nonce_check(local_actor())  # a failed test freezes at once
    if as_json:
        echo_json(
            {
                "ok": report.passed,
                "scanned": report.scanned,
                "findings": [finding.to_json() for finding in report.findings],
                "frozen": list(report.frozen),
                "imported": imported,
            }
        )
        if not report.passed:
            raise typer.Exit(EXIT_CHECK_FAILED)
        return
    if report.passed:
        console.print(f"nonce check passed: {report.scanned} signatures, no repeated r")
        return
    for finding in report.findings:
        console.print(f"[bold red]CRITICAL[/] {json.dumps(finding.to_json())}", highlight=False)
    console.print(f"frozen at once: {', '.join(report.frozen)}", highlight=False)
    raise typer.Exit(EXIT_CHECK_FAILED)


@custody_app.command("rebalance")
def rebalance(as_json: JsonOption = False) -> None:
    """Propose sweeps (hot over cap) and refills (hot under floor); nothing is sent."""
    from kinko.custody import holdings

    with guarded_json(as_json), open_context() as ctx, ctx.db.transaction() as session:
        plan = holdings.rebalance_plan(session)
        names = Names.load(session)
    if as_json:
        echo_json(
            {
                "proposals": [p.request("cli") for p in plan.proposals],
                "problems": list(plan.problems),
            }
        )
        return
    print_table(
        ("action", "from", "to", "asset", "amount", "reason"),
        [
            (
                p.action.value,
                names.wallet(p.source),
                names.wallet(p.destination),
                p.asset,
                str(p.amount),
                p.reason,
            )
            for p in plan.proposals
        ],
    )
    for problem in plan.problems:
        console.print(f"[yellow]problem:[/] {problem}")


def register(app: typer.Typer) -> None:
    """Add this domain's commands to `app`."""
    app.add_typer(wallet_app, name="wallet")
    app.add_typer(custody_app, name="custody")
