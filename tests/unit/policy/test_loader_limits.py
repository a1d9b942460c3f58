"""Values no policy means to hold (a 5,000-digit integer, a file that is not UTF-8) are
refused naming the field, never with Python's own conversion error."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.core.errors import ConfigError
from kinko.policy.loader import load_policy, load_policy_file

HUGE = "9" * 5000


def policy(max_amount: str = "10", version: str = '"v1"', approvals: str = "1") -> str:
    return f"""
version: {version}
rules:
  - id: auto
    kind: auto_approve
    match: {{chain: ethereum, asset: ETH, tier: hot}}
    max_amount: {max_amount}
  - id: big
    kind: approval_tier
    match: {{chain: ethereum, asset: ETH}}
    min_amount: 11
    approvals: {approvals}
"""


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        (policy(max_amount=HUGE), "rules[0] (id=auto).max_amount", "has 5000 digits"),
        (policy(max_amount=f'"{HUGE}"'), "rules[0] (id=auto).max_amount", "has 5000 digits"),
        (policy(max_amount="1" + "0" * 78), "rules[0] (id=auto).max_amount", "more than 78"),
        (policy(approvals=HUGE), "rules[1] (id=big).approvals", "from 1 to 20"),
        (policy(version=HUGE), "version", "must be a quoted string"),
    ],
)
def test_a_5000_digit_integer_is_refused_naming_the_field(
    text: str, field: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_policy(text, source="test")
    assert caught.value.field == field and message in caught.value.message
    assert len(caught.value.message) < 300


def test_the_largest_amount_still_loads() -> None:
    loaded = load_policy(policy(max_amount="9" * 78), source="test")
    assert loaded.rules[0].id == "auto"


def test_a_policy_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(policy().encode().replace(b"auto_approve", b"auto\xe9"))
    with pytest.raises(ConfigError) as caught:
        load_policy_file(path)
    assert caught.value.field == "policy_path" and "is not UTF-8 text" in caught.value.message


def test_policy_validate_exits_2_on_a_5000_digit_integer(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(policy(max_amount=HUGE), encoding="utf-8")
    result = CliRunner().invoke(app, ["policy", "validate", str(path)], env={"KINKO_CONFIG": ""})
    assert result.exit_code == 2, result.output
    assert "max_amount" in result.output and "5000 digits" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
