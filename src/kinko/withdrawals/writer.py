"""A withdrawal request's write phase as data, for the one writer of ``kinko serve
--workers N``.

SQLite has one writer at a time. With the write phases spread over N worker processes,
the write lock alternated between them, and in each the writing thread shared its
interpreter lock with that process's HTTP and read-phase threads: a batch of decisions
took 3-5 ms of wall time per request for ~1.3 ms of CPU. So in ``--workers`` mode a worker
checks a request itself (the reads, outside any lock) and sends the checked request as
a `WriteOrder` to the supervisor, whose group commit batches every worker's requests in
one process (`kinko.serving.supervisor`). The decision, its audit entries and its events
happen there, exactly as they would in the worker; the answer is the withdrawal's view,
or the error, with its code and status, that the write raised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kinko.core.amount import Amount, Asset
from kinko.core.errors import InputError, KinkoError
from kinko.withdrawals.intake import Checked, WithdrawalRequest
from kinko.withdrawals.records import WithdrawalView
from kinko.withdrawals.states import parse_state

WRITE_OP = "withdrawal.write"


@dataclass(frozen=True, slots=True)
class Screened:
    """The screening verdict a worker reached, as the write phase needs it."""

    status: str


@dataclass(frozen=True, slots=True)
class WriteOrder:
    body: WithdrawalRequest
    requester: str
    key: str
    fingerprint: str
    channel: str
    checked: Checked

    def to_json(self) -> dict[str, Any]:
        checked, asset = self.checked, self.checked.asset
        return {
            "body": {
                "asset": self.body.asset,
                "amount": self.body.amount,
                "destination": self.body.destination,
                "source_wallet": self.body.source_wallet,
                "customer_ref": self.body.customer_ref,
                "memo": self.body.memo,
            },
            "requester": self.requester,
            "key": self.key,
            "fingerprint": self.fingerprint,
            "channel": self.channel,
            "checked": {
                "asset": {
                    "symbol": asset.symbol,
                    "chain": asset.chain,
                    "decimals": asset.decimals,
                    "contract": asset.contract,
                },
                "amount": checked.amount.base_units,
                "wallet": checked.wallet_id,
                "network": checked.network,
                "destination": checked.destination,
                "screening": str(checked.screening.status),
                "first_seen": checked.first_seen,
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WriteOrder:
        """Parse an order; `Asset` and `Amount` refuse what is not valid."""
        checked = data["checked"]
        asset = Asset(**checked["asset"])
        return cls(
            body=WithdrawalRequest(**data["body"]),
            requester=str(data["requester"]),
            key=str(data["key"]),
            fingerprint=str(data["fingerprint"]),
            channel=str(data["channel"]),
            checked=Checked(
                asset=asset,
                amount=Amount(asset, checked["amount"]),
                wallet_id=str(checked["wallet"]),
                network=str(checked["network"]),
                destination=str(checked["destination"]),
                screening=Screened(str(checked["screening"])),
                first_seen=bool(checked["first_seen"]),
            ),
        )


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def view_from_json(data: dict[str, Any]) -> WithdrawalView:
    """The inverse of `WithdrawalView.to_json`."""
    created = _time(data["created_at"])
    assert created is not None
    return WithdrawalView(
        id=data["id"],
        state=parse_state(data["state"]),
        reason=data["reason"],
        requester=data["requester"],
        wallet_id=data["wallet"],
        chain=data["chain"],
        network=data["network"],
        asset=data["asset"],
        amount=int(data["amount"]),
        destination=data["destination"],
        customer_ref=data["customer_ref"],
        digest=data["digest"],
        intent=data["intent"],
        decision=data["decision"],
        approvals=tuple(data["approvals"]),
        expires_at=_time(data["expires_at"]),
        txid=data["txid"],
        created_at=created,
    )


class RemoteError(KinkoError):
    """An error the writer raised, carried across as it was (code, status, fields)."""

    def __init__(self, reply: dict[str, Any]) -> None:
        super().__init__(str(reply.get("message", "")), code=str(reply.get("error", "error")))
        self.http_status = int(reply.get("status", 500))  # type: ignore[misc]
        self.exit_code = int(reply.get("exit_code", 1))  # type: ignore[misc]
        self._body = {k: str(v) for k, v in reply.items() if k in ("error", "field", "message")}

    def to_dict(self) -> dict[str, str]:
        return dict(self._body)


class RemoteWriter:
    """A worker's side: `exchange` sends one message to the supervisor's hub and returns
    its reply (`kinko.monitor.remote.RemoteMonitor.exchange`)."""

    def __init__(self, exchange: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.exchange = exchange

    def __call__(self, order: WriteOrder) -> WithdrawalView:
        reply = self.exchange({"op": WRITE_OP, "order": order.to_json()})
        if not reply.get("ok"):
            raise RemoteError(reply)
        return view_from_json(reply["view"])


def serve_orders(
    write: Callable[[WriteOrder], WithdrawalView],
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The supervisor's side: a hub handler that runs each order through `write`."""

    def handle(message: dict[str, Any]) -> dict[str, Any]:
        try:
            order = WriteOrder.from_json(message["order"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError("order", f"not a withdrawal write order: {exc}") from None
        return {"view": write(order).to_json()}

    return handle
