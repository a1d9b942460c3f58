"""Sigma keyword searches (field-less values) over a mapped source's free text.

Kinko's own events have no free-text body, so a keyword rule is refused for them; a mapped
source whose records carry one (`kinko.monitor.sources.BODY_FIELDS`: sshd's ``MESSAGE``)
lets SigmaHQ's keyword rules for its logsource load unchanged. A keyword matches when it
occurs in that text, case-insensitively (Unicode case folding, as field values compare),
``*`` and ``?`` being wildcards: what SIEM backends do with a keyword over a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sigma import types as st
from sigma.rule import SigmaRule

from kinko.monitor.sources import BODY_FIELDS


def body_field(rule: SigmaRule) -> str | None:
    """The free-text field of the rule's logsource, or None (no keyword search there)."""
    ls = rule.logsource
    product = (ls.product or "").lower()
    return BODY_FIELDS.get(product, {}).get((ls.service or "").lower())


def keyword_test(value: st.SigmaString) -> Callable[[str], bool]:
    """Whether the keyword occurs in a text (ValueError: an unresolved placeholder)."""
    parts: list[str | st.SpecialChars] = []
    for part in value.s:
        if not isinstance(part, str | st.SpecialChars):
            raise ValueError(f"keyword {value!s} holds an unresolved placeholder")
        parts.append(part)
    if all(isinstance(p, str) for p in parts):
        word = "".join(p for p in parts if isinstance(p, str)).casefold()
        return lambda s: word in s.casefold()
    many = st.SpecialChars.WILDCARD_MULTI
    pattern = "".join(
        re.escape(p.casefold()) if isinstance(p, str) else (".*" if p is many else ".")
        for p in parts
    )
    compiled = re.compile(pattern, re.DOTALL)
    return lambda s: compiled.search(s.casefold()) is not None
