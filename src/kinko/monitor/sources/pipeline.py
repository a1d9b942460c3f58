"""The rule side of the source mappings: a pySigma processing pipeline applied to every
rule as it loads (`kinko.monitor.rules`), so that SigmaHQ's rules load unchanged and read
the fields the sources emit.

One clash needs it: auditd's record ``type`` (``EXECVE``, ``SYSCALL``…) and Kinko's own
event ``type`` (``auditd.execve``). The auditd mapping keeps the record type as
``record_type``; for a rule of logsource product ``linux``, service ``auditd``, this
pipeline renames the rule's ``type`` to ``record_type``. (A rule for auditd events that
wants Kinko's type names it ``event.action``.) Every other field of every source keeps the
vendor's name, which is what SigmaHQ's rules use: no other mapping is needed.
"""

from __future__ import annotations

import threading
from functools import cache

from sigma.correlations import SigmaCorrelationRule
from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation
from sigma.rule import SigmaRule

_lock = threading.Lock()  # a pipeline keeps per-rule state while it applies
AUDITD_RENAMES: dict[str, str] = {"type": "record_type"}
"""Rule field -> event field, for rules of logsource linux/auditd."""


def _mapping() -> dict[str | None, str | list[str]]:
    return {k: v for k, v in AUDITD_RENAMES.items()}


@cache
def _pipeline() -> ProcessingPipeline:
    return ProcessingPipeline(
        name="kinko sources",
        priority=10,
        items=[
            ProcessingItem(
                identifier="kinko_auditd_record_type",
                transformation=FieldMappingTransformation(_mapping()),
                rule_conditions=[LogsourceCondition(product="linux", service="auditd")],
            )
        ],
    )


def apply(rule: SigmaRule | SigmaCorrelationRule) -> None:
    """Rename the rule's fields to the sources' (in place; a rule of another logsource is
    left as it is)."""
    if isinstance(rule, SigmaRule):
        with _lock:
            _pipeline().apply(rule)


def event_field(name: str, product: str | None, service: str | None) -> str:
    """What a rule's field `name` is called in the events of a logsource (the same
    renaming as `apply`, for tools that build events from a rule's field names)."""
    if (product or "").lower() == "linux" and (service or "").lower() == "auditd":
        return AUDITD_RENAMES.get(name, name)
    return name
