"""The demo's Bitcoin act: a cold 2-of-3 P2WSH withdrawal on regtest, approved by two
approvers, co-signed offline by two key holders and finalised. Regtest throughout: the
cosigners' keys are ``tprv``/``tpub`` keys derived from fixed seeds on the BIP-48 test
coin type, the PSBT is a regtest PSBT and the allow-listed destination a ``bcrt1``
address. The co-signed PSBT then comes back to Kinko (signed) and, as after an operator's
broadcast and its confirmation, moves to broadcast and confirmed. The funding transactions
are synthetic, so nothing reaches a node: the demo stands in for the operator's node.

The act runs under the demo's policy (`kinko.demo.data`: the sample minus its
business-hours window, with a one-second cooling-off), so it works at any time.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from embit import bip32
from embit.networks import NETWORKS as EMBIT_NETWORKS
from embit.script import Script
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from kinko.chains.bitcoin import BitcoinAdapter
from kinko.chains.bitcoin.networks import network
from kinko.core.errors import KinkoError
from kinko.core.secretfile import make_private_dir, write_secret_file
from kinko.custody.model import Tier
from kinko.demo.exchange import DemoExchange, save_authenticator, vote_with_key
from kinko.identity.approval_terms import ApprovalKind
from kinko.policy.model import OwnerKind
from kinko.policy.service import PolicyService
from kinko.signer.offline import cosign_in_turn, read_key_file
from kinko.store.tables.custody import WalletRow
from kinko.withdrawals.approvals import ApprovalService
from kinko.withdrawals.bitcoin import BitcoinGateway, cold_multisig_wallet, import_utxo
from kinko.withdrawals.export import export_bundle
from kinko.withdrawals.offline import OfflineSettlement
from kinko.withdrawals.service import WithdrawalRequest, WithdrawalService
from kinko.withdrawals.wiring import ChainRouter, IdentityDirectory

NETWORK = network("regtest")
WALLET = "wal_btc_regtest"
KEY_DIR = "demo-btc-regtest-keys"
# The BIP-173 example witness program as a regtest address (Bitcoin Core's tests use it).
BTC_CUSTOMER = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
SEEDS = (11, 12, 13)
ORIGIN = f"48h/{NETWORK.coin_type}h/0h/2h"  # BIP-48 P2WSH multisig, test coin type
_VERSIONS = EMBIT_NETWORKS[NETWORK.embit]  # tprv / tpub


def _master(seed: int) -> bip32.HDKey:
    return bip32.HDKey.from_seed(bytes([seed]) * 32, version=_VERSIONS["xprv"])


def demo_descriptor() -> str:
    keys = []
    for seed in SEEDS:
        root = _master(seed)
        xpub = root.derive("m/" + ORIGIN).to_public().to_base58(version=_VERSIONS["xpub"])
        keys.append(f"[{root.my_fingerprint.hex()}/{ORIGIN}]{xpub}/0/*")
    return f"wsh(sortedmulti(2,{','.join(keys)}))"


def demo_policy_service(ex: DemoExchange) -> PolicyService:
    """The demo's policy service: the data directory's policy, relaxed for the demo
    (`kinko.demo.exchange.demo_policy`)."""
    return ex.services.policy


@dataclass(frozen=True, slots=True)
class BtcAct:
    withdrawals: WithdrawalService
    approvals: ApprovalService
    keys: tuple[bytes, ...]
    settlement: OfflineSettlement


def prepare(ex: DemoExchange) -> BtcAct:
    """Register the wallet, key files and allow-listed address once; wire the services."""
    ctx = ex.ctx
    policy = demo_policy_service(ex)
    with ctx.db.transaction() as session:
        fresh = session.get(WalletRow, WALLET) is None
        if fresh:
            session.add(
                cold_multisig_wallet(
                    WALLET,
                    name="BTC cold (regtest, P2WSH 2-of-3)",
                    network=NETWORK.name,
                    descriptor=demo_descriptor(),
                    created_at=ctx.clock.now(),
                )
            )
    if fresh:
        with ctx.db.transaction() as session:
            proposal = policy.addresses.propose(
                session,
                chain="bitcoin",
                address=BTC_CUSTOMER,
                label="customer 2002 (verified)",
                owner_kind=OwnerKind.CUSTOMER_VERIFIED,
                tiers_allowed=[Tier.COLD],
                actor=f"user:{ex.users['alice']}",
            )
        vote = vote_with_key(
            ex.services,
            ex.authenticators["carol"],
            ex.users["carol"],
            ApprovalKind.PROPOSAL,
            proposal.id,
            name="carol",
        )
        with ctx.db.transaction() as session:
            policy.addresses.approve(
                session, proposal_id=proposal.id, actor=f"user:{ex.users['carol']}", vote=vote
            )
        time.sleep(1.1)  # the demo policy's one-second cold cooling-off
    key_dir = ctx.settings.data_dir / KEY_DIR
    make_private_dir(key_dir)
    for n, seed in enumerate(SEEDS, start=1):
        path = key_dir / f"holder{n}.key"
        if not path.exists():
            text = _master(seed).to_base58(version=_VERSIONS["xprv"])
            write_secret_file(path, f"{text}\n".encode())
    ports = ex.services.ports_on(ChainRouter({"bitcoin": BitcoinGateway()}))
    keys = tuple(read_key_file(key_dir / f"holder{n}.key") for n in (1, 2))
    return BtcAct(
        WithdrawalService(ctx, ports),
        ApprovalService(ctx, ports),
        keys,
        OfflineSettlement(ctx, ports),
    )


def _fund(ex: DemoExchange, run: str, step: Callable[[str], None]) -> None:
    adapter = BitcoinAdapter(NETWORK.name, descriptor=demo_descriptor())
    assert adapter.wallet is not None
    salt = hashlib.sha256(run.encode()).digest()[:30]
    for i, amount in enumerate((150_000, 80_000)):
        prev = Transaction(
            vin=[TransactionInput(salt + bytes([i, 0]), 0)],
            vout=[TransactionOutput(amount, Script(adapter.wallet.script_pubkey(0, i)))],
        )
        done = import_utxo(
            ex.ctx, wallet_id=WALLET, prev_tx=bytes(prev.serialize()), vout=0, actor="system:demo"
        )
        step(f"imported UTXO {done.txid}:{done.vout} ({done.amount} sat) for {WALLET}")


@dataclass(frozen=True, slots=True)
class BtcWalk:
    withdrawal_id: str
    final_tx: bytes  # the finalised regtest transaction (network serialisation)


def walk_bitcoin(ex: DemoExchange, log_vkey: str, run: str, step: Callable[[str], None]) -> BtcWalk:
    """Request, approve, co-sign twice offline and finalise."""
    ctx = ex.ctx
    act = prepare(ex)
    step(
        f"{WALLET}: P2WSH 2-of-3 on {NETWORK.name}, three cosigners' tpub keys at "
        f"m/{ORIGIN}; {BTC_CUSTOMER} ({NETWORK.name}) allow-listed for cold wallets"
    )
    _fund(ex, run, step)
    view = act.withdrawals.request(
        WithdrawalRequest(
            asset="BTC", amount="0.002", destination=BTC_CUSTOMER, source_wallet=WALLET
        ),
        requester=ex.users["alice"],
        idempotency_key=f"{run}-btc",
        channel="demo",
    )
    assert view.intent is not None and view.digest is not None, view.reason
    change = [o for o in view.intent["outputs"] if o["is_change"]]
    step(
        f"alice requests 0.002 BTC to {BTC_CUSTOMER} → {view.id}; {NETWORK.name} PSBT "
        f"built from the imported UTXOs with the wallet's descriptor, decoded back: "
        f"{view.intent['amount']} sat to {view.intent['destination']} on "
        f"{view.intent['network']}, {len(change)} change output to the wallet, "
        f"fee {view.intent['fee']} sat; digest {view.digest}"
    )
    for name in ("bob", "carol"):
        issued = act.approvals.challenge(view.id, approver=ex.users[name])
        assertion = ex.authenticators[name].assert_(
            challenge=issued.challenge, origin=ctx.settings.webauthn_origin
        )
        save_authenticator(
            ctx.settings.data_dir / "demo-authenticators", name, ex.authenticators[name]
        )
        view = act.approvals.approve(view.id, approver=ex.users[name], assertion=assertion)
        step(f"{name} approves the BTC withdrawal over its digest → {view.state.value}")
    with ctx.db.transaction() as session:
        directory = IdentityDirectory(ex.services.identity)
        bundle = export_bundle(ctx, session, directory, view.id).to_bytes()
    step("bundle exported with the PSBT and the wallet descriptor")
    partial: bytes | None = None
    final: bytes | None = None
    for holder, result in cosign_in_turn(
        bundle,
        act.keys,
        log_vkey=log_vkey,
        now=ctx.clock.now(),
        rp_id=ctx.settings.webauthn_rp_id,
        origin=ctx.settings.webauthn_origin,
    ):
        if isinstance(result, KinkoError):
            raise result
        partial, final = result.signed_tx, result.final_tx
        step(
            f"key holder {holder} verifies the bundle offline and adds a partial signature "
            f"(tprv key file {KEY_DIR}/holder{holder}.key)"
        )
    assert final is not None and partial is not None
    txid = Transaction.parse(final).txid().hex()
    step(f"2-of-3 reached: finalised {NETWORK.name} transaction {txid} ({len(final)} bytes)")
    settled = act.settlement.record_signed(view.id, partial, actor="system:demo")
    step(
        "Kinko takes the co-signed PSBT back (kinko withdraw submit): the approved "
        f"transaction, 2 of 3 valid signatures → {settled.state.value}"
    )
    settled = act.settlement.record_sent(view.id, actor="system:demo")
    step(
        f"the operator broadcasts it with their own node (on {NETWORK.name} the demo stands "
        f"in for it) and records it (kinko withdraw sent) → {settled.state.value} {settled.txid}"
    )
    settled = act.settlement.record_confirmed(view.id, txid=txid, actor="system:demo")
    step(
        "their node shows it in a block (kinko withdraw confirm --txid) → "
        f"[green]{settled.state.value}[/]"
    )
    return BtcWalk(view.id, final)
