"""The chain watcher: every outflow from one of our wallets becomes a `chain.outflow` event.

For each chain with a node configured, `ChainWatcher.poll_once` reads the active wallets
of that chain and network that have an address, asks the adapter for the outflows after
the stored cursor, explains each one from our own records, publishes the events on
`ctx.bus` (the monitor turns an unexplained hot-wallet outflow into a freeze), and then
advances the cursor. Events go out *before* the cursor moves: a crash in between repeats
events on restart (the monitor's freeze is idempotent) instead of losing them.

An outflow is explained (`withdrawal_id`) only by a withdrawal of the same wallet whose
transaction id, asset, destination and amount all match what the chain shows; a txid
match that differs in anything else is reported as `withdrawal_mismatch`, unexplained.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinko.chains.base import DEFAULT_INTERVAL_S, ChainAdapter, Outflow
from kinko.context import Context
from kinko.core.errors import InputError, KinkoError, Unavailable
from kinko.core.events import SecurityEvent
from kinko.store.tables.custody import AssetRow, WalletRow
from kinko.store.tables.watcher import WatcherCursorRow
from kinko.store.tables.withdrawals import WithdrawalRow

log = structlog.get_logger("kinko.monitor.watcher")

WATCHER_ACTOR = "system:chain-watcher"
# A withdrawal has put its transaction on the chain once it is signed (txid written
# before broadcast), broadcast or confirmed.
SENT_STATES = ("signed", "broadcast", "confirmed")
REBALANCE_KEY_PREFIX = "rebalance-"

ChainKey = tuple[str, str]  # (chain, network)


@dataclass(frozen=True, slots=True)
class OurWallet:
    id: str
    tier: str
    address: str
    active: bool


class ChainWatcher:
    """Polls each configured chain's adapter; `adapters` maps (chain, network) to one."""

    def __init__(self, ctx: Context, adapters: Mapping[ChainKey, ChainAdapter]) -> None:
        self.ctx = ctx
        self.adapters = dict(adapters)

    def poll_once(self) -> list[SecurityEvent]:
        """One pass over every chain; returns the events published."""
        events: list[SecurityEvent] = []
        problems: list[str] = []
        failures: list[str] = []
        for key in sorted(self.adapters):
            try:
                found, bad = self._poll_chain(key, self.adapters[key])
            except KinkoError as exc:  # one chain's node down never blinds the others
                failures.append(exc.message)
                self._blind(key, "chain.watch_failed", exc.message)
                continue
            events.extend(found)
            problems.extend(bad)
            if bad:
                self._blind(key, "chain.unwatched", "; ".join(bad))
        if failures:
            raise Unavailable("; ".join(failures))
        if problems:
            raise InputError(
                "wallets.address",
                "not watched (fix the address with `kinko wallet`): " + "; ".join(problems),
            )
        return events

    def _blind(self, key: ChainKey, kind: str, error: str) -> None:
        """A pass that could not watch a chain (its node failed: ``chain.watch_failed``)
        or some of its wallets (an address that does not parse: ``chain.unwatched``) is a
        security event, not only a log line: outflows nobody reads are outflows nobody
        freezes on (docs/monitor.md, "A blind watcher")."""
        chain, network = key
        self.ctx.bus.publish(
            SecurityEvent(
                type=kind,
                time=self.ctx.clock.now(),
                actor=WATCHER_ACTOR,
                outcome="failure",
                severity="high",
                fields={"chain": chain, "network": network, "error": error},
            )
        )

    def _poll_chain(
        self, key: ChainKey, adapter: ChainAdapter
    ) -> tuple[list[SecurityEvent], list[str]]:
        chain, network = key
        with self.ctx.db.transaction() as session:
            ours, problems = _our_wallets(session, chain, network, adapter)
            row = session.get(WatcherCursorRow, key)
            cursor = row.cursor if row is not None else None
        watched = {address: w for address, w in ours.items() if w.active}
        if not watched:
            return [], problems
        try:
            flows, new_cursor = adapter.outflows(sorted(watched), cursor)
        except KinkoError:
            raise
        except Exception as exc:  # node clients raise many transport-specific types
            raise Unavailable(
                f"the {chain} {network} node failed while reading outflows after block "
                f"{cursor}: {type(exc).__name__}: {exc}; the cursor was not advanced"
            ) from None
        with self.ctx.db.transaction() as session:
            sent = _sent_withdrawals(session, chain, [f.txid for f in flows])
        events = [self._event(key, f, watched, ours, sent) for f in flows]
        self.ctx.bus.publish_all(events)
        self._advance(key, cursor, new_cursor, events)
        return events, problems

    def _event(
        self,
        key: ChainKey,
        flow: Outflow,
        watched: Mapping[str, OurWallet],
        ours: Mapping[str, OurWallet],
        sent: Mapping[str, WithdrawalRow],
    ) -> SecurityEvent:
        chain, network = key
        wallet = watched[flow.source]
        fields: dict[str, object] = {
            "chain": chain,
            "network": network,
            "wallet_tier": wallet.tier,
            "txid": flow.txid,
            "block": flow.block,
            "source": flow.source,
        }
        target = ours.get(flow.destination)
        if target is not None:
            fields["destination_tier"] = target.tier
            fields["destination_wallet"] = target.id
        withdrawal = sent.get(flow.txid.lower())
        if withdrawal is not None:
            if _explains(withdrawal, wallet, flow):
                fields["withdrawal_id"] = withdrawal.id
                if withdrawal.idempotency_key.startswith(REBALANCE_KEY_PREFIX):
                    fields["rebalance_plan"] = withdrawal.idempotency_key
            else:
                fields["withdrawal_mismatch"] = withdrawal.id
        return SecurityEvent(
            type="chain.outflow",
            time=self.ctx.clock.now(),
            actor=WATCHER_ACTOR,
            wallet=wallet.id,
            asset=flow.asset,
            amount=flow.amount,
            destination=flow.destination,
            severity="info" if "withdrawal_id" in fields else "high",
            fields=fields,
        )

    def _advance(
        self, key: ChainKey, old: str | None, new: str, events: Sequence[SecurityEvent]
    ) -> None:
        chain, network = key
        now = self.ctx.clock.now()
        with self.ctx.db.transaction() as session:
            row = session.get(WatcherCursorRow, key, with_for_update=True)
            if row is None:
                session.add(
                    WatcherCursorRow(chain=chain, network=network, cursor=new, updated_at=now)
                )
                action = "chain.watch_started"
            elif row.cursor != old:
                log.warning(
                    "chain.watcher_cursor_moved",
                    chain=chain,
                    network=network,
                    ours=old,
                    theirs=row.cursor,
                )
                return
            else:
                if row.cursor == new and not events:
                    return
                row.cursor, row.updated_at = new, now
                action = "chain.watch_advanced"
            self.ctx.audit.append(
                session,
                actor=WATCHER_ACTOR,
                action=action,
                subject=f"{chain}:{network}",
                details={
                    "from": old,
                    "to": new,
                    "outflows": len(events),
                    "unexplained": sum(1 for e in events if "withdrawal_id" not in e.fields),
                },
            )


def _our_wallets(
    session: Session, chain: str, network: str, adapter: ChainAdapter
) -> tuple[dict[str, OurWallet], list[str]]:
    rows = session.execute(
        select(WalletRow).where(
            WalletRow.chain == chain, WalletRow.network == network, WalletRow.address.is_not(None)
        )
    ).scalars()
    ours: dict[str, OurWallet] = {}
    problems: list[str] = []
    for row in rows:
        assert row.address is not None
        try:
            address = adapter.normalize_address(row.address)
        except KinkoError as exc:
            if row.active:
                problems.append(f"wallet {row.id}: {exc.message}")
            continue
        ours[address] = OurWallet(row.id, row.tier, address, row.active)
    return ours, problems


def _sent_withdrawals(
    session: Session, chain: str, txids: Sequence[str]
) -> dict[str, WithdrawalRow]:
    if not txids:
        return {}
    wanted = sorted({t.lower() for t in txids})
    rows = session.execute(
        select(WithdrawalRow).where(
            WithdrawalRow.chain == chain,
            WithdrawalRow.state.in_(SENT_STATES),
            func.lower(WithdrawalRow.txid).in_(wanted),
        )
    ).scalars()
    return {str(row.txid).lower(): row for row in rows}


def _explains(withdrawal: WithdrawalRow, wallet: OurWallet, flow: Outflow) -> bool:
    return (
        withdrawal.wallet_id == wallet.id
        and withdrawal.asset == flow.asset
        and withdrawal.amount == flow.amount
        and withdrawal.destination.lower() == flow.destination.lower()
    )


def watcher_from_settings(ctx: Context) -> ChainWatcher | None:
    """A watcher for every chain whose node is configured, or None when none is."""
    adapters: dict[ChainKey, ChainAdapter] = {}
    url = str(getattr(ctx.settings, "ethereum_node_url", "") or "")
    if url:
        from kinko.chains.ethereum import node
        from kinko.chains.registry import get_adapter

        network = str(getattr(ctx.settings, "ethereum_network", "mainnet"))
        adapters[("ethereum", network)] = get_adapter(
            "ethereum", network, web3=node.connect(url), tokens=_tokens(ctx, "ethereum")
        )
    return ChainWatcher(ctx, adapters) if adapters else None


def _tokens(ctx: Context, chain: str) -> dict[str, str]:
    """Known token contracts -> symbols (the `assets` table), so that token outflows carry
    the symbol withdrawals use; an unknown token is reported as ``erc20:<contract>``."""
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(AssetRow.contract, AssetRow.symbol).where(
                AssetRow.chain == chain, AssetRow.contract.is_not(None)
            )
        ).all()
    return {str(contract): str(symbol) for contract, symbol in rows}


async def watch_loop(watcher: ChainWatcher, interval_s: float = DEFAULT_INTERVAL_S) -> None:
    """Poll forever (``kinko serve``); a failed pass is logged loudly and retried."""
    while True:
        try:
            events = await asyncio.to_thread(watcher.poll_once)
            if events:
                log.info("chain.outflows", count=len(events))
        except KinkoError as exc:
            log.error("chain.watch_failed", error=exc.message)
        except Exception as exc:  # e.g. the node or the database is briefly unreachable
            log.error("chain.watch_failed", error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(interval_s)
