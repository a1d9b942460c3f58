"""Load a policy from YAML and validate all of it before anything uses it.

Any problem refuses the whole file with a `ConfigError` naming the rule and field, e.g.
``rules[2] (id=eth-hot-max).max: must be an integer number of base units``. Nothing
half-loaded is ever returned. The format is documented in ``docs/policy.md``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import time, timedelta
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from kinko.chains.base import CallKind
from kinko.core.errors import ConfigError, InputError
from kinko.core.textfile import decode_text
from kinko.custody.model import Tier
from kinko.policy.model import Outcome, VelocityScope, Weekday
from kinko.policy.rules import (
    Allowlist,
    ApprovalTier,
    AutoApprove,
    Match,
    Policy,
    Rule,
    TimeWindow,
    TransferMax,
    Velocity,
)

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
_DURATION = re.compile(r"^([1-9][0-9]*)(s|min|m|h|d)$")
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_TOP_KEYS = {
    "version",
    "description",
    "freeze_outcome",
    "allowed_call_kinds",
    "cooling_off",
    "rules",
}
_MATCH_KEYS = {"chain", "asset", "wallet", "tier"}
_RULE_KEYS: dict[str, set[str]] = {
    "transfer_max": {"max"},
    "velocity": {"scope", "window", "limit", "on_exceed"},
    "approval_tier": {"min_amount", "approvals", "roles"},
    "auto_approve": {"max_amount"},
    "allowlist": set(),
    "time_window": {"days", "start", "end", "timezone", "on_outside"},
}
_AMOUNT_KINDS = {"transfer_max", "velocity", "approval_tier", "auto_approve"}
DEFAULT_COOLING_OFF = timedelta(hours=48)
MAX_AMOUNT_DIGITS = 78
"""Base units are stored as NUMERIC(78, 0): enough for any 256-bit amount."""
E = TypeVar("E", Tier, VelocityScope, CallKind)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate keys (YAML would silently keep the last)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise ConfigError(
                f"line {key_node.start_mark.line + 1}", f"duplicate key {_short(key)}; keep one"
            )
        seen.add(key)
    return dict(loader.construct_mapping(node))


class _TooLongInteger(str):
    """An integer literal with more digits than Python converts (4,300 by default): kept
    as its text, so the field's own check refuses it with the field's name."""


def _integer(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> object:
    try:
        return loader.construct_yaml_int(node)
    except ValueError:
        return _TooLongInteger(loader.construct_scalar(node))


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _unique_mapping,
)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _integer)


def load_policy(text: str, *, source: str) -> Policy:
    """Parse and validate `text` (YAML). `source` names where it came from, for messages."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError(source, f"is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not data:
        raise ConfigError(source, "is empty; a policy needs a version and rules")
    _no_unknown(data, _TOP_KEYS, "policy")
    version = data.get("version")
    if not isinstance(version, str) or not _VERSION.match(version):
        raise ConfigError(
            "version", 'must be a quoted string such as "2026-11-21.1" (letters, digits, ._+-)'
        )
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise ConfigError("rules", "must be a non-empty list; an empty policy would decide nothing")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        rule = _rule(index, raw)
        if rule.id in seen:
            raise ConfigError(f"rules[{index}].id", f"{rule.id!r} is used twice; ids are unique")
        seen.add(rule.id)
        rules.append(rule)
    if not any(isinstance(r, ApprovalTier | AutoApprove) for r in rules):
        raise ConfigError(
            "rules", "has no approval_tier or auto_approve rule, so every request would be denied"
        )
    return Policy(
        version=version,
        digest=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source=source,
        rules=tuple(rules),
        freeze_outcome=_outcome(data.get("freeze_outcome", "deny"), "freeze_outcome"),
        allowed_call_kinds=_call_kinds(data.get("allowed_call_kinds")),
        cooling_off=_cooling_off(data.get("cooling_off")),
        text=text,
    )


def load_policy_file(path: Path) -> Policy:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError("policy_path", f"cannot read {path}: {exc.strerror}") from exc
    try:
        text = decode_text(raw, field="policy_path", name=str(path))
    except InputError as exc:
        raise ConfigError("policy_path", exc.message.removeprefix("policy_path: ")) from None
    return load_policy(text, source=str(path))


def default_policy() -> Policy:
    """The sample policy shipped with Kinko (``kinko/policy/default_policy.yaml``)."""
    text = resources.files("kinko.policy").joinpath("default_policy.yaml").read_text("utf-8")
    return load_policy(text, source="kinko/policy/default_policy.yaml")


def _rule(index: int, raw: object) -> Rule:
    where = f"rules[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be a mapping with id, kind and the kind's fields")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise ConfigError(f"{where}.id", "must be a lower-case id such as 'eth-hot-max'")
    where = f"{where} (id={rule_id})"
    kind = raw.get("kind")
    if kind not in _RULE_KEYS:
        raise ConfigError(
            f"{where}.kind", f"{_short(kind)} is not one of {', '.join(sorted(_RULE_KEYS))}"
        )
    _no_unknown(raw, {"id", "kind", "match", "description"} | _RULE_KEYS[kind], where)
    match = _match(raw.get("match", {}), f"{where}.match")
    if kind in _AMOUNT_KINDS and match.single_asset() is None:
        raise ConfigError(
            f"{where}.match",
            "a rule with an amount must name exactly one chain and one asset "
            "(amounts are base units of that asset)",
        )
    if kind == "transfer_max":
        return TransferMax(rule_id, match, _amount(raw.get("max"), f"{where}.max"))
    if kind == "velocity":
        return Velocity(
            rule_id,
            match,
            scope=_enum(VelocityScope, raw.get("scope"), f"{where}.scope"),
            window=_duration(raw.get("window"), f"{where}.window"),
            limit=_amount(raw.get("limit"), f"{where}.limit"),
            on_exceed=_gate_outcome(raw.get("on_exceed", "deny"), f"{where}.on_exceed"),
        )
    if kind == "approval_tier":
        return _approval_tier(rule_id, match, raw, where)
    if kind == "auto_approve":
        if match.tiers != frozenset({Tier.HOT}):
            raise ConfigError(
                f"{where}.match.tier", "auto_approve applies only to hot wallets: set tier: hot"
            )
        return AutoApprove(rule_id, match, _amount(raw.get("max_amount"), f"{where}.max_amount"))
    if kind == "allowlist":
        return Allowlist(rule_id, match)
    return _time_window(rule_id, match, raw, where)


def _approval_tier(rule_id: str, match: Match, raw: dict[str, Any], where: str) -> ApprovalTier:
    approvals = raw.get("approvals")
    if isinstance(approvals, bool) or not isinstance(approvals, int) or not 1 <= approvals <= 20:
        raise ConfigError(f"{where}.approvals", "must be an integer from 1 to 20")
    roles_raw = raw.get("roles", {})
    if not isinstance(roles_raw, dict):
        raise ConfigError(f"{where}.roles", "must map role names to counts, e.g. {approver: 2}")
    roles: dict[str, int] = {}
    for role, count in roles_raw.items():
        if not isinstance(role, str) or not _ID.match(role):
            raise ConfigError(f"{where}.roles", f"{_short(role)} is not a role name")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= approvals:
            raise ConfigError(
                f"{where}.roles.{role}", f"must be an integer from 1 to approvals ({approvals})"
            )
        roles[role] = count
    return ApprovalTier(
        rule_id,
        match,
        min_amount=_amount(raw.get("min_amount", 1), f"{where}.min_amount"),
        approvals=approvals,
        roles=MappingProxyType(roles),
    )


def _time_window(rule_id: str, match: Match, raw: dict[str, Any], where: str) -> TimeWindow:
    zone = raw.get("timezone", "UTC")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{where}.timezone", f"{_short(zone)} is not an IANA time zone") from exc
    days_raw = raw.get("days", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    if not isinstance(days_raw, list) or not days_raw:
        raise ConfigError(f"{where}.days", "must be a non-empty list such as [mon, tue]")
    days = set()
    for day in days_raw:
        if not isinstance(day, str) or day.upper() not in Weekday.__members__:
            raise ConfigError(f"{where}.days", f"{_short(day)} is not one of mon..sun")
        days.add(Weekday[day.upper()])
    start = _clock(raw.get("start"), f"{where}.start")
    end = _clock(raw.get("end"), f"{where}.end")
    if start == end:
        raise ConfigError(f"{where}.end", "must differ from start (an empty window)")
    return TimeWindow(
        rule_id,
        match,
        days=frozenset(days),
        start=start,
        end=end,
        timezone=str(zone),
        on_outside=_gate_outcome(raw.get("on_outside", "hold"), f"{where}.on_outside"),
    )


def _match(raw: object, where: str) -> Match:
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be a mapping of chain / asset / wallet / tier")
    _no_unknown(raw, _MATCH_KEYS, where)
    tiers = _names(raw.get("tier"), f"{where}.tier")
    return Match(
        chains=_names(raw.get("chain"), f"{where}.chain"),
        assets=_names(raw.get("asset"), f"{where}.asset"),
        wallets=_names(raw.get("wallet"), f"{where}.wallet"),
        tiers=None if tiers is None else frozenset(_enum(Tier, t, f"{where}.tier") for t in tiers),
    )


def _names(raw: object, where: str) -> frozenset[str] | None:
    if raw is None:
        return None
    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(i, str) and i for i in items):
        raise ConfigError(where, "must be a name or a non-empty list of names")
    return frozenset(str(i) for i in items)


def _short(value: object) -> str:
    """`value`'s repr, cut short: a message must stay readable whatever was written."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}... ({len(text)} characters)"


def _amount(raw: object, where: str) -> int:
    """Base units as an integer or a string of digits; floats and decimals are refused."""
    digits = raw.lstrip("+") if isinstance(raw, str) else ""
    if digits.isascii() and digits.isdigit() and len(digits) > MAX_AMOUNT_DIGITS:
        raise ConfigError(
            where,
            f"has {len(digits)} digits; an amount in base units has at most "
            f"{MAX_AMOUNT_DIGITS} (e.g. 100000000 for 1 BTC)",
        )
    if isinstance(raw, str) and raw.isascii() and raw.isdigit():
        value = int(raw)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    else:
        raise ConfigError(
            where,
            f"{_short(raw)} must be an integer number of base units (e.g. 100000000 for 1 BTC)",
        )
    if value >= 10**MAX_AMOUNT_DIGITS:
        raise ConfigError(
            where, f"has more than {MAX_AMOUNT_DIGITS} digits; an amount in base units cannot"
        )
    if value <= 0:
        raise ConfigError(where, f"must be greater than zero, got {value}")
    return value


def _duration(raw: object, where: str) -> timedelta:
    match = _DURATION.match(raw) if isinstance(raw, str) else None
    if match is None:
        raise ConfigError(where, f"{_short(raw)} is not a duration such as 10min, 1h or 24h")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def _clock(raw: object, where: str) -> time:
    match = _CLOCK.match(raw) if isinstance(raw, str) else None
    if match is None:
        raise ConfigError(where, f'{_short(raw)} is not a quoted 24-hour time such as "09:00"')
    return time(int(match.group(1)), int(match.group(2)))


def _outcome(raw: object, where: str) -> Outcome:
    return _gate_outcome(raw, where)


def _gate_outcome(raw: object, where: str) -> Outcome:
    if raw not in ("deny", "hold"):
        raise ConfigError(where, f"{_short(raw)} must be deny or hold")
    return Outcome(raw)


def _call_kinds(raw: object) -> frozenset[CallKind]:
    if raw is None:
        return frozenset({CallKind.NATIVE_TRANSFER, CallKind.TOKEN_TRANSFER})
    if not isinstance(raw, list) or not raw:
        raise ConfigError("allowed_call_kinds", "must be a non-empty list of call kinds")
    kinds = frozenset(_enum(CallKind, k, "allowed_call_kinds") for k in raw)
    if CallKind.DANGEROUS in kinds:
        raise ConfigError(
            "allowed_call_kinds", "dangerous calls (upgrades, delegatecall) can never be allowed"
        )
    return kinds


def _cooling_off(raw: object) -> Mapping[Tier, timedelta]:
    periods = dict.fromkeys(Tier, DEFAULT_COOLING_OFF)
    if raw is None:
        return MappingProxyType(periods)
    if not isinstance(raw, dict):
        raise ConfigError("cooling_off", "must map tiers to durations, e.g. {cold: 72h}")
    for tier, duration in raw.items():
        periods[_enum(Tier, tier, "cooling_off")] = _duration(duration, f"cooling_off.{tier}")
    return MappingProxyType(periods)


def _enum(cls: type[E], raw: object, where: str) -> E:
    choices = ", ".join(m.value for m in cls)
    if not isinstance(raw, str):
        raise ConfigError(where, f"{_short(raw)} is not one of {choices}")
    try:
        return cls(raw)
    except ValueError:
        raise ConfigError(where, f"{_short(raw)} is not one of {choices}") from None


def _no_unknown(raw: Mapping[Any, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise ConfigError(
            where, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
