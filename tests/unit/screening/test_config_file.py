"""``screening.toml``: strict defaults when absent, typos and bad values refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from kinko.core.errors import ConfigError, InputError
from kinko.screening.config_file import load_screening_config
from kinko.screening.freshness import ScreeningConfig


def test_absent_file_gives_defaults(tmp_path: Path) -> None:
    assert load_screening_config(tmp_path) == ScreeningConfig()


def test_values_are_read(tmp_path: Path) -> None:
    (tmp_path / "screening.toml").write_text(
        'required_address_lists = ["ofac-sdn", "stolen-funds"]\n'
        "name_threshold = 0.9\nmax_drop_share = 0.05\n\n[max_age_days]\nofac-sdn = 2\n",
        encoding="utf-8",
    )
    config = load_screening_config(tmp_path)
    assert config.required_address_lists == ("ofac-sdn", "stolen-funds")
    assert config.name_threshold == 0.9 and config.max_drop_share == 0.05
    assert config.max_age("ofac-sdn") == timedelta(days=2)
    assert config.max_age("un-consolidated") == timedelta(days=7)  # default kept


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("name_treshold = 0.9\n", "screening.toml:name_treshold"),
        ("[max_age_days]\nofac-sdn = 0\n", "max_age_days.ofac-sdn"),
        ('required_name_lists = "ofac-sdn"\n', "required_name_lists"),
        ("name_threshold = [\n", "screening.toml"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, text: str, field: str) -> None:
    (tmp_path / "screening.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_screening_config(tmp_path)
    assert err.value.field.endswith(field)


def test_out_of_range_threshold_is_refused(tmp_path: Path) -> None:
    (tmp_path / "screening.toml").write_text("name_threshold = 0.2\n", encoding="utf-8")
    with pytest.raises(InputError, match="name_threshold"):
        load_screening_config(tmp_path)
