"""The console's pure formatting: amounts exact from integer base units, digests' short
codes, shares."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kinko.web.formatting import percent, short_code, units


@pytest.mark.parametrize(
    ("base", "decimals", "shown"),
    [
        (5 * 10**18, 18, "5"),
        (1_500_000_000_000_000_000, 18, "1.5"),
        (1, 18, "0.000000000000000001"),
        (123_456_789_012, 6, "123,456.789012"),
        (100_000_000, 8, "1"),
        (0, 8, "0"),
        (-250, 2, "-2.5"),
        (7, 0, "7"),
        (
            2**256 - 1,
            18,
            "115,792,089,237,316,195,423,570,985,008,687,907,853,269,984,665,640,564,039,457.584007913129639935",
        ),
    ],
)
def test_units_are_exact(base: int, decimals: int, shown: str) -> None:
    assert units(base, decimals) == shown


def test_units_refuse_what_is_not_an_integer_amount() -> None:
    with pytest.raises(TypeError, match="base units must be an integer"):
        units(1.5, 18)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="base units"):
        units(Decimal("1"), 18)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="base units"):
        units(True, 18)
    with pytest.raises(ValueError, match="decimals must be between 0 and 77"):
        units(1, -1)
    with pytest.raises(ValueError, match="decimals"):
        units(1, 78)


def test_short_code_is_the_digests_ends() -> None:
    digest = "1a2b3c4d" + "00" * 24 + "5e6f7a8b"
    assert short_code(digest) == "1A2B 3C4D … 5E6F 7A8B"
    assert short_code("0x" + digest.upper()) == "1A2B 3C4D … 5E6F 7A8B"
    other = "1a2b3c4d" + "00" * 24 + "5e6f7a8c"
    assert short_code(other) != short_code(digest)
    for bad in ("", "abc", "zz" * 32):
        with pytest.raises(ValueError, match="hex digest"):
            short_code(bad)


def test_percent() -> None:
    assert percent(Decimal(95), Decimal(100)) == "95.00"
    assert percent(Decimal(1), Decimal(3)) == "33.33"
    assert percent(Decimal(2), Decimal(3), places=4) == "66.6667"
    assert percent(Decimal(1), Decimal(0)) is None
