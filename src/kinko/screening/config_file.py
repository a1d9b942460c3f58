"""Screening settings from ``<data dir>/screening.toml`` (absent: the strict defaults).

    required_address_lists = ["ofac-sdn", "stolen-funds"]
    required_name_lists = ["ofac-sdn", "un-consolidated"]
    default_max_age_days = 30
    max_drop_share = 0.1
    name_threshold = 0.88

    [max_age_days]
    ofac-sdn = 7
    kr-mofa = 90

Unknown keys are refused, so a typo never leaves a control at its default.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

from kinko.core.errors import ConfigError
from kinko.screening.freshness import ScreeningConfig
from kinko.screening.model import ListName

FILE_NAME = "screening.toml"
_KEYS = {
    "required_address_lists",
    "required_name_lists",
    "default_max_age_days",
    "max_age_days",
    "max_drop_share",
    "name_threshold",
}


def load_screening_config(data_dir: Path) -> ScreeningConfig:
    path = data_dir / FILE_NAME
    if not path.is_file():
        return ScreeningConfig()
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"is not valid TOML: {exc}") from exc
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ConfigError(
            f"{path.name}:{unknown[0]}", f"unknown key; the keys are {', '.join(sorted(_KEYS))}"
        )
    defaults = ScreeningConfig()
    try:
        ages = {
            ListName(str(name)): timedelta(days=_positive(days, f"max_age_days.{name}"))
            for name, days in raw.get("max_age_days", {}).items()
        }
        return ScreeningConfig(
            required_address_lists=_names(raw, "required_address_lists", defaults),
            required_name_lists=_names(raw, "required_name_lists", defaults),
            max_ages={**defaults.max_ages, **ages},
            default_max_age=timedelta(
                days=_positive(
                    raw.get("default_max_age_days", defaults.default_max_age.days),
                    "default_max_age_days",
                )
            ),
            max_drop_share=float(raw.get("max_drop_share", defaults.max_drop_share)),
            name_threshold=float(raw.get("name_threshold", defaults.name_threshold)),
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(path.name, f"has a value of the wrong type: {exc}") from exc


def _positive(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(field, f"must be a whole number of days above 0, got {value!r}")
    return value


def _names(raw: dict[str, Any], key: str, defaults: ScreeningConfig) -> tuple[ListName, ...]:
    if key not in raw:
        return tuple(getattr(defaults, key))
    value = raw[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(key, 'must be a list of list names, e.g. ["ofac-sdn"]')
    return tuple(ListName(v) for v in value)
