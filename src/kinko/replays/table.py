"""The replays as a Markdown table (pure): the historical figures beside Kinko's."""

from __future__ import annotations

from collections.abc import Sequence

from kinko.replays.model import Result, units

HEADER = (
    "| incident | historical loss | historical detection | Kinko | loss under Kinko "
    "| share | alert after | freeze after | control(s) that acted |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:g} s"


def row(result: Result) -> str:
    s, h = result.scenario, result.scenario.historical
    controls = "; ".join(
        c.name + (f" (#{', #'.join(str(q) for q in c.audit_seqs)})" if c.audit_seqs else "")
        for c in result.controls
    )
    return (
        f"| {s.name} | {h.loss} | {h.detection} | **{result.outcome.value}** "
        f"| {units(result.loss_units, result.decimals)} {result.asset} "
        f"| {result.loss_share:.6%} | {_seconds(result.alert_after_s)} "
        f"| {_seconds(result.freeze_after_s)} | {controls or '-'} |"
    )


def markdown_table(results: Sequence[Result]) -> str:
    return "\n".join([HEADER, *(row(r) for r in results)])
