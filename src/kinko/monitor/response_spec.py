"""What a rule asks to be done when it fires, read from its ``kinko:`` block.

```yaml
kinko:
  response: freeze          # alert | hold_withdrawal | freeze | lock_account | step_up_mfa
  scope: wallet             # freeze only: wallet | asset | chain | all (the narrowest wanted)
  max_scope: chain          # how far the planner may widen when the evidence lacks a target
```
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ResponseAction(StrEnum):
    ALERT = "alert"
    HOLD_WITHDRAWAL = "hold_withdrawal"
    FREEZE = "freeze"
    LOCK_ACCOUNT = "lock_account"
    STEP_UP_MFA = "step_up_mfa"


class Scope(StrEnum):
    """Freeze scopes from narrowest to widest; `ALL` stops every withdrawal."""

    WALLET = "wallet"
    ASSET = "asset"
    CHAIN = "chain"
    ALL = "all"


SCOPE_ORDER = (Scope.WALLET, Scope.ASSET, Scope.CHAIN, Scope.ALL)

# The event field that names each response's target.
TARGET_FIELD: dict[Scope | ResponseAction, str] = {
    Scope.WALLET: "wallet",
    Scope.ASSET: "asset",
    Scope.CHAIN: "chain",
    ResponseAction.LOCK_ACCOUNT: "actor",
    ResponseAction.STEP_UP_MFA: "actor",
    ResponseAction.HOLD_WITHDRAWAL: "withdrawal_id",
}


@dataclass(frozen=True, slots=True)
class ResponseSpec:
    action: ResponseAction = ResponseAction.ALERT
    scope: Scope | None = None
    max_scope: Scope | None = None

    @classmethod
    def parse(cls, block: Any, *, where: str) -> ResponseSpec:
        """Parse the rule's ``kinko`` block; raises ValueError naming the key and the fix."""
        if block is None:
            return cls()
        if not isinstance(block, dict):
            raise ValueError(f"{where}: 'kinko' must be a mapping")
        unknown = set(block) - {"response", "scope", "max_scope"}
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {sorted(unknown)} in 'kinko'")
        try:
            action = ResponseAction(block.get("response", "alert"))
        except ValueError:
            choices = ", ".join(a.value for a in ResponseAction)
            raise ValueError(f"{where}: kinko.response must be one of {choices}") from None
        if action is not ResponseAction.FREEZE:
            if "scope" in block or "max_scope" in block:
                raise ValueError(f"{where}: kinko.scope only applies to response: freeze")
            return cls(action=action)
        try:
            scope = Scope(block.get("scope", "wallet"))
            max_scope = Scope(block.get("max_scope", scope.value))
        except ValueError:
            raise ValueError(
                f"{where}: kinko.scope/max_scope must be one of wallet, asset, chain, all"
            ) from None
        if SCOPE_ORDER.index(max_scope) < SCOPE_ORDER.index(scope):
            raise ValueError(f"{where}: kinko.max_scope is narrower than kinko.scope")
        return cls(action=action, scope=scope, max_scope=max_scope)

    def to_json(self) -> dict[str, str | None]:
        return {
            "action": self.action.value,
            "scope": self.scope.value if self.scope else None,
            "max_scope": self.max_scope.value if self.max_scope else None,
        }
