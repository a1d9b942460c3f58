"""`kinko withdraw submit | sent | confirm`: an offline-signed withdrawal back into Kinko,
then broadcast and confirmed (docs/withdrawals.md, kinko.withdrawals.offline)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kinko.cli.output import JsonOption, guarded_json

if TYPE_CHECKING:
    from kinko.withdrawals.offline import OfflineSettlement
    from kinko.withdrawals.stack import WithdrawalStack

AsUser = Annotated[str, typer.Option("--as", help="Your username (recorded as the actor).")]


def _settlement(stack: WithdrawalStack) -> OfflineSettlement:
    from kinko.withdrawals.offline import OfflineSettlement

    return OfflineSettlement(stack.ctx, stack.ports)


def register_settle(withdraw: typer.Typer) -> None:
    """Add the three commands to ``kinko withdraw``."""
    from kinko.cli import withdrawals as cli

    @withdraw.command("submit")
    def submit(
        withdrawal_id: str,
        signed: Annotated[
            Path,
            typer.Option(
                help="What `kinko cosign --out` wrote (hex): the PSBT with the key holders' "
                "signatures (Bitcoin), the signed transaction (Ethereum)."
            ),
        ],
        as_user: AsUser,
        as_json: JsonOption = False,
    ) -> None:
        """Record an approved withdrawal's co-signed transaction: it becomes signed."""
        with guarded_json(as_json):
            payload = cli._read_hex(signed, "--signed")
            with cli._services() as stack:
                actor = f"user:{cli._user_id(stack, as_user)}"
                view = _settlement(stack).record_signed(withdrawal_id, payload, actor=actor)
                names = cli._names(stack)
        cli._print(view, names, as_json)

    @withdraw.command("sent")
    def sent(withdrawal_id: str, as_user: AsUser, as_json: JsonOption = False) -> None:
        """Record that you broadcast a signed withdrawal's transaction: it becomes broadcast."""
        with guarded_json(as_json), cli._services() as stack:
            actor = f"user:{cli._user_id(stack, as_user)}"
            view = _settlement(stack).record_sent(withdrawal_id, actor=actor)
            names = cli._names(stack)
        cli._print(view, names, as_json)

    @withdraw.command("confirm")
    def confirm(
        withdrawal_id: str,
        txid: Annotated[str, typer.Option(help="The txid your node shows in a block.")],
        as_user: AsUser,
        as_json: JsonOption = False,
    ) -> None:
        """Record that a broadcast withdrawal's transaction is in a block: it is confirmed."""
        with guarded_json(as_json), cli._services() as stack:
            actor = f"user:{cli._user_id(stack, as_user)}"
            view = _settlement(stack).record_confirmed(withdrawal_id, txid=txid, actor=actor)
            names = cli._names(stack)
        cli._print(view, names, as_json)
