"""`kinko withdraw submit | sent | confirm`: an offline-signed withdrawal back into Kinko,
then broadcast and confirmed (docs/withdrawals.md, kinko.withdrawals.offline).

Each is a request to the API as the signed-in person (`kinko login`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kinko.cli.output import JsonOption, guarded_json


def register_settle(withdraw: typer.Typer) -> None:
    """Add the three commands to ``kinko withdraw``."""
    from kinko.cli import withdrawals as cli
    from kinko.cli.withdrawal_views import post_step

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
        as_json: JsonOption = False,
    ) -> None:
        """Record an approved withdrawal's co-signed transaction: it becomes signed."""
        with guarded_json(as_json):
            payload = cli._read_hex(signed, "--signed")
        post_step(withdrawal_id, "signed", {"signed": payload.hex()}, as_json=as_json)

    @withdraw.command("sent")
    def sent(withdrawal_id: str, as_json: JsonOption = False) -> None:
        """Record that you broadcast a signed withdrawal's transaction: it becomes broadcast."""
        post_step(withdrawal_id, "sent", as_json=as_json)

    @withdraw.command("confirm")
    def confirm(
        withdrawal_id: str,
        txid: Annotated[str, typer.Option(help="The txid your node shows in a block.")],
        as_json: JsonOption = False,
    ) -> None:
        """Record that a broadcast withdrawal's transaction is in a block: it is confirmed."""
        post_step(withdrawal_id, "confirmed", {"txid": txid}, as_json=as_json)
