"""Comparing a decoded transaction with what was asked for (pure).

The signer and the withdrawal service decode the bytes about to be signed and call
`check_intent` with the request: anything the request did not ask for (another payee,
change to a foreign address, a higher fee, extra or missing inputs, a dangerous call)
is refused with every problem named.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from kinko.chains.base import CallKind, Intent
from kinko.core.errors import IntegrityError


@dataclass(frozen=True, slots=True)
class Expected:
    asset: str
    destination: str
    amount: int
    fee_cap: int
    inputs: Set[tuple[str, int]] | None = None  # Bitcoin outpoints (txid, vout), if fixed


def problems(intent: Intent, expected: Expected) -> list[str]:
    found: list[str] = []
    if intent.call_kind is CallKind.DANGEROUS:
        reasons = intent.details.get("call", {}).get("reasons", [])
        found.append("dangerous call: " + "; ".join(reasons or ["classified as dangerous"]))
    if intent.asset != expected.asset:
        found.append(f"asset is {intent.asset}, expected {expected.asset}")
    paid = [o for o in intent.outputs if not o.is_change]
    for i, output in enumerate(intent.outputs):
        if not output.is_change and output.address != expected.destination:
            found.append(
                f"output {i} pays {output.amount} to {output.address}, which is neither the "
                "destination nor this wallet's change"
            )
    if intent.destination != expected.destination:
        found.append(f"destination is {intent.destination}, expected {expected.destination}")
    if sum(o.amount for o in paid) != expected.amount or intent.amount != expected.amount:
        found.append(f"amount is {intent.amount}, expected {expected.amount}")
    if intent.fee > expected.fee_cap:
        found.append(f"fee {intent.fee} exceeds the cap of {expected.fee_cap}")
    found.extend(str(w) for w in intent.details.get("warnings", []))
    if expected.inputs is not None:
        spent = {(str(i["txid"]), int(i["vout"])) for i in intent.details.get("inputs", [])}
        for txid, vout in sorted(spent - set(expected.inputs)):
            found.append(f"spends an extra input {txid}:{vout}")
        for txid, vout in sorted(set(expected.inputs) - spent):
            found.append(f"does not spend the expected input {txid}:{vout}")
    return found


def check_intent(intent: Intent, expected: Expected) -> None:
    """Raise IntegrityError naming every difference between `intent` and `expected`."""
    found = problems(intent, expected)
    if found:
        raise IntegrityError("transaction differs from the request: " + "; ".join(found))
