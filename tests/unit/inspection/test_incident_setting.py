"""The setting incident_report_deadlines (docs/configuration.md): a TOML table or list, or
the environment's comma- or space-separated text; a bad entry names the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from kinko.config import load_settings
from kinko.core.errors import ConfigError


def settings_from(tmp_path: Path, toml: str, **env: str) -> tuple[str, ...]:
    (tmp_path / "kinko.toml").write_text(toml, encoding="utf-8")
    environ = {"KINKO_DATA_DIR": str(tmp_path), **env}
    return load_settings(environ=environ).incident_report_deadlines


def test_a_toml_table_a_list_and_the_environment_are_read(tmp_path: Path) -> None:
    table = '[incident_report_deadlines]\njp = "24h"\nkr = "12h"\n'
    assert settings_from(tmp_path, table) == ("jp=24h", "kr=12h")
    assert settings_from(tmp_path, 'incident_report_deadlines = ["jp=2d"]\n') == ("jp=2d",)
    got = settings_from(tmp_path, "", KINKO_INCIDENT_REPORT_DEADLINES="jp=30m, kr=1h")
    assert got == ("jp=30m", "kr=1h")
    assert settings_from(tmp_path, "") == ()


def test_a_bad_entry_is_refused_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"incident_report_deadlines.*'kr=soon' is not"):
        settings_from(tmp_path, 'incident_report_deadlines = ["kr=soon"]\n')
    with pytest.raises(ConfigError, match="jp is given twice"):
        settings_from(tmp_path, "", KINKO_INCIDENT_REPORT_DEADLINES="jp=1h jp=2h")
