"""How `kinko withdraw ...` prints a withdrawal: from the database (show, list) or as the
API answered it (the commands that act), people by name, ids and the digest whole."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kinko.cli.common import echo_json
from kinko.cli.output import Names, guarded_json, print_fields

if TYPE_CHECKING:
    from kinko.withdrawals.records import WithdrawalView

# Asked of the API by the commands that act: the answer names the people (`render_json`).
NAMES = {"usernames": "true"}


def render(view: WithdrawalView, names: Names) -> None:
    """A withdrawal as ``label: value`` lines: ids, addresses and the digest never cut."""
    fields: list[tuple[str, str | None]] = [
        ("state", view.state.value + (f" — {view.reason}" if view.reason else "")),
        ("requester", names.user(view.requester)),
        ("wallet", names.wallet_with_id(view.wallet_id)),
    ]
    if view.intent is not None:
        fields += [
            ("decoded: destination", str(view.intent["destination"])),
            ("decoded: amount", f"{view.intent['amount']} base units of {view.intent['asset']}"),
            ("decoded: call", str(view.intent["call_kind"])),
            ("decoded: fee cap", str(view.intent["fee"])),
            ("digest (approve this)", str(view.digest)),
        ]
    else:
        fields.append(
            ("requested", f"{view.amount} base units of {view.asset} to {view.destination}")
        )
    for approval in view.approvals:
        who = names.user(str(approval["approver"]))
        fields.append((str(approval["verdict"]), f"{who} ({approval['binding']})"))
    if view.txid:
        fields.append(("txid", view.txid))
    print_fields(f"withdrawal {view.id}", fields)


def _print(view: WithdrawalView, names: Names, as_json: bool) -> None:
    if as_json:
        echo_json(view.to_json())
    else:
        render(view, names)


def render_json(view: dict[str, Any]) -> None:
    """A withdrawal as the API answered it (`render`'s fields; people by name)."""
    names: dict[str, str] = view.get("usernames") or {}

    def who(ref: object) -> str:
        return names.get(str(ref), str(ref)) if ref else "-"

    reason = view.get("reason")
    fields: list[tuple[str, str | None]] = [
        ("state", str(view["state"]) + (f" — {reason}" if reason else "")),
        ("requester", who(view.get("requester"))),
        ("wallet", view.get("wallet")),
    ]
    intent = view.get("intent")
    if isinstance(intent, dict):
        fields += [
            ("decoded: destination", str(intent["destination"])),
            ("decoded: amount", f"{intent['amount']} base units of {intent['asset']}"),
            ("decoded: call", str(intent["call_kind"])),
            ("decoded: fee cap", str(intent["fee"])),
            ("digest (approve this)", str(view.get("digest"))),
        ]
    else:
        fields.append(
            (
                "requested",
                f"{view.get('amount')} base units of {view.get('asset')} to "
                f"{view.get('destination')}",
            )
        )
    for approval in view.get("approvals") or []:
        fields.append(
            (str(approval["verdict"]), f"{who(approval['approver'])} ({approval['binding']})")
        )
    if view.get("txid"):
        fields.append(("txid", str(view["txid"])))
    print_fields(f"withdrawal {view['id']}", fields)


def print_answer(view: dict[str, Any], as_json: bool) -> None:
    """What a write command prints: the withdrawal (``--json``: as `withdraw show --json`)."""
    if as_json:
        echo_json({k: v for k, v in view.items() if k != "usernames"})
    else:
        render_json(view)


def post_step(
    withdrawal_id: str, step: str, body: dict[str, Any] | None = None, *, as_json: bool
) -> None:
    """POST /v1/withdrawals/{id}/{step} as the signed-in person and print the withdrawal
    it answers (`print_answer`); with ``--json`` an error is a JSON document too."""
    from kinko.cli import api

    with guarded_json(as_json), api.connect() as kinko:
        view = kinko.post(f"/v1/withdrawals/{withdrawal_id}/{step}", body, params=NAMES)
    print_answer(view, as_json)
