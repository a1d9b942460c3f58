"""CLI: `kinko withdraw ...`, `kinko cosign`, `kinko signer serve`."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kinko.cli.common import console, echo_json, guarded, settings
from kinko.cli.output import JsonOption, Names, guarded_json, print_table
from kinko.cli.withdrawal_views import NAMES, _print, post_step, print_answer, render_json
from kinko.core.errors import InputError

if TYPE_CHECKING:
    from kinko.withdrawals.stack import WithdrawalStack


@contextmanager
def _services() -> Iterator[WithdrawalStack]:
    """The withdrawal services on the configured database, disposed of afterwards."""
    from kinko.cli.common import open_services

    with open_services() as services:
        yield services.withdrawal_stack()


def _read_hex(path: Path, option: str) -> bytes:
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(option, f"{path} must hold hex: {exc}") from None


def _names(stack: WithdrawalStack) -> Names:
    with stack.ctx.db.reading() as session:
        return Names.load(session)


def register(app: typer.Typer) -> None:
    withdraw = typer.Typer(help="Request, approve and inspect withdrawals.", no_args_is_help=True)
    bundle_app = typer.Typer(help="Approval bundles.", no_args_is_help=True)
    withdraw.add_typer(bundle_app, name="bundle")
    app.add_typer(withdraw, name="withdraw")

    @withdraw.command("request")
    def request(  # noqa: PLR0917 - typer maps each parameter to an option
        asset: Annotated[str, typer.Option(help="Asset, e.g. ETH or ethereum:USDC.")],
        amount: Annotated[str, typer.Option(help='Decimal amount, e.g. "1.5".')],
        to: Annotated[str, typer.Option("--to", help="Destination address.")],
        wallet: Annotated[str | None, typer.Option(help="Source wallet id.")] = None,
        customer_ref: Annotated[str | None, typer.Option(help="Customer reference.")] = None,
        memo: Annotated[str | None, typer.Option(help="Memo.")] = None,
        idempotency_key: Annotated[str | None, typer.Option(help="Idempotency key.")] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Request a withdrawal (as you, signed in) and run it to its policy decision."""
        from kinko.cli import api

        body = {
            "asset": asset,
            "amount": amount,
            "destination": to,
            "source_wallet": wallet,
            "customer_ref": customer_ref,
            "memo": memo,
        }
        key = idempotency_key or f"cli-{secrets.token_hex(16)}"
        with guarded_json(as_json), api.connect() as kinko:
            view = kinko.post(
                "/v1/withdrawals", body, headers={"Idempotency-Key": key}, params=NAMES
            )
        print_answer(view, as_json)

    @withdraw.command("rebalance")
    def rebalance(
        plan_id: Annotated[
            str | None, typer.Option(help="Plan id (default: today's date, UTC).")
        ] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Turn the custody rebalancing plan into ordinary withdrawal requests (yours)."""
        from kinko.cli import api

        with guarded_json(as_json), api.connect() as kinko:
            done = kinko.post("/v1/withdrawals/rebalance", {"plan_id": plan_id}, params=NAMES)
        if as_json:
            echo_json(
                {
                    "withdrawals": [
                        {k: v for k, v in w.items() if k != "usernames"}
                        for w in done["withdrawals"]
                    ],
                    "problems": done["problems"],
                }
            )
            return
        for view in done["withdrawals"]:
            render_json(view)
        for problem in done["problems"]:
            console.print(f"[yellow]problem:[/] {problem}", highlight=False)

    @withdraw.command("list")
    def list_(
        state: Annotated[str | None, typer.Option(help="Only this state.")] = None,
        as_json: JsonOption = False,
    ) -> None:
        """List recent withdrawals."""
        with guarded_json(as_json), _services() as stack:
            views = stack.withdrawals.list(state=state)
            names = _names(stack)
        if as_json:
            echo_json([v.to_json() for v in views])
            return
        print_table(
            ("id", "state", "wallet", "amount", "asset", "destination"),
            [
                (
                    v.id,
                    v.state.value,
                    names.wallet(v.wallet_id),
                    str(v.amount),
                    v.asset,
                    v.destination,
                )
                for v in views
            ],
            whole={"id"},
        )

    @withdraw.command("show")
    def show(
        withdrawal_id: str,
        as_json: JsonOption = False,
    ) -> None:
        """Show a withdrawal: the decoded transaction and the digest to approve."""
        with guarded_json(as_json), _services() as stack:
            view = stack.withdrawals.get(withdrawal_id)
            names = _names(stack)
        _print(view, names, as_json)

    @withdraw.command("challenge")
    def challenge(withdrawal_id: str, as_json: JsonOption = False) -> None:
        """Issue a one-time approval challenge for you: your authenticator signs it (valid
        10 minutes, once), then 'kinko withdraw approve ID --assertion FILE'."""
        from kinko.cli import api

        with guarded_json(as_json), api.connect() as kinko:
            shown = kinko.post(f"/v1/withdrawals/{withdrawal_id}/approval-challenge")
        if as_json:
            echo_json(shown)
            return
        for label in ("withdrawal", "digest", "expires_at", "nonce", "challenge", "valid_until"):
            typer.echo(f"{label}: {shown[label]}")
        typer.echo(f"signed document: {shown['document']}")
        typer.echo(
            "Sign 'challenge' (base64url) with your authenticator "
            "(navigator.credentials.get, userVerification required), then: "
            f"kinko withdraw approve {withdrawal_id} --assertion FILE"
        )

    @withdraw.command("approve")
    def approve(
        withdrawal_id: str,
        assertion: Annotated[
            Path | None,
            typer.Option(
                help="WebAuthn assertion JSON over the challenge of 'kinko withdraw challenge'."
            ),
        ] = None,
        totp: Annotated[
            str | None,
            typer.Option(
                "--totp",
                help="Current TOTP code: a weaker, server-attested binding "
                "(needs allow_totp_approvals).",
            ),
        ] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Approve (as you) with a WebAuthn assertion over the approval challenge (or,
        weaker, a TOTP code)."""
        with guarded_json(as_json):
            if (assertion is None) == (totp is None):
                raise InputError("--assertion", "give exactly one of --assertion or --totp")
            body: dict[str, Any]
            if totp is not None:
                body = {"totp": totp}
            else:
                assert assertion is not None
                try:
                    response = json.loads(assertion.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise InputError(
                        "--assertion", f"cannot read a JSON assertion: {exc}"
                    ) from None
                if not isinstance(response, dict):
                    raise InputError("--assertion", "must hold a JSON object")
                body = {"assertion": response}
        post_step(withdrawal_id, "approve", body, as_json=as_json)

    @withdraw.command("execute")
    def execute(
        withdrawal_id: str,
        as_json: JsonOption = False,
    ) -> None:
        """Retry: sign and broadcast an approved hot-wallet withdrawal that could not go out
        when it was approved (no node then); Kinko does it by itself otherwise. Never signs
        twice."""
        post_step(withdrawal_id, "execute", as_json=as_json)

    @withdraw.command("reject")
    def reject(
        withdrawal_id: str,
        reason: Annotated[str, typer.Option(help="Why.")],
        as_json: JsonOption = False,
    ) -> None:
        """Reject (as you): one rejection ends the request."""
        post_step(withdrawal_id, "reject", {"reason": reason}, as_json=as_json)

    @withdraw.command("cancel")
    def cancel(
        withdrawal_id: str,
        reason: Annotated[str, typer.Option(help="Why (audited).")],
        as_json: JsonOption = False,
    ) -> None:
        """Cancel (as you) before it is signed: your own request, or anyone's with
        withdrawals:cancel_any (operator)."""
        post_step(withdrawal_id, "cancel", {"reason": reason}, as_json=as_json)

    @withdraw.command("utxo-import")
    def utxo_import(
        wallet: Annotated[str, typer.Option(help="Bitcoin wallet id.")],
        tx: Annotated[Path, typer.Option(help="File with the raw funding transaction (hex).")],
        vout: Annotated[int, typer.Option(help="Index of the output paying the wallet.")],
    ) -> None:
        """Record a Bitcoin output the wallet may spend (no Bitcoin node needed)."""
        from kinko.cli import api

        with guarded():
            prev_tx = _read_hex(tx, "--tx")
            with api.connect() as kinko:
                done = kinko.post(
                    f"/v1/custody/wallets/{wallet}/utxos", {"tx": prev_tx.hex(), "vout": vout}
                )
        console.print(
            f"imported {done['txid']}:{done['vout']} ({done['amount']} sat) for {done['wallet_id']}"
        )

    @bundle_app.command("export")
    def export(
        withdrawal_id: str,
        out: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
    ) -> None:
        """Export the approval bundle (canonical JSON, docs/bundle.md)."""
        from kinko.cli.common import local_actor
        from kinko.withdrawals.export import checked_export

        with guarded(), _services() as stack:
            data = checked_export(stack.ctx, stack.ports, withdrawal_id, actor=local_actor())
        raw = data.to_bytes()
        if out is None:
            typer.echo(raw.decode("utf-8"))
        else:
            out.write_bytes(raw)
            console.print(f"bundle written to {out}")

    @app.command("cosign")
    def cosign_command(  # noqa: PLR0917 - typer maps each parameter to an option
        bundle: Annotated[Path, typer.Argument(help="Approval bundle JSON.")],
        key: Annotated[
            Path, typer.Option(help="Key file (hex secret key, or BIP-32 xprv; mode 0600).")
        ],
        vkey: Annotated[Path, typer.Option(help="The audit log's verifier key file.")],
        rp_id: Annotated[str | None, typer.Option(help="WebAuthn RP id.")] = None,
        origin: Annotated[str | None, typer.Option(help="WebAuthn origin.")] = None,
        out: Annotated[
            Path | None, typer.Option(help="Write the signed tx / partially signed PSBT (hex).")
        ] = None,
        psbt: Annotated[
            Path | None, typer.Option(help="Bitcoin: a PSBT (hex) another cosigner signed.")
        ] = None,
        tx_out: Annotated[
            Path | None, typer.Option(help="Bitcoin: write the finalised transaction (hex).")
        ] = None,
        unsafe_accept_server_attested: Annotated[
            bool,
            typer.Option(
                "--unsafe-accept-server-attested-approvals",
                help="Count TOTP approvals bound only by the server (totp_server_attested), "
                "which cannot be verified offline. Unsafe.",
            ),
        ] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Verify a bundle offline exactly as the signer does, then sign it (warm/cold)."""
        from kinko.core.clock import SystemClock
        from kinko.signer.offline import (
            UnsafeAcceptServerAttestedApprovals,
            cosign,
            read_key_file,
        )

        with guarded_json(as_json):
            cfg = settings()
            try:
                raw = bundle.read_bytes()
                log_vkey = vkey.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise InputError("BUNDLE", f"cannot read: {exc}") from None
            result = cosign(
                raw,
                key=read_key_file(key),
                log_vkey=log_vkey,
                now=SystemClock().now(),
                rp_id=rp_id or cfg.webauthn_rp_id,
                origin=origin or cfg.webauthn_origin,
                partial=None if psbt is None else _read_hex(psbt, "--psbt"),
                unsafe=UnsafeAcceptServerAttestedApprovals()
                if unsafe_accept_server_attested
                else None,
            )
        verified = result.verified
        if out is not None:
            out.write_text(result.signed_tx.hex() + "\n", encoding="ascii")
        if result.final_tx is not None and tx_out is not None:
            tx_out.write_text(result.final_tx.hex() + "\n", encoding="ascii")
        if as_json:
            bundled = verified.bundle
            echo_json(
                {
                    "ok": True,
                    "withdrawal_id": bundled.withdrawal_id,
                    "wallet_id": bundled.wallet_id,
                    "chain": bundled.chain,
                    "network": bundled.network,
                    "intent": verified.intent.to_json(),
                    "digest": verified.digest.hex(),
                    "requester": verified.requester,
                    "approvers": list(verified.approvers),
                    "required_approvals": verified.required_approvals,
                    "server_attested": list(verified.server_attested),
                    "checkpoint_size": verified.checkpoint_size,
                    "freeze_checked": False,
                    "signed_tx": result.signed_tx.hex(),
                    "final_tx": None if result.final_tx is None else result.final_tx.hex(),
                }
            )
            return
        console.print(
            f"[green]verified[/]: {verified.intent.amount} base units of {verified.intent.asset} "
            f"to {verified.intent.destination}; digest {verified.digest.hex()}; approved by "
            f"{len(verified.approvers)}/{verified.required_approvals} "
            f"({', '.join(verified.approvers)}); requester {verified.requester}"
        )
        console.print("[yellow]offline: the freeze state was not checked[/]")
        if verified.server_attested:
            console.print(
                "[bold red]WARNING[/]: --unsafe-accept-server-attested-approvals: approvals by "
                f"{', '.join(verified.server_attested)} are bound by totp_server_attested "
                "(a TOTP code attested by the server), which could not be verified offline"
            )
        if out is None:
            typer.echo(result.signed_tx.hex())
        if result.final_tx is not None:
            console.print("[green]threshold reached[/]: the transaction is finalised")
            if tx_out is None:
                typer.echo(result.final_tx.hex())

    from kinko.cli.settle import register_settle

    register_settle(withdraw)  # submit, sent, confirm: offline-signed withdrawals back in

    signer_app = typer.Typer(help="The online signer.", no_args_is_help=True)
    app.add_typer(signer_app, name="signer")

    @signer_app.command("serve")
    def signer_serve(
        host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to bind.")] = 8700,
    ) -> None:
        """Serve the online signer (hot wallets) as a separate process."""
        import uvicorn

        from kinko.api.signer_server import create_signer_app, signer_token

        with guarded():
            from kinko.cli.common import services
            from kinko.serving.processes import check_port_free

            check_port_free(host, port)  # in use: exit 2, not uvicorn's 3
            stack = services().withdrawal_stack()  # lives as long as the server
            token_path = stack.ctx.settings.data_dir / "signer.token"
            application = create_signer_app(stack.signer, signer_token(token_path))
        console.print(f"signer on http://{host}:{port}; bearer token in {token_path}")
        uvicorn.run(application, host=host, port=port, log_config=None, proxy_headers=False)
