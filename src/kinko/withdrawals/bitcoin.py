"""Bitcoin m-of-n P2WSH withdrawals without a Bitcoin node.

Spendable outputs are imported by an operator (`import_utxo`, audited); the gateway
builds a PSBT from unreserved ones with the wallet's own descriptor, decodes it back and checks
it (one payment to the destination, everything else change to this wallet, fee under
the cap) before the service records it. Signing is offline (`kinko cosign`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import bdkpython as bdk
from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.chains.base import ChainAdapter
from kinko.chains.bitcoin import BitcoinAdapter, Payment, Utxo
from kinko.chains.bitcoin import psbt as psbtmod
from kinko.chains.bitcoin.wallet import MultisigWallet
from kinko.context import Context
from kinko.core.amount import Asset
from kinko.core.errors import InputError, Unavailable
from kinko.store.tables.custody import WalletRow
from kinko.store.tables.utxos import UtxoRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.records import audit_later, unit_of_work
from kinko.withdrawals.states import State

FEE_RATE = 2  # sat/vB
FEE_CAP = 50_000  # satoshi; a built transaction paying more is refused
ACTION_UTXO_IMPORTED = "wallet.utxo_imported"
_SPENDING_STATES = tuple(
    s.value
    for s in (
        State.PENDING_APPROVAL,
        State.APPROVED,
        State.SIGNED,
        State.BROADCAST,
        State.CONFIRMED,
        State.HELD,
    )
)
# vbytes of a 2-of-3 P2WSH input, of an output, and of the fixed part (estimate only;
# BDK computes the real fee, which is checked against FEE_CAP).
_INPUT_VB, _OUTPUT_VB, _BASE_VB = 105, 43, 11


@dataclass(frozen=True, slots=True)
class ImportedUtxo:
    wallet_id: str
    txid: str
    vout: int
    amount: int


def bitcoin_wallet(wallet: WalletRow) -> MultisigWallet:
    adapter = wallet_adapter(wallet)
    assert adapter.wallet is not None
    return adapter.wallet


def cold_multisig_wallet(
    wallet_id: str, *, name: str, network: str, descriptor: str, created_at: datetime
) -> WalletRow:
    """A long-term cold customer wallet spent with 2 of its 3 keys (approvers decide)."""
    return WalletRow(
        id=wallet_id,
        name=name,
        chain="bitcoin",
        network=network,
        assets=["bitcoin:BTC"],
        tier="cold",
        owner_class="customer",
        purpose="long_term_cold",
        quorum_m=2,
        quorum_n=3,
        eligible_roles=["approver", "senior_approver"],
        address=None,
        descriptor=descriptor,
        limits={},
        active=True,
        created_at=created_at,
    )


def wallet_adapter(wallet: WalletRow) -> BitcoinAdapter:
    if wallet.chain != "bitcoin":
        raise InputError("wallet", f"wallet {wallet.id} is on {wallet.chain}, not bitcoin")
    if not wallet.descriptor:
        raise InputError("wallet", f"Bitcoin wallet {wallet.id} has no descriptor")
    return BitcoinAdapter(wallet.network, descriptor=wallet.descriptor)


def import_utxo(
    ctx: Context, *, wallet_id: str, prev_tx: bytes, vout: int, actor: str
) -> ImportedUtxo:
    """Record output `vout` of the raw transaction `prev_tx` as spendable by the wallet."""
    with unit_of_work(ctx) as session:
        wallet = session.get(WalletRow, wallet_id)
        if wallet is None:
            raise InputError("wallet", f"no wallet {wallet_id!r}")
        multisig = bitcoin_wallet(wallet)
        try:
            tx = bdk.Transaction(prev_tx)
        except Exception as exc:  # bdk raises its own error enums
            raise InputError("prev_tx", f"not a valid transaction: {exc}") from None
        outputs = tx.output()
        if isinstance(vout, bool) or not 0 <= vout < len(outputs):
            raise InputError("vout", f"the transaction has {len(outputs)} outputs")
        if not multisig.bdk_wallet().is_mine(outputs[vout].script_pubkey):
            raise InputError("vout", f"output {vout} does not pay to wallet {wallet_id}")
        txid = str(tx.compute_txid())
        known = session.execute(
            select(UtxoRow).where(UtxoRow.txid == txid, UtxoRow.vout == vout)
        ).scalar_one_or_none()
        if known is not None:
            raise InputError("vout", f"{txid}:{vout} is already imported")
        amount = outputs[vout].value.to_sat()
        session.add(
            UtxoRow(
                wallet_id=wallet_id,
                txid=txid,
                vout=vout,
                amount=amount,
                prev_tx=bytes(prev_tx),
                reserved_for_txid=None,
                imported_by=actor,
                imported_at=ctx.clock.now(),
            )
        )
        audit_later(
            session,
            actor=actor,
            action=ACTION_UTXO_IMPORTED,
            subject=wallet_id,
            details={"txid": txid, "vout": vout, "amount": str(amount)},
        )
        return ImportedUtxo(wallet_id, txid, vout, amount)


def _live_txids(session: Session, wallet_id: str) -> set[str]:
    """Txids of the wallet's withdrawals that may still be spent; outputs reserved by any
    other (denied, cancelled, expired, failed, rebuilt) transaction are free again.

    Both the PSBT on record and the txid its intent recorded when it was built count: a
    PSBT swapped in the database (the DMM Bitcoin move) must not set the outputs the
    withdrawal reserved free for another withdrawal to spend twice."""
    rows = session.execute(
        select(WithdrawalRow.unsigned_tx, WithdrawalRow.intent).where(
            WithdrawalRow.wallet_id == wallet_id,
            WithdrawalRow.state.in_(_SPENDING_STATES),
            WithdrawalRow.unsigned_tx.is_not(None),
        )
    ).all()
    live: set[str] = set()
    for raw, intent in rows:
        recorded = ((intent or {}).get("details") or {}).get("txid")
        if isinstance(recorded, str):
            live.add(recorded)
        live.add(str(psbtmod.parse(raw).tx.txid().hex()))
    return live


class BitcoinGateway:
    """Builds and decodes PSBTs for Bitcoin wallets; no node, so no broadcast."""

    def network_of(self, wallet: WalletRow) -> str:
        BitcoinAdapter(wallet.network)
        return wallet.network

    def adapter(self, chain: str, network: str) -> ChainAdapter:
        if chain != "bitcoin":
            raise InputError("chain", f"no gateway for {chain}/{network} here")
        return BitcoinAdapter(network)

    def wallet_adapter(self, wallet: WalletRow) -> ChainAdapter:
        return wallet_adapter(wallet)

    def build_unsigned(
        self, session: Session, wallet: WalletRow, asset: Asset, amount: int, destination: str
    ) -> bytes:
        adapter = wallet_adapter(wallet)
        live = _live_txids(session, wallet.id)
        rows = [
            row
            for row in session.execute(
                select(UtxoRow)
                .where(UtxoRow.wallet_id == wallet.id)
                .order_by(UtxoRow.amount.desc(), UtxoRow.txid, UtxoRow.vout)
                .with_for_update()
            ).scalars()
            if row.reserved_for_txid is None or row.reserved_for_txid not in live
        ]
        chosen: list[UtxoRow] = []
        for row in rows:
            chosen.append(row)
            estimate = FEE_RATE * (_BASE_VB + _INPUT_VB * len(chosen) + 2 * _OUTPUT_VB)
            if sum(r.amount for r in chosen) >= amount + estimate:
                break
        else:
            spendable = sum(r.amount for r in rows)
            raise InputError(
                "amount",
                f"wallet {wallet.id} has {spendable} sat in imported UTXOs, not enough for "
                f"{amount} sat plus the fee; import more (kinko withdraw utxo-import)",
            )
        unsigned = adapter.build(
            [Utxo(r.prev_tx, r.vout) for r in chosen], [Payment(destination, amount)], FEE_RATE
        )
        intent = adapter.decode(unsigned)
        paid = [o for o in intent.outputs if not o.is_change]
        if [(o.address, o.amount) for o in paid] != [(destination, amount)]:
            raise InputError("destination", "the built PSBT pays something other than asked")
        if intent.fee > FEE_CAP:
            raise InputError("amount", f"the fee {intent.fee} sat exceeds the cap {FEE_CAP}")
        txid = str(intent.details["txid"])
        for row in chosen:
            row.reserved_for_txid = txid
        return unsigned

    def sign(self, wallet: WalletRow, unsigned_tx: bytes) -> bytes:
        raise Unavailable("Bitcoin wallets are co-signed offline: kinko cosign")

    def can_broadcast(self, chain: str) -> bool:
        return False

    def require_broadcast(self, wallet: WalletRow) -> None:
        raise Unavailable(
            f"wallet {wallet.id} is a Bitcoin wallet: co-sign offline (kinko cosign), record "
            "the co-signed PSBT (kinko withdraw submit), broadcast the finalised transaction "
            "with your own node and record that (kinko withdraw sent); docs/withdrawals.md"
        )

    def broadcast(self, wallet: WalletRow, signed_tx: bytes) -> str:
        self.require_broadcast(wallet)
        raise AssertionError("unreachable")
