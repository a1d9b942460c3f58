"""The replay's records (pure): an incident as history tells it, and Kinko's outcome as
the system recorded it. JSON schema: docs/replays.md (``SCHEMA`` below names it)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

SCHEMA = "kinko.replay/1"


class Outcome(StrEnum):
    STOPPED = "stopped"  # nothing left the exchange
    BOUNDED = "bounded"  # a loss, at most the hot-wallet cap, detected and frozen
    NOT_STOPPED = "not_stopped"  # neither: Kinko would not have helped enough


@dataclass(frozen=True, slots=True)
class Source:
    """A public post-mortem or statement a figure comes from."""

    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Historical:
    """What happened, in the incident's own units, with its sources."""

    date: str  # ISO date of the first theft transaction
    chain: str  # the chain the theft happened on
    loss: str  # as the sources state it, e.g. "4,502.9 BTC (about ¥48.2bn)"
    detection: str  # how long until anyone noticed, as the sources state it
    detection_s: int | None  # the same in seconds, when the sources allow it
    sources: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class Scenario:
    """One incident, described (no behaviour): who did what, and what it is replayed on."""

    name: str
    title: str
    summary: str
    historical: Historical
    replayed_on: str  # "ethereum/devnet (eth-tester)"
    substitution: str  # "" when the incident's chain is the replay's; else what stands in
    attempted_units: int  # what the attacker's moves try to take, in replay base units
    hot_cap_units: int | None  # the hot wallet's holding under Kinko (bounded scenarios)
    not_prevented: tuple[str, ...]  # what Kinko could not have prevented, plainly


@dataclass(frozen=True, slots=True)
class Control:
    """A check or rule that acted, with the audit-log entries that record it."""

    name: str  # e.g. "signer:digest_mismatch", "rule:kinko-hot-outflow-without-withdrawal"
    audit_seqs: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Result:
    """One replay's outcome, every figure read from the chain and Kinko's records."""

    scenario: Scenario
    outcome: Outcome
    asset: str  # the replay's asset, e.g. "ETH"
    decimals: int
    loss_units: int  # left the exchange's wallets to the attacker, in base units
    alert_after_s: float | None  # simulated chain time, first theft tx -> first alert
    freeze_after_s: float | None  # the same, -> the wallet's freeze
    controls: tuple[Control, ...]
    observations: tuple[str, ...]  # what the replay saw, in the system's words
    refill_state: str | None = None  # a refill of the drained hot wallet, as Kinko left it
    notice_after_s: float | None = None  # first theft tx -> the draft incident notice saved
    weak_key: str | None = None  # the nonce self-test's verdict before the theft, if run

    @property
    def loss_share(self) -> float:
        """The loss as a share of what the attacker's moves tried to take (historical)."""
        attempted = self.scenario.attempted_units
        return self.loss_units / attempted if attempted else 0.0

    def to_json(self) -> dict[str, Any]:
        scenario, history = self.scenario, self.scenario.historical
        return {
            "schema": SCHEMA,
            "name": scenario.name,
            "title": scenario.title,
            "summary": scenario.summary,
            "historical": {
                "date": history.date,
                "chain": history.chain,
                "loss": history.loss,
                "detection": history.detection,
                "detection_s": history.detection_s,
                "sources": [{"title": s.title, "url": s.url} for s in history.sources],
            },
            "replayed_on": scenario.replayed_on,
            "substitution": scenario.substitution,
            "outcome": self.outcome.value,
            "asset": self.asset,
            "decimals": self.decimals,
            "attempted_units": str(scenario.attempted_units),
            "hot_cap_units": None
            if scenario.hot_cap_units is None
            else str(scenario.hot_cap_units),
            "loss_units": str(self.loss_units),
            "loss_share": self.loss_share,
            "alert_after_s": self.alert_after_s,
            "freeze_after_s": self.freeze_after_s,
            "controls": [{"name": c.name, "audit_seqs": list(c.audit_seqs)} for c in self.controls],
            "refill_state": self.refill_state,
            "notice_after_s": self.notice_after_s,
            "weak_key": self.weak_key,
            "observations": list(self.observations),
            "not_prevented": list(scenario.not_prevented),
        }


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


def units(amount: int, decimals: int) -> str:
    """`amount` base units as an exact decimal string ("1.5")."""
    whole, frac = divmod(amount, 10**decimals)
    text = f"{whole:,}"
    if frac:
        text += "." + f"{frac:0{decimals}d}".rstrip("0")
    return text
