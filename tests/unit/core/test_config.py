"""Configuration: file < environment < flags; each bad field is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from kinko.config import load_settings
from kinko.core.errors import ConfigError


def test_defaults_file_and_environment_precedence(tmp_path: Path) -> None:
    (tmp_path / "kinko.toml").write_text('audit_origin = "from-file"\nport = 9000\n')
    cfg = load_settings(environ={"KINKO_DATA_DIR": str(tmp_path), "KINKO_PORT": "9100"})
    assert cfg.audit_origin == "from-file"
    assert cfg.port == 9100
    assert cfg.resolved_database_url.startswith("sqlite:///")
    assert cfg.resolved_audit_key_path == tmp_path / "audit-log.key"


def test_bad_field_is_named_with_where_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"KINKO_DATA_DIR": str(tmp_path), "KINKO_PORT": "seventy"})
    assert info.value.field == "port"
    assert "KINKO_PORT" in info.value.message


def test_unknown_keys_in_the_file_are_refused(tmp_path: Path) -> None:
    (tmp_path / "kinko.toml").write_text("chekpoint_interval_s = 5\n")
    with pytest.raises(ConfigError, match="chekpoint_interval_s"):
        load_settings(environ={"KINKO_DATA_DIR": str(tmp_path)})


def test_invalid_toml_and_missing_config_file(tmp_path: Path) -> None:
    (tmp_path / "kinko.toml").write_text("port = = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(environ={"KINKO_DATA_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match="KINKO_CONFIG"):
        load_settings(environ={"KINKO_CONFIG": str(tmp_path / "missing.toml")})


def test_database_url_scheme_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="database_url"):
        load_settings(environ={"KINKO_DATA_DIR": str(tmp_path), "KINKO_DATABASE_URL": "mysql://x"})


def test_redis_url_must_be_a_redis_url(tmp_path: Path) -> None:
    env = {"KINKO_DATA_DIR": str(tmp_path), "KINKO_REDIS_URL": "http://127.0.0.1:6379"}
    with pytest.raises(ConfigError, match=r"redis_url.*redis://"):
        load_settings(environ=env)
    env["KINKO_REDIS_URL"] = "redis://127.0.0.1:6379/0"
    assert load_settings(environ=env).redis_url == "redis://127.0.0.1:6379/0"
