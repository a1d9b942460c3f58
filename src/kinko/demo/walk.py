"""`kinko demo`: a sample exchange on SQLite that walks one withdrawal end to end, shows
the signer refusing an altered bundle (the DMM Bitcoin / Bybit pattern) and a cold Bitcoin
2-of-3 withdrawal on regtest co-signed offline, then serves the API. `--no-serve` stops
after the walk (tests use it). Safe to run again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rich.console import Console
from sqlalchemy import select

from kinko.chains.ethereum.adapter import EthereumAdapter, Fees, Transfer
from kinko.config import Settings
from kinko.context import Context, build_context
from kinko.core.errors import KinkoError
from kinko.core.events import SecurityEvent
from kinko.core.ids import new_id
from kinko.demo.bitcoin import WALLET as BTC_WALLET
from kinko.demo.bitcoin import walk_bitcoin
from kinko.demo.data import ensure_cli_token, own_freezes, persist_config, remember_freezes
from kinko.demo.exchange import (
    ATTACKER,
    CUSTOMER,
    HOT_KEY,
    DemoExchange,
    build_demo_exchange,
    save_authenticator,
    vote_with_key,
)
from kinko.identity.approval_terms import ApprovalKind
from kinko.policy.model import FreezeScope
from kinko.services import Services
from kinko.signer.bundle import ApprovalBundle
from kinko.signer.offline import cosign
from kinko.signer.online import OnlineSigner
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.approvals import ApprovalService
from kinko.withdrawals.execution import Executor
from kinko.withdrawals.records import WithdrawalView
from kinko.withdrawals.service import WithdrawalRequest
from kinko.withdrawals.stack import WithdrawalStack
from kinko.withdrawals.states import TERMINAL, State


def ensure_initialised(cfg: Settings, out: Console) -> None:
    from kinko.bootstrap import initialise
    from kinko.store.db import Database
    from kinko.store.migrate import is_initialised

    db = Database(cfg.resolved_database_url)
    try:
        ready = is_initialised(db.engine) and cfg.resolved_audit_key_path.exists()
    finally:
        db.dispose()
    if ready:
        out.print(f"[dim]data directory {cfg.data_dir} already initialised[/]")
        return
    initialise(cfg, "admin")
    out.print(f"initialised a new Kinko in [bold]{cfg.data_dir}[/]")


def _step(out: Console, text: str) -> None:
    out.print(f"[bold cyan]▶[/] {text}")


def _tidy_previous_runs(stack: WithdrawalStack, ex: DemoExchange, out: Console) -> None:
    """Close what earlier runs left open: the demo's own withdrawals, and any on the
    in-process chain (it is new: a transaction built on the old one has a stale nonce).
    Someone else's withdrawal on another chain (regtest) is left alone."""
    open_views = [v for v in stack.withdrawals.list(limit=1000) if v.state not in TERMINAL]
    with ex.ctx.db.transaction() as session:
        rows = session.execute(
            select(WithdrawalRow.id, WithdrawalRow.channel).where(
                WithdrawalRow.id.in_([v.id for v in open_views])
            )
        )
        channels = {row.id: row.channel for row in rows}
    closed = 0
    for view in open_views:
        if channels.get(view.id) != "demo" and view.network != "devnet":
            continue
        if view.state in {State.SIGNED, State.BROADCAST}:
            stack.executor.abandon(
                view.id, actor="system:demo", reason="demo re-run: the in-process chain is new"
            )
        else:
            stack.withdrawals.cancel(
                view.id, actor="system:demo", reason="demo re-run: the in-process chain is new"
            )
        closed += 1
    if closed:
        _step(out, f"closed {closed} open withdrawal(s) of earlier runs (their chain is gone)")
    _lift_own_freezes(ex)


def _lift_own_freezes(ex: DemoExchange) -> list[str]:
    """Lift the freezes the demo's drill set (and recorded), never any other."""
    data_dir = ex.ctx.settings.data_dir
    mine = set(own_freezes(data_dir))
    with ex.ctx.db.transaction() as session:
        active = [str(f.id) for f in ex.services.freezes.active_freezes(session)]
    lifted = [freeze_id for freeze_id in active if freeze_id in mine]
    for freeze_id in lifted:
        _unfreeze(ex, freeze_id)
    remember_freezes(data_dir, [])
    return lifted


def _active_freeze_ids(ex: DemoExchange) -> set[str]:
    with ex.ctx.db.transaction() as session:
        return {str(f.id) for f in ex.services.freezes.active_freezes(session)}


def frozen_by_others(ex: DemoExchange, wallet_id: str, chain: str, asset: str) -> str | None:
    """Why an act on `wallet_id` cannot run: a freeze the demo did not set covers it."""
    with ex.ctx.db.transaction() as session:
        for freeze in ex.services.freezes.active_freezes(session):
            if (
                freeze.scope is FreezeScope.ALL
                or (freeze.scope is FreezeScope.WALLET and freeze.target == wallet_id)
                or (freeze.scope is FreezeScope.CHAIN and freeze.target == chain)
                or (freeze.scope is FreezeScope.ASSET and freeze.target == asset)
            ):
                return freeze.describe()
    return None


def _skip(out: Console, wallet_id: str, reason: str) -> None:
    _step(
        out,
        f"[yellow]skipped[/]: {wallet_id} is frozen ({reason}). The demo never lifts a freeze "
        "it did not set: lift it with 'kinko unfreeze propose' and 'kinko unfreeze approve' "
        "(two security admins), or run the demo on a fresh data directory.",
    )


def _unfreeze(ex: DemoExchange, freeze_id: str) -> None:
    service = ex.services.freezes
    with ex.ctx.db.transaction() as session:
        proposal = service.propose_unfreeze(
            session, freeze_id=freeze_id, user_id=ex.users["sec1"], reason="demo: drill over"
        )
    second = ex.users["sec2"]
    auth = ex.authenticators["sec2"]
    vote = vote_with_key(ex.services, auth, second, ApprovalKind.PROPOSAL, proposal.id, name="sec2")
    with ex.ctx.db.transaction() as session:
        service.approve_unfreeze(session, proposal_id=proposal.id, user_id=second, vote=vote)


def _approve(
    approvals: ApprovalService, ex: DemoExchange, wd_id: str, digest: str, out: Console
) -> WithdrawalView:
    """bob then carol approve; carol's approval completes the quorum, and the approval
    service hands the withdrawal on to execution itself (nobody asks it to)."""
    view: WithdrawalView | None = None
    for name in ("bob", "carol"):
        issued = approvals.challenge(wd_id, approver=ex.users[name])
        assert issued.digest == digest
        assertion = ex.authenticators[name].assert_(
            challenge=issued.challenge, origin=ex.ctx.settings.webauthn_origin
        )
        save_authenticator(
            ex.ctx.settings.data_dir / "demo-authenticators", name, ex.authenticators[name]
        )
        view = approvals.approve(wd_id, approver=ex.users[name], assertion=assertion)
        _step(
            out, f"{name} approves with a WebAuthn assertion over the digest → {view.state.value}"
        )
    assert view is not None
    return view


def walk_withdrawal(stack: WithdrawalStack, ex: DemoExchange, run: str, out: Console) -> str:
    out.rule("1. a withdrawal from request to broadcast")
    view = stack.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="2", destination=CUSTOMER, customer_ref="cust-1001"),
        requester=ex.users["alice"],
        idempotency_key=f"{run}-genuine",
        channel="demo",
    )
    _step(out, f"alice requests 2 ETH to {CUSTOMER} → {view.id}")
    _step(out, "screening: clear; policy: " + str(view.reason))
    assert view.intent is not None and view.digest is not None
    _step(
        out,
        f"decoded from the unsigned transaction: {view.intent['call_kind']} of "
        f"{view.intent['amount']} wei to {view.intent['destination']}; digest {view.digest}",
    )
    _step(
        out,
        "at quorum Kinko hands the withdrawal to its online signer: it re-decodes the "
        "transaction, recomputes the digest, verifies both assertions, quorum, roles, freeze "
        "state and the audit proofs, signs, and Kinko broadcasts …",
    )
    done = _approve(stack.approvals, ex, view.id, view.digest, out)
    assert done.txid is not None, done.reason
    receipt = ex.w3.eth.wait_for_transaction_receipt(done.txid)
    confirmed = stack.executor.confirm(view.id, txid=done.txid)
    _step(out, f"signed and broadcast: txid {done.txid} (block {receipt['blockNumber']})")
    _step(out, f"[green]withdrawal {view.id} {confirmed.state.value}[/]")
    return view.id


def _tamper(bundle: ApprovalBundle, w3: Any) -> ApprovalBundle:
    adapter = EthereumAdapter("devnet")
    intent = adapter.decode(bundle.unsigned_tx)
    tx = adapter.build(
        Transfer(
            source=w3.eth.accounts[0],
            destination=ATTACKER,
            amount=intent.amount,
            nonce=int(intent.details["nonce"]),
            fees=Fees(20 * 10**9, 10**9, 21_000),
        )
    )
    return replace(
        bundle,
        unsigned_tx=tx,
        intent=adapter.decode(tx).to_json(),
        digest=adapter.signing_digest(tx),
    )


class _AlteringChannel:
    """The way from Kinko to its online signer, in an attacker's hands: the bundle Kinko
    hands on at quorum reaches the signer altered (at Bybit, the signers' interface showed
    one transaction and had another signed)."""

    def __init__(self, signer: OnlineSigner, w3: Any) -> None:
        self.signer = signer
        self.w3 = w3
        self.altered: ApprovalBundle | None = None

    def sign(self, bundle: ApprovalBundle) -> bytes:
        self.altered = _tamper(bundle, self.w3)
        return self.signer.sign(self.altered)


def walk_refusal(stack: WithdrawalStack, ex: DemoExchange, run: str, out: Console) -> str:
    out.rule("2. an approved bundle altered on its way to the signer (DMM Bitcoin / Bybit)")
    # The demo's own staging: the same services, with the attacker between Kinko and its
    # signer.
    channel = _AlteringChannel(stack.signer, ex.w3)
    approvals = ApprovalService(
        ex.ctx, stack.ports, executor=Executor(ex.ctx, stack.ports, channel)
    )
    view = stack.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="1.5", destination=CUSTOMER),
        requester=ex.users["alice"],
        idempotency_key=f"{run}-altered",
        channel="demo",
    )
    assert view.digest is not None
    _step(out, f"alice requests 1.5 ETH to {CUSTOMER} → {view.id}")
    _step(
        out,
        f"an attacker sits between Kinko and its signer: they will swap the destination for "
        f"{ATTACKER} and rewrite the bundle's intent and digest to match",
    )
    events: list[SecurityEvent] = []
    ex.ctx.bus.subscribe(events.append)
    before = _active_freeze_ids(ex)
    done = _approve(approvals, ex, view.id, view.digest, out)
    # Recorded before anything else: an interrupted run's next run lifts exactly these.
    remember_freezes(ex.ctx.settings.data_dir, sorted(_active_freeze_ids(ex) - before))
    _step(out, f"[red]online signer REFUSED[/]: {done.reason}")
    for event in events:
        if event.type == "signer.refused":
            _step(
                out,
                f"security event {event.type} (severity {event.severity}); "
                f"wallet {event.wallet} frozen (reason {event.fields.get('reason')})",
            )
    _step(out, f"withdrawal {view.id} {done.state.value}: nothing was signed")
    if channel.altered is not None:  # the same altered bundle on an offline machine
        try:
            cosign(
                channel.altered.to_bytes(),
                key=HOT_KEY,
                log_vkey=stack.log_vkey,
                now=ex.ctx.clock.now(),
                rp_id=ex.ctx.settings.webauthn_rp_id,
                origin=ex.ctx.settings.webauthn_origin,
            )
        except KinkoError as exc:
            _step(out, f"[red]kinko cosign (offline) REFUSED[/]: {exc.message}")
    if _lift_own_freezes(ex):
        _step(out, "two security admins (sec1 proposes, sec2 approves) lift the freeze")
    return view.id


@dataclass(frozen=True)
class DemoRun:
    """What a walk leaves for the server: the context on the demo's data directory and the
    withdrawal stack on the demo's in-process chains (the console settles on them)."""

    services: Services
    stack: WithdrawalStack

    @property
    def ctx(self) -> Context:
        return self.services.ctx


def run_demo(cfg: Settings, out: Console) -> DemoRun:
    ensure_initialised(cfg, out)
    cfg, written = persist_config(cfg)
    if written:
        out.print(
            f"wrote {', '.join(written)} in {cfg.data_dir}: every command on this data "
            "directory decides with the demo's policy and screening lists",
            highlight=False,
        )
    ctx = build_context(cfg)
    out.rule("sample exchange")
    ex = build_demo_exchange(ctx)
    _step(
        out,
        ("created" if ex.created else "reusing") + " users alice (requester), bob and "
        "carol (approvers; carol also a senior approver, who approves address-book "
        "entries alice proposes), sec1 and sec2 (security admins), each with a software "
        "WebAuthn authenticator",
    )
    _step(
        out,
        "wallets: ETH hot and warm on an in-process Ethereum chain (eth-tester), "
        "BTC cold 2-of-3 (regtest) in the registry; a screening list; an address book; "
        "made-up JPY and KRW prices",
    )
    stack = ex.services.withdrawal_stack()  # on the demo's in-process chain
    _tidy_previous_runs(stack, ex, out)
    run = new_id("demo")
    eth_frozen = frozen_by_others(ex, "wal_eth_hot", "ethereum", "ethereum:ETH")
    if eth_frozen is None:
        walk_withdrawal(stack, ex, run, out)
        walk_refusal(stack, ex, run, out)
    else:
        out.rule("1-2. the Ethereum acts")
        _skip(out, "wal_eth_hot", eth_frozen)
    out.rule("3. a cold Bitcoin 2-of-3 withdrawal on regtest, co-signed offline")
    btc_frozen = frozen_by_others(ex, BTC_WALLET, "bitcoin", "bitcoin:BTC")
    if btc_frozen is None:
        walk_bitcoin(ex, stack.log_vkey, run, lambda text: _step(out, text))
    else:
        _skip(out, BTC_WALLET, btc_frozen)
    for name, auth in ex.authenticators.items():
        save_authenticator(ctx.settings.data_dir / "demo-authenticators", name, auth)
    ensure_cli_token(ex.services.identity)  # alice's own API token, for the CLI (docs/cli.md)
    return DemoRun(ex.services, stack)
