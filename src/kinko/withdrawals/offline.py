"""Withdrawals signed offline (`kinko cosign`): back into Kinko, then `broadcast` and
`confirmed` like the ones the online signer signs.

approved -> (the co-signed transaction, checked) -> signed -> (sent) -> broadcast ->
(in a block) -> confirmed.

`record_signed` takes what `kinko cosign --out` wrote: for Bitcoin the PSBT carrying the
key holders' signatures, for Ethereum the signed transaction. It is accepted only if it is
exactly the approved transaction (the PSBT's unsigned transaction, or the Ethereum
transaction's unsigned fields, byte for byte) and validly signed (Bitcoin: the wallet's
threshold of valid cosigner signatures, finalised here; Ethereum: by the wallet's own
address). The signed transaction is stored with the move to `signed`, the signatures go to
the nonce self-test's log, and a withdrawal whose destination was listed after approval, or
whose wallet is frozen, is refused. Kinko has no Bitcoin node: the operator broadcasts the
stored transaction with their own and says so (`record_sent`); the txid is computed by
Kinko, never typed. `record_confirmed` takes the txid the operator's node reports as
confirmed, which must be the stored one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.chains.base import EcdsaSignature
from kinko.context import Context
from kinko.core.errors import Conflict, InputError, IntegrityError
from kinko.custody.keys import record_signatures
from kinko.store.tables.custody import WalletRow
from kinko.store.tables.screening import ScreeningAlertRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.ports import Ports
from kinko.withdrawals.records import WithdrawalView, load, move, unit_of_work, view
from kinko.withdrawals.states import State, parse_state


@dataclass(frozen=True, slots=True)
class Checked:
    signed_tx: bytes  # what is broadcast: Bitcoin's finalised network transaction
    txid: str
    signatures: list[EcdsaSignature]


def check_signed(wallet: WalletRow, unsigned: bytes, payload: bytes) -> Checked:
    """`payload` as the transaction to send, if it is the approved one, validly signed."""
    if wallet.chain == "bitcoin":
        return _bitcoin(wallet, unsigned, payload)
    if wallet.chain == "ethereum":
        return _ethereum(wallet, unsigned, payload)
    raise Conflict(f"wallet {wallet.id} is on {wallet.chain}: no offline signing there")


def _bitcoin(wallet: WalletRow, unsigned: bytes, payload: bytes) -> Checked:
    from kinko.chains.bitcoin import psbt as psbtmod
    from kinko.withdrawals.bitcoin import wallet_adapter

    signed_psbt = psbtmod.parse(payload)  # InputError on what is not a PSBT
    approved = psbtmod.parse(unsigned)
    if signed_psbt.tx.serialize() != approved.tx.serialize():
        raise IntegrityError(
            "the co-signed PSBT spends or pays something else than the approved transaction "
            f"(txid {signed_psbt.tx.txid().hex()}, approved {approved.tx.txid().hex()})"
        )
    adapter = wallet_adapter(wallet)
    final = adapter.finalize(payload)  # the wallet's threshold of valid signatures, or not
    return Checked(final, approved.tx.txid().hex(), adapter.signatures(payload))


def _ethereum(wallet: WalletRow, unsigned: bytes, payload: bytes) -> Checked:
    from kinko.chains.ethereum import tx as ethtx
    from kinko.chains.ethereum.address import normalize_address

    tx = ethtx.parse(payload)
    if tx.signature is None:
        raise InputError("signed", "is not signed: give the file `kinko cosign --out` wrote")
    if tx.unsigned_payload() != unsigned:
        raise IntegrityError("the signed transaction is not the approved one")
    if wallet.address is None or tx.sender() != normalize_address(wallet.address):
        raise IntegrityError(f"the transaction is signed by {tx.sender()}, not by the wallet")
    signature = EcdsaSignature(
        public_key=tx.sender_public_key().to_compressed_bytes(),
        r=tx.signature.r,
        s=tx.signature.s,
        digest=tx.signing_digest(),
    )
    return Checked(payload, "0x" + tx.tx_hash().hex(), [signature])


def txid_of(chain: str, signed_tx: bytes) -> str:
    """The txid of a stored signed transaction, as that chain's nodes show it."""
    if chain == "bitcoin":
        from embit.transaction import Transaction

        return str(Transaction.parse(signed_tx).txid().hex())
    from kinko.chains.ethereum import tx as ethtx

    return "0x" + ethtx.parse(signed_tx).tx_hash().hex()


class OfflineSettlement:
    def __init__(self, ctx: Context, ports: Ports) -> None:
        self.ctx = ctx
        self.ports = ports

    def record_signed(self, withdrawal_id: str, payload: bytes, *, actor: str) -> WithdrawalView:
        """approved -> signed, with the co-signed transaction (idempotent for the same)."""
        with unit_of_work(self.ctx) as session:
            row = load(session, withdrawal_id)
            wallet = self._wallet(session, row)
            unsigned = row.unsigned_tx
        if unsigned is None:
            raise Conflict(f"withdrawal {withdrawal_id} has no approved transaction")
        checked = check_signed(wallet, unsigned, payload)
        with unit_of_work(self.ctx) as session:
            row = load(session, withdrawal_id, lock=True)
            state = parse_state(row.state)
            if state in {State.SIGNED, State.BROADCAST, State.CONFIRMED}:
                if row.signed_tx != checked.signed_tx:
                    raise Conflict(f"withdrawal {withdrawal_id} holds another signed transaction")
                return view(session, row)
            if state is not State.APPROVED:
                raise Conflict(
                    f"withdrawal {withdrawal_id} is {state.value}; only an approved withdrawal "
                    "takes its signed transaction",
                    code="not_approved",
                )
            self._refuse_if_stopped(session, row)
            row.signed_tx = checked.signed_tx
            record_signatures(
                self.ctx, session, wallet.chain, f"withdrawal:{row.id}", checked.signatures
            )
            move(
                self.ctx,
                session,
                row,
                State.SIGNED,
                actor=actor,
                details={
                    "signed_offline": True,
                    "txid": checked.txid,
                    "signed_tx_sha256": hashlib.sha256(checked.signed_tx).hexdigest(),
                },
            )
            return view(session, row)

    def record_sent(self, withdrawal_id: str, *, actor: str) -> WithdrawalView:
        """signed -> broadcast: the operator sent the stored transaction with their node."""
        with unit_of_work(self.ctx) as session:
            row = load(session, withdrawal_id, lock=True)
            state = parse_state(row.state)
            if state in {State.BROADCAST, State.CONFIRMED}:
                return view(session, row)
            if state is not State.SIGNED or row.signed_tx is None:
                raise Conflict(
                    f"withdrawal {withdrawal_id} is {state.value}; record its co-signed "
                    f"transaction first (kinko withdraw submit {withdrawal_id} --signed FILE)",
                    code="not_signed",
                )
            row.txid = txid_of(row.chain, row.signed_tx)
            move(self.ctx, session, row, State.BROADCAST, actor=actor, details={"txid": row.txid})
            return view(session, row)

    def record_confirmed(self, withdrawal_id: str, *, txid: str, actor: str) -> WithdrawalView:
        """broadcast -> confirmed, when `txid` (as the node shows it) is the stored one."""
        with unit_of_work(self.ctx) as session:
            row = load(session, withdrawal_id, lock=True)
            state = parse_state(row.state)
            if state not in {State.BROADCAST, State.CONFIRMED} or row.txid is None:
                raise Conflict(
                    f"withdrawal {withdrawal_id} is {state.value}, not broadcast",
                    code="not_broadcast",
                )
            if _plain(txid) != _plain(row.txid):
                raise Conflict(
                    f"withdrawal {withdrawal_id} was broadcast as {row.txid}, not {txid}: "
                    "check which transaction your node confirmed",
                    code="txid_mismatch",
                )
            move(self.ctx, session, row, State.CONFIRMED, actor=actor, details={"txid": row.txid})
            return view(session, row)

    def _wallet(self, session: Session, row: WithdrawalRow) -> WalletRow:
        wallet = session.get(WalletRow, row.wallet_id)
        if wallet is None:
            raise Conflict(f"withdrawal {row.id}'s wallet is unknown")
        return wallet

    def _refuse_if_stopped(self, session: Session, row: WithdrawalRow) -> None:
        """What the online signer would refuse: a listed destination, a frozen wallet."""
        alert = session.execute(
            select(ScreeningAlertRow.id, ScreeningAlertRow.list_name).where(
                ScreeningAlertRow.target_kind == "withdrawal",
                ScreeningAlertRow.target_ref == row.id,
            )
        ).first()
        if alert is not None:
            raise Conflict(
                f"withdrawal {row.id}'s destination was found on list {alert[1]} when "
                f"re-screened (screening alert {alert[0]}): do not send it; hold or cancel it",
                code="screening_alert",
            )
        frozen = self.ports.freezes.frozen_reason_for_wallet(session, row.wallet_id)
        if frozen is not None:
            raise Conflict(
                f"wallet {row.wallet_id} is frozen ({frozen}): do not send this transaction",
                code="wallet_frozen",
            )


def _plain(txid: str) -> str:
    return txid.strip().lower().removeprefix("0x")
