"""Bitcoin outputs a wallet may spend, imported by an operator (no Bitcoin node needed).

Each row holds the whole previous transaction, so the PSBT built from it carries a
`non_witness_utxo` the offline cosigner checks the spent amount against. A row is
reserved by the unsigned transaction built to spend it while that withdrawal may still
be signed (kinko.withdrawals.bitcoin).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kinko.store.base import Base, BaseUnits, UTCDateTime


class UtxoRow(Base):
    __tablename__ = "wallet_utxos"
    __table_args__ = (UniqueConstraint("txid", "vout"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wallet_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("wallets.id"), nullable=False, index=True
    )
    txid: Mapped[str] = mapped_column(String(64), nullable=False)  # display (big-endian) hex
    vout: Mapped[int] = mapped_column(Integer, nullable=False)
    amount: Mapped[int] = mapped_column(BaseUnits, nullable=False)  # satoshi
    prev_tx: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    reserved_for_txid: Mapped[str | None] = mapped_column(String(64), index=True)
    imported_by: Mapped[str] = mapped_column(String(100), nullable=False)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
