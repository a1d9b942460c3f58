"""Words the console shows from data, and messages from Kinko's code, in the reader's
language (pure: the caller passes the catalogue's ``gettext``).

- `WORDS`: values shown as words (a withdrawal's state, an alert's status or level, a
  role, a policy outcome, an error's code): the English words are the msgids.
- `PATTERNS`: the messages Kinko's services write (a refusal's reason, ...) are English
  sentences with names and ids in them; each pattern reads one such sentence back into
  its msgid (the English sentence with ``%(name)s`` where the values go) and its values,
  translating those that are words or messages themselves.

A message or word no catalogue knows is shown as it is (in English): never an error.
``N_`` only marks a msgid for extraction (babel.cfg's keywords).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

Gettext = Callable[[str], str]


def N_(msgid: str) -> str:
    return msgid


WORDS: Final = {
    # withdrawal states (kinko.withdrawals.states.State)
    "requested": N_("requested"),
    "screened": N_("screened"),
    "pending_approval": N_("pending approval"),
    "approved": N_("approved"),
    "signed": N_("signed"),
    "broadcast": N_("broadcast"),
    "confirmed": N_("confirmed"),
    "denied": N_("denied"),
    "held": N_("held"),
    "expired": N_("expired"),
    "cancelled": N_("cancelled"),
    "failed": N_("failed"),
    # alert statuses and levels (kinko.monitor.alert)
    "open": N_("open"),
    "acknowledged": N_("acknowledged"),
    "resolved": N_("resolved"),
    "false_positive": N_("false positive"),
    "informational": N_("informational"),
    "low": N_("low"),
    "medium": N_("medium"),
    "high": N_("high"),
    "critical": N_("critical"),
    # responses (kinko.monitor.response_spec, kinko.monitor.service)
    "alert": N_("alert"),
    "hold_withdrawal": N_("hold withdrawal"),
    "freeze": N_("freeze"),
    "lock_account": N_("lock account"),
    "step_up_mfa": N_("step-up MFA"),
    "applied": N_("applied"),
    "released": N_("released"),
    # freeze scopes (kinko.policy.model)
    "wallet": N_("wallet"),
    "asset": N_("asset"),
    "chain": N_("chain"),
    "all": N_("all"),
    "account": N_("account"),
    # policy outcomes (kinko.policy.model)
    "deny": N_("deny"),
    "hold": N_("hold"),
    "require_approvals": N_("require approvals"),
    "allow": N_("allow"),
    # what a person approves on the approval page (kinko.web.approvals.KINDS)
    "proposal": N_("proposal"),
    "response-release": N_("response release"),
    # answers
    "approve": N_("approve"),
    "reject": N_("reject"),
    # roles (kinko.identity.permissions.Role)
    "requester": N_("requester"),
    "approver": N_("approver"),
    "senior_approver": N_("senior approver"),
    "security_admin": N_("security admin"),
    "operator": N_("operator"),
    "auditor": N_("auditor"),
    "ciso": N_("CISO"),
    # error codes (kinko.core.errors)
    "invalid_input": N_("invalid input"),
    "invalid_config": N_("invalid configuration"),
    "not_found": N_("not found"),
    "conflict": N_("conflict"),
    "unauthenticated": N_("not signed in"),
    "rate_limited": N_("too many requests"),
    "forbidden": N_("forbidden"),
    "policy_violation": N_("policy violation"),
    "approval_invalid": N_("approval invalid"),
    "integrity_failure": N_("integrity failure"),
    "unavailable": N_("unavailable"),
    # self-inspection results (kinko.inspection: a finding's status)
    "pass": N_("pass"),
    "fail": N_("fail"),
    "insufficient_evidence": N_("insufficient evidence"),
    "manual": N_("manual"),
    "passed": N_("passed"),
    "not_applicable": N_("not applicable"),
    "error": N_("error"),
}


def word(value: object, gettext: Gettext) -> str:
    """`value` (an enum's value, ``"pending_approval"``) as a word in the catalogue's
    language; an unknown value with its underscores as spaces."""
    text = str(getattr(value, "value", value))
    known = WORDS.get(text)
    return gettext(known) if known else text.replace("_", " ")


# (sentence, msgid, how each value is shown: "word", "words" (a " or " list), "message")
PATTERNS: Final[tuple[tuple[re.Pattern[str], str, dict[str, str]], ...]] = (
    (
        re.compile(
            r"you do not hold withdrawals:approve for (?P<asset>\S+) from wallet (?P<wallet>\S+)\."
        ),
        N_("you do not hold withdrawals:approve for %(asset)s from wallet %(wallet)s."),
        {},
    ),
    (
        re.compile(r"withdrawal (?P<id>\S+) is (?P<state>\S+), not pending approval"),
        N_("withdrawal %(id)s is %(state)s, not pending approval"),
        {"state": "word"},
    ),
    (
        re.compile(
            r"the transaction waiting for signatures in withdrawal (?P<id>\S+) has digest "
            r"(?P<digest>\S+), not (?P<recorded>\S+) as recorded: it was changed after Kinko "
            r"built it\. Do not approve it; tell your security team"
        ),
        N_(
            "the transaction waiting for signatures in withdrawal %(id)s has digest "
            "%(digest)s, not %(recorded)s as recorded: it was changed after Kinko built it. "
            "Do not approve it; tell your security team"
        ),
        {},
    ),
    (
        re.compile(r"withdrawal (?P<id>\S+) expired before it was approved; request it again"),
        N_("withdrawal %(id)s expired before it was approved; request it again"),
        {},
    ),
    (
        re.compile(
            r"(?P<who>.+) has already answered this withdrawal; one person counts once "
            r"\(already voted\), so approvals must come from distinct people \(four eyes\)"
        ),
        N_(
            "%(who)s has already answered this withdrawal; one person counts once (already "
            "voted), so approvals must come from distinct people (four eyes)"
        ),
        {},
    ),
    (
        re.compile(
            r"(?P<who>.+) requested this withdrawal and cannot approve it \(four eyes: the "
            r"proposer cannot approve their own proposal\); (?P<needed>.+)"
        ),
        N_(
            "%(who)s requested this withdrawal and cannot approve it (four eyes: the "
            "proposer cannot approve their own proposal); %(needed)s"
        ),
        {"needed": "message"},
    ),
    (
        re.compile(
            r"(?P<who>.+) cannot approve this withdrawal: (?P=who) holds none of the roles "
            r"eligible to approve it; (?P<needed>.+)"
        ),
        N_(
            "%(who)s cannot approve this withdrawal: %(who)s holds none of the roles "
            "eligible to approve it; %(needed)s"
        ),
        {"needed": "message"},
    ),
    (
        re.compile(r"it needs an? (?P<roles>.+) other than (?P<proposer>.+)"),
        N_("it needs someone with the role %(roles)s other than %(proposer)s"),
        {"roles": "words"},
    ),
    (
        re.compile(r"a second person must"),
        N_("a second person must approve it"),
        {},
    ),
    # a withdrawal's reason and the policy's rules (kinko.policy.engine)
    (
        re.compile(
            r"(?P<outcome>[a-z_]+) \(policy (?P<version>[^)]+)\): (?P<rule>[^:]+): (?P<reason>.+)"
        ),
        N_("%(outcome)s (policy %(version)s): %(rule)s: %(reason)s"),
        {"outcome": "word", "reason": "message"},
    ),
    (
        re.compile(r"amount (?P<amount>\d+) ≥ (?P<minimum>\d+) needs (?P<quorum>.+)"),
        N_("amount %(amount)s ≥ %(minimum)s needs %(quorum)s"),
        {"quorum": "message"},
    ),
    (
        re.compile(r"(?P<count>\d+) approvals? including (?P<roles>.+)"),
        N_("%(count)s approvals including %(roles)s"),
        {"roles": "terms"},
    ),
    (re.compile(r"(?P<count>\d+) approvals?"), N_("%(count)s approvals"), {}),
    # the cold share (kinko.custody.coldshare, kinko.custody.holdings)
    (
        re.compile(
            r"customer assets outside cold: (?P<outside>[\d.]+) JPY of (?P<owed>[\d.]+) JPY owed"
        ),
        N_("customer assets outside cold: %(outside)s JPY of %(owed)s JPY owed"),
        {},
    ),
    (
        re.compile(
            r"customer assets in cold: (?P<cold>[\d.]+) KRW of (?P<owed>[\d.]+) KRW owed "
            r"\(trailing one-year average prices\)"
        ),
        N_(
            "customer assets in cold: %(cold)s KRW of %(owed)s KRW owed (trailing one-year "
            "average prices)"
        ),
        {},
    ),
    (
        re.compile(
            r"no (?P<currency>[A-Z]+) prices on or before (?P<day>\S+); import prices first"
        ),
        N_("no %(currency)s prices on or before %(day)s; import prices first"),
        {},
    ),
)
MESSAGES: Final = (
    N_("an approval is a person's, with their own security key."),
    N_("no transaction has been built for it yet, so there is nothing to sign."),
    N_("triage needs the alerts:write permission, which you do not hold."),
    N_("your alerts:write does not cover this alert's asset or wallet."),
    N_("no prices in the trailing one-year window"),
    N_("required lists: no required list given: refusing to pass by default"),
)
MAX_DEPTH = 3  # a message inside a message inside a message, no further


def message(text: object, gettext: Gettext, depth: int = 0) -> str:
    """A message from Kinko's code in the catalogue's language: the sentence itself if the
    catalogue has it, else the first pattern it matches, else as it is."""
    sentence = str(text)
    translated = gettext(sentence) if sentence else sentence
    if translated != sentence or depth > MAX_DEPTH:
        return translated
    for pattern, msgid, kinds in PATTERNS:
        found = pattern.fullmatch(sentence)
        if found is None:
            continue
        values = found.groupdict()
        for name, kind in kinds.items():
            if kind == "word":
                values[name] = word(values[name], gettext)
            elif kind == "words":
                values[name] = " / ".join(word(w, gettext) for w in values[name].split(" or "))
            elif kind == "terms":  # "2 approver, 1 senior_approver": the words translated
                values[name] = re.sub(r"[a-z_]+", lambda w: word(w.group(0), gettext), values[name])
            elif kind == "message":
                values[name] = message(values[name], gettext, depth + 1)
        return gettext(msgid) % values
    return sentence
